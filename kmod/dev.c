// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/lfq and ring fds: the device glue of lfq.ko.
 *
 * /dev/lfq only creates: LFQ_IOC_CREATE returns a new close-on-exec ring
 * fd (an anonymous inode). Everything else happens on the ring fd:
 * LFQ_IOC_INFO, LFQ_IOC_WAKE, mmap of the descriptor (read-only) and the
 * ring region (shared, read-write), poll/epoll, and fdinfo.
 */
#include <linux/anon_inodes.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "internal.h"

static long lfq_ring_ioctl_info(struct lfq_ring *ring, void __user *arg)
{
	if (copy_to_user(arg, &ring->info, sizeof(ring->info)))
		return -EFAULT;
	return 0;
}

static long lfq_ring_ioctl_wake(struct lfq_ring *ring, unsigned long arg)
{
	unsigned int dir;

	if (!arg || arg & ~(unsigned long)LFQ_WAKE_ALL)
		return -EINVAL;
	for (dir = 0; dir < LFQ_NR_WAIT; dir++)
		if (arg & (1UL << dir))
			wake_up_interruptible_all(&ring->wq[dir]);
	return 0;
}

static long lfq_ring_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct lfq_ring *ring = file->private_data;

	switch (cmd) {
	case LFQ_IOC_INFO:
		return lfq_ring_ioctl_info(ring, (void __user *)arg);
	case LFQ_IOC_WAKE:
		return lfq_ring_ioctl_wake(ring, arg);
	}
	return -ENOTTY;
}

static void lfq_vma_clear_maywrite(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, VM_MAYWRITE);
#else
	vma->vm_flags &= ~VM_MAYWRITE;
#endif
}

/*
 * Least privilege: the descriptor holds the geometry and the kernel's
 * error counter, so it is mapped read-only and can never be made
 * writable (no VM_MAYWRITE). The ring region must be a shared mapping:
 * a private copy would silently stop talking to the other side.
 */
static int lfq_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lfq_ring *ring = file->private_data;
	unsigned long size = vma->vm_end - vma->vm_start;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	switch (off) {
	case LFQ_OFF_DESC:
		if (size > ring->info.desc_size)
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		lfq_vma_clear_maywrite(vma);
		return remap_vmalloc_range(vma, ring->area, 0);
	case LFQ_OFF_RING:
		if (size > ring->info.ring_size)
			return -EINVAL;
		if (!(vma->vm_flags & VM_SHARED))
			return -EINVAL;
		return remap_vmalloc_range(vma, ring->area,
					   ring->info.desc_size >> PAGE_SHIFT);
	}
	return -EINVAL;
}

static __poll_t lfq_ring_poll(struct file *file, poll_table *wait)
{
	struct lfq_ring *ring = file->private_data;

	poll_wait(file, &ring->wq[LFQ_NOT_EMPTY], wait);
	poll_wait(file, &ring->wq[LFQ_NOT_FULL], wait);
	return lfq_ring_poll_mask(ring);
}

static void lfq_ring_show_fdinfo(struct seq_file *m, struct file *file)
{
	lfq_ring_show(m, file->private_data);
}

static int lfq_ring_file_release(struct inode *inode, struct file *file)
{
	lfq_ring_put(file->private_data);
	return 0;
}

const struct file_operations lfq_ring_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lfq_ring_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= lfq_ring_mmap,
	.poll		= lfq_ring_poll,
	.show_fdinfo	= lfq_ring_show_fdinfo,
	.release	= lfq_ring_file_release,
	.llseek		= noop_llseek,
};

static long lfq_dev_ioctl_create(void __user *arg)
{
	struct lfq_create params;
	struct lfq_ring *ring;
	int fd;

	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	ring = lfq_ring_create(&params);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	/* the file takes over our reference */
	fd = anon_inode_getfd("[lfq]", &lfq_ring_fops, ring, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		lfq_ring_put(ring);
	return fd;
}

static long lfq_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case LFQ_IOC_CREATE:
		return lfq_dev_ioctl_create((void __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations lfq_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lfq_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/*
 * World-usable like /dev/kvm: every ring is charged to its creator's
 * memory cgroup and bounded by max_ring_bytes.
 */
static struct miscdevice lfq_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lfq",
	.fops	= &lfq_dev_fops,
	.mode	= 0666,
};

module_misc_device(lfq_misc);

MODULE_DESCRIPTION("lfq: bounded lock-free rings shared by the kernel and userspace");
MODULE_LICENSE("GPL");
