// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/lfq and ring fds: the device glue of lfq.ko.
 *
 * /dev/lfq only creates: LFQ_IOC_CREATE returns a new close-on-exec ring
 * fd (an anonymous inode). Everything else happens on the ring fd:
 * LFQ_IOC_INFO, LFQ_IOC_WAKE, LFQ_IOC_WAIT, LFQ_IOC_JOIN, mmap of the
 * descriptor (read-only) and the ring region (shared, read-write),
 * poll/epoll, and fdinfo.
 */
#include <linux/anon_inodes.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
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
	lfq_ring_touch_repair(ring);
	for (dir = 0; dir < LFQ_NR_WAIT; dir++) {
		if (!(arg & (1UL << dir)))
			continue;
		/* F: pairs with the acquire load of futex in user/ring.c */
		atomic_inc((atomic_t *)&ring->wait[dir]->futex);
		lfq_wake_wq(ring, dir);
	}
	return 0;
}

/*
 * A futex on the ring's wait word, for user sleepers: every waker bumps
 * the word before it wakes the queue (lfq_wake() and LFQ_IOC_WAKE), and
 * the condition is checked after we are queued, so a wake-up after the
 * caller read seq is never lost. A parked repair starts again: somebody
 * waits on the ring.
 */
static long lfq_ring_ioctl_wait(struct lfq_ring *ring, void __user *arg)
{
	struct lfq_wait_req req;
	unsigned int dir;
	long ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.__pad || req.timeout_ms < -1 ||
	    (req.dir != LFQ_WAKE_NOT_EMPTY && req.dir != LFQ_WAKE_NOT_FULL))
		return -EINVAL;
	dir = ilog2(req.dir);
	lfq_ring_touch_repair(ring);
	/* an hrtimer, as futex waits use: never less than the time asked */
	if (req.timeout_ms < 0)
		ret = wait_event_interruptible(ring->wq[dir],
			READ_ONCE(ring->wait[dir]->futex) != req.seq);
	else
		ret = wait_event_interruptible_hrtimeout(ring->wq[dir],
			READ_ONCE(ring->wait[dir]->futex) != req.seq,
			ms_to_ktime(req.timeout_ms));
	/*
	 * The caller counted itself in waiters before it came to sleep. A
	 * task killed here (woken or not) never returns to take itself off
	 * again, which would cost every later waker a needless wake-up: do
	 * it for it.
	 */
	if (fatal_signal_pending(current))
		atomic_add_unless((atomic_t *)&ring->wait[dir]->waiters, -1, 0);
	if (ret == -ETIME)
		return -ETIMEDOUT;
	return ret ? -EINTR : 0;
}

static struct lfq_file *lfq_file_alloc(struct lfq_ring *ring, int rec)
{
	struct lfq_file *lf = kzalloc(sizeof(*lf), GFP_KERNEL_ACCOUNT);

	if (lf) {
		lf->ring = ring;
		lf->rec = rec;
	}
	return lf;
}

static int lfq_ring_getfd(struct lfq_file *lf)
{
	return anon_inode_getfd("[lfq]", &lfq_ring_fops, lf, O_RDWR | O_CLOEXEC);
}

/*
 * A new ring fd that owns a claim record: the participant's own, so that
 * its release says the participant is gone. The record index goes to
 * *arg; the new fd is returned.
 */
static long lfq_ring_ioctl_join(struct lfq_ring *ring, u32 __user *arg)
{
	struct lfq_file *lf;
	int rec, fd;

	rec = lfq_ring_join(ring);
	if (rec < 0)
		return rec;
	lf = lfq_file_alloc(lfq_ring_get(ring), rec);
	if (!lf) {
		fd = -ENOMEM;
		goto err_leave;
	}
	if (put_user(rec, arg)) {
		fd = -EFAULT;
		goto err_free;
	}
	fd = lfq_ring_getfd(lf);
	if (fd < 0)
		goto err_free;
	return fd;

err_free:
	kfree(lf);
err_leave:
	lfq_ring_leave(ring, rec);
	lfq_ring_put(ring);
	return fd;
}

static long lfq_ring_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct lfq_ring *ring = ((struct lfq_file *)file->private_data)->ring;

	switch (cmd) {
	case LFQ_IOC_INFO:
		return lfq_ring_ioctl_info(ring, (void __user *)arg);
	case LFQ_IOC_WAKE:
		return lfq_ring_ioctl_wake(ring, arg);
	case LFQ_IOC_WAIT:
		return lfq_ring_ioctl_wait(ring, (void __user *)arg);
	case LFQ_IOC_JOIN:
		return lfq_ring_ioctl_join(ring, (u32 __user *)arg);
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
	struct lfq_ring *ring = ((struct lfq_file *)file->private_data)->ring;
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
	struct lfq_file *lf = file->private_data;
	struct lfq_ring *ring = lf->ring;

	poll_wait(file, &ring->wq[LFQ_NOT_EMPTY], wait);
	poll_wait(file, &ring->wq[LFQ_NOT_FULL], wait);
	return lfq_ring_poll_mask(ring, lf->rec);
}

static void lfq_ring_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct lfq_file *lf = file->private_data;

	lfq_ring_show(m, lf->ring);
	if (lf->rec >= 0)
		seq_printf(m, "lfq-claim:\t%d\n", lf->rec);
}

/* The last reference to this fd: its mappings and fd table entries. */
static int lfq_ring_file_release(struct inode *inode, struct file *file)
{
	struct lfq_file *lf = file->private_data;

	if (lf->rec >= 0)
		lfq_ring_leave(lf->ring, lf->rec);
	lfq_ring_put(lf->ring);
	kfree(lf);
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
	struct lfq_file *lf;
	int fd;

	if (copy_from_user(&params, arg, sizeof(params)))
		return -EFAULT;
	ring = lfq_ring_create(&params);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	/* the file takes over our reference */
	lf = lfq_file_alloc(ring, -1);
	fd = lf ? lfq_ring_getfd(lf) : -ENOMEM;
	if (fd < 0) {
		kfree(lf);
		lfq_ring_put(ring);
	}
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
