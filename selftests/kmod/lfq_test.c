// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_test.ko: the kernel peer of lfq.ko, written only against its exported
 * symbols, as another subsystem would be.
 *
 * At load it tests the in-kernel API and runs a kthread stress of the
 * Vyukov ring (producers x consumers, small capacities so that both sides
 * sleep and wake each other), prints KTAP, and fails the load on any
 * error. Its misc device /dev/lfq_test then lets userspace attach kernel
 * producer or consumer threads to a ring fd (see lfq_test.h), so that
 * user->kernel and kernel->user transfers can be checked, and so can a
 * ring that userspace corrupts on purpose.
 *
 * Every job is bounded: a thread stops when the ring has made no progress
 * for the job's timeout, on a ring error, or when the job fd is closed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kmod/lfq.h"
#include "selftests/lfq_test_item.h"
#include "selftests/kmod/lfq_test.h"
#include "kselftest_module.h"

static bool stress = true;
module_param(stress, bool, 0444);
MODULE_PARM_DESC(stress, "Run the kthread stress at load (default true)");

static unsigned int scale = 1;
module_param(scale, uint, 0444);
MODULE_PARM_DESC(scale, "Multiply the load-time stress item counts (default 1)");

/* Largest seen-bitmap of a consumer job, in bits (32 MiB). */
#define JOB_MAX_SEEN	(1ULL << 28)

struct job;

struct job_thread {
	struct job *job;
	struct task_struct *task;
	unsigned int index;
};

struct job {
	struct lfq_ring *ring;
	struct lfq_test_job p;
	u32 elem_size;
	unsigned long timeout;		/* jiffies without progress */
	unsigned long last_progress;	/* jiffies */
	struct job_thread threads[LFQ_TEST_MAX_THREADS];
	atomic_t running;
	struct completion done;
	atomic64_t moved, malformed, duplicates, misordered;
	atomic_t error;
	unsigned long *seen;		/* consume: producers * items bits */
	u64 start_ns, end_ns;
};

static void job_progress(struct job *job, int moved)
{
	atomic64_add(moved, &job->moved);
	WRITE_ONCE(job->last_progress, jiffies);
}

/* A wait timed out: give up once the whole job has stalled too long. */
static bool job_stalled(struct job *job)
{
	return time_after(jiffies, READ_ONCE(job->last_progress) + job->timeout);
}

static void job_fail(struct job *job, int err)
{
	atomic_cmpxchg(&job->error, 0, err);
}

/*
 * Whether to call again after ret: on a timeout, and on a corrupt ring
 * (-EIO, recorded), until the job has made no progress for its timeout.
 * Going on with a corrupt ring is the point: the kernel must stay bounded
 * and sane for as long as userspace keeps scribbling.
 */
static bool job_retry(struct job *job, int ret)
{
	if (ret != -ETIMEDOUT && ret != -EIO)
		return false;
	if (ret == -EIO) {
		job_fail(job, ret);
		cond_resched();
	}
	return !job_stalled(job);
}

/* Check one popped item, our own private copy, against what we saw. */
static void job_check(struct job *job, s64 *last, const void *elem)
{
	const struct lfq_test_item *it = elem;
	u64 items = job->p.items;

	if (lfq_test_item_bad(elem, job->elem_size, job->p.producers) ||
	    it->seq >= items) {
		atomic64_inc(&job->malformed);
		return;
	}
	if (test_and_set_bit(it->producer * items + it->seq, job->seen))
		atomic64_inc(&job->duplicates);
	if ((s64)it->seq <= last[it->producer])
		atomic64_inc(&job->misordered);
	last[it->producer] = it->seq;
}

static int job_produce(struct job *job, unsigned int index, u8 *buf)
{
	u32 id = job->p.producers + index, size = job->elem_size;
	u64 seq = 0;
	int ret, i, n;

	while (seq < job->p.items) {
		n = min_t(u64, job->p.burst, job->p.items - seq);
		for (i = 0; i < n; i++)
			lfq_test_item_make(buf + i * size, size, id, seq + i);
		ret = lfq_vyukov_push_burst(job->ring, buf, n, HZ / 10);
		if (job_retry(job, ret))
			continue;
		if (ret < 0)
			return ret;
		seq += ret;
		job_progress(job, ret);
	}
	return 0;
}

static int job_consume(struct job *job, u8 *buf)
{
	u64 total = job->p.items * job->p.producers;
	unsigned int i;
	s64 *last;
	int ret = 0;

	last = kmalloc_array(job->p.producers, sizeof(*last), GFP_KERNEL);
	if (!last)
		return -ENOMEM;
	for (i = 0; i < job->p.producers; i++)
		last[i] = -1;
	/* stop when all items are in, whichever thread popped them */
	while (atomic64_read(&job->moved) < total) {
		ret = lfq_vyukov_pop_burst(job->ring, buf, job->p.burst, HZ / 10);
		if (job_retry(job, ret)) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		job_progress(job, ret);
		for (i = 0; i < ret; i++)
			job_check(job, last, buf + i * job->elem_size);
		ret = 0;
	}
	kfree(last);
	return ret;
}

static int job_thread_fn(void *arg)
{
	struct job_thread *t = arg;
	struct job *job = t->job;
	u8 *buf;
	int ret;

	buf = kmalloc_array(job->p.burst, job->elem_size, GFP_KERNEL);
	if (!buf)
		ret = -ENOMEM;
	else if (job->p.role == LFQ_TEST_PRODUCE)
		ret = job_produce(job, t->index, buf);
	else
		ret = job_consume(job, buf);
	kfree(buf);
	if (ret && ret != -EINTR)
		job_fail(job, ret);
	if (atomic_dec_and_test(&job->running)) {
		job->end_ns = ktime_get_ns();
		complete_all(&job->done);
	}
	/* wait for job_free() to collect us */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void job_free(struct job *job)
{
	unsigned int i;

	for (i = 0; i < job->p.threads; i++)
		if (job->threads[i].task)
			kthread_stop(job->threads[i].task);
	vfree(job->seen);
	lfq_ring_put(job->ring);
	kfree(job);
}

/* Start a job on ring, whose reference the job takes over. */
static struct job *job_start(struct lfq_ring *ring, const struct lfq_test_job *p)
{
	const struct lfq_info *info = lfq_ring_info(ring);
	u64 bits = p->items * p->producers;
	struct job *job;
	unsigned int i;
	int ret = -EINVAL;

	if (info->type != LFQ_RING_VYUKOV ||
	    info->elem_size < sizeof(struct lfq_test_item))
		goto err_put_ring;
	ret = -ENOMEM;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		goto err_put_ring;
	job->ring = ring;
	job->p = *p;
	job->elem_size = info->elem_size;
	job->timeout = msecs_to_jiffies(p->timeout_ms);
	job->last_progress = jiffies;
	init_completion(&job->done);
	atomic_set(&job->running, p->threads);
	if (p->role == LFQ_TEST_CONSUME) {
		job->seen = vzalloc(BITS_TO_LONGS(bits) * sizeof(long));
		if (!job->seen)
			goto err_free_job;
	}
	for (i = 0; i < p->threads; i++) {
		struct task_struct *task;

		job->threads[i].job = job;
		job->threads[i].index = i;
		task = kthread_create(job_thread_fn, &job->threads[i],
				      "lfq_test/%s%u",
				      p->role == LFQ_TEST_PRODUCE ? "p" : "c", i);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto err_free_job;
		}
		job->threads[i].task = task;
	}
	job->start_ns = ktime_get_ns();
	for (i = 0; i < p->threads; i++)
		wake_up_process(job->threads[i].task);
	return job;

err_free_job:
	/* threads never woken exit at kthread_stop() without running */
	job_free(job);
	return ERR_PTR(ret);
err_put_ring:
	lfq_ring_put(ring);
	return ERR_PTR(ret);
}

static void job_result(struct job *job, struct lfq_test_result *r)
{
	u64 total = job->p.items * job->p.producers;

	memset(r, 0, sizeof(*r));
	r->moved = atomic64_read(&job->moved);
	r->malformed = atomic64_read(&job->malformed);
	r->duplicates = atomic64_read(&job->duplicates);
	r->misordered = atomic64_read(&job->misordered);
	if (job->seen)
		r->missing = total - bitmap_weight(job->seen, total);
	r->ring_errors = lfq_ring_errors(job->ring);
	r->nsecs = job->end_ns - job->start_ns;
	r->error = atomic_read(&job->error);
}

static int job_check_params(const struct lfq_test_job *p)
{
	if (p->__resv[0] || p->__resv[1])
		return -EINVAL;
	if (p->role != LFQ_TEST_PRODUCE && p->role != LFQ_TEST_CONSUME)
		return -EINVAL;
	if (!p->threads || p->threads > LFQ_TEST_MAX_THREADS ||
	    !p->burst || p->burst > LFQ_TEST_MAX_BURST ||
	    !p->items || p->items > LFQ_TEST_MAX_ITEMS ||
	    !p->timeout_ms || p->timeout_ms > 600000)
		return -EINVAL;
	if (p->role == LFQ_TEST_CONSUME &&
	    (!p->producers || p->producers > 64))
		return -EINVAL;
	if (p->role == LFQ_TEST_CONSUME && p->items * p->producers > JOB_MAX_SEEN)
		return -E2BIG;
	return 0;
}

/* ---- job fds ------------------------------------------------------------ */

static long job_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct job *job = file->private_data;
	struct lfq_test_result r;

	if (cmd != LFQ_TEST_IOC_RESULT)
		return -ENOTTY;
	if (wait_for_completion_interruptible(&job->done))
		return -EINTR;
	job_result(job, &r);
	if (copy_to_user((void __user *)arg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

static int job_release(struct inode *inode, struct file *file)
{
	job_free(file->private_data);
	return 0;
}

static const struct file_operations job_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= job_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= job_release,
	.llseek		= noop_llseek,
};

static long lfq_test_ioctl_start(void __user *arg)
{
	struct lfq_test_job p;
	struct lfq_ring *ring;
	struct job *job;
	int ret, fd;

	if (copy_from_user(&p, arg, sizeof(p)))
		return -EFAULT;
	ret = job_check_params(&p);
	if (ret)
		return ret;
	ring = lfq_ring_get_fd(p.ring_fd);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	job = job_start(ring, &p);
	if (IS_ERR(job))
		return PTR_ERR(job);
	fd = anon_inode_getfd("[lfq_test_job]", &job_fops, job,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0)
		job_free(job);
	return fd;
}

static long lfq_test_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	if (cmd != LFQ_TEST_IOC_START)
		return -ENOTTY;
	return lfq_test_ioctl_start((void __user *)arg);
}

static const struct file_operations lfq_test_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lfq_test_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice lfq_test_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lfq_test",
	.fops	= &lfq_test_fops,
	.mode	= 0600,
};

/* ---- load-time tests, KTAP ------------------------------------------------ */

KSTM_MODULE_GLOBALS();
static unsigned int ktap_n __initdata;

#define CHECK(cond, fmt, ...) do {					\
	bool __ok = (cond);						\
									\
	KSTM_CHECK_ZERO(!__ok);						\
	pr_info("%sok %u - " fmt "\n", __ok ? "" : "not ",		\
		++ktap_n, ##__VA_ARGS__);				\
} while (0)

static struct lfq_ring *__init make_ring(u32 capacity, u32 elem_size)
{
	struct lfq_create c = {
		.type = LFQ_RING_VYUKOV,
		.capacity = capacity,
		.elem_size = elem_size,
	};

	return lfq_ring_create(&c);
}

static long __init create_err(u32 type, u32 capacity, u32 elem_size, u64 resv)
{
	struct lfq_create c = {
		.type = type,
		.capacity = capacity,
		.elem_size = elem_size,
		.__resv = { resv },
	};
	struct lfq_ring *ring = lfq_ring_create(&c);

	if (IS_ERR(ring))
		return PTR_ERR(ring);
	lfq_ring_put(ring);
	return 0;
}

static u64 drained __initdata;

static void __init drain_fn(void *elem, void *arg)
{
	const u64 *v = elem;

	if (*v == drained)
		drained++;
}

static void __init test_api(void)
{
	struct lfq_ring *ring;
	u64 v, buf[8];
	int i, ret, ok;

	CHECK(create_err(LFQ_RING_VYUKOV, 3, 8, 0) == -EINVAL,
	      "create: capacity 3 is -EINVAL");
	CHECK(create_err(LFQ_RING_VYUKOV, 1, 8, 0) == -EINVAL,
	      "create: capacity 1 is -EINVAL");
	CHECK(create_err(LFQ_RING_VYUKOV, 4, 0, 0) == -EINVAL,
	      "create: element size 0 is -EINVAL");
	CHECK(create_err(LFQ_RING_VYUKOV, 4, LFQ_ELEM_MAX + 1, 0) == -EINVAL,
	      "create: element size above LFQ_ELEM_MAX is -EINVAL");
	CHECK(create_err(0, 4, 8, 0) == -EINVAL, "create: type 0 is -EINVAL");
	CHECK(create_err(LFQ_RING_VYUKOV, 4, 8, 1) == -EINVAL,
	      "create: nonzero reserved field is -EINVAL");
	CHECK(create_err(LFQ_RING_VYUKOV, 1 << 20, 4096, 0) == -E2BIG,
	      "create: 4 GiB ring is -E2BIG");
	CHECK(PTR_ERR(lfq_ring_get_fd(-1)) == -EBADF, "get_fd(-1) is -EBADF");

	ring = make_ring(4, sizeof(u64));
	CHECK(!IS_ERR(ring), "create: capacity 4, 8-byte elements");
	if (IS_ERR(ring))
		return;
	CHECK(lfq_vyukov_try_pop(ring, &v) == -EAGAIN && lfq_vyukov_empty(ring),
	      "try_pop on empty ring is -EAGAIN");
	CHECK(lfq_vyukov_pop(ring, &v, 2) == -ETIMEDOUT,
	      "pop on empty ring times out");
	for (ok = 1, v = 0; v < 4; v++)
		ok &= lfq_vyukov_try_push(ring, &v) == 0 &&
		      lfq_vyukov_size(ring) == v + 1;
	CHECK(ok, "try_push fills the ring, size counts");
	CHECK(lfq_vyukov_try_push(ring, &v) == -ENOSPC && lfq_vyukov_full(ring),
	      "try_push on full ring is -ENOSPC");
	CHECK(lfq_vyukov_push(ring, &v, 2) == -ETIMEDOUT,
	      "push on full ring times out");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= lfq_vyukov_try_pop(ring, &v) == 0 && v == i;
	CHECK(ok, "try_pop returns items in FIFO order");

	for (i = 0; i < 8; i++)
		buf[i] = 100 + i;
	ret = lfq_vyukov_try_push_burst(ring, buf, 8);
	CHECK(ret == 4, "try_push_burst of 8 into 4 free slots pushes 4 (%d)", ret);
	ret = lfq_vyukov_try_pop_burst(ring, buf, 3);
	CHECK(ret == 3 && buf[0] == 100 && buf[2] == 102,
	      "try_pop_burst of 3 pops the 3 oldest");
	drained = 103;
	CHECK(lfq_vyukov_drain(ring, drain_fn, NULL) == 1 && drained == 104 &&
	      lfq_vyukov_empty(ring), "drain hands over the rest in order");
	CHECK(lfq_vyukov_try_pop_burst(ring, buf, 0) == -EINVAL,
	      "burst of 0 is -EINVAL");
	CHECK(lfq_ring_errors(ring) == 0, "no ring errors");
	lfq_ring_put(ring);
}

/* Producers x consumers kthreads on one kernel ring, all invariants. */
static void __init test_stress(u32 producers, u32 consumers, u32 capacity,
			       u32 burst, u32 elem_size)
{
	struct lfq_test_job p = {
		.threads = producers, .burst = burst,
		.items = 50000ULL * scale, .producers = 0,
		.role = LFQ_TEST_PRODUCE, .timeout_ms = 20000,
	};
	struct lfq_test_result rp, rc;
	struct job *prod, *cons;
	struct lfq_ring *ring;
	u64 total = p.items * producers;

	ring = make_ring(capacity, elem_size);
	if (IS_ERR(ring)) {
		CHECK(false, "stress %ux%u: create ring", producers, consumers);
		return;
	}
	lfq_ring_get(ring);		/* one reference per job */
	prod = job_start(ring, &p);
	p.role = LFQ_TEST_CONSUME;
	p.threads = consumers;
	p.producers = producers;
	cons = job_start(ring, &p);
	if (IS_ERR(prod) || IS_ERR(cons)) {
		CHECK(false, "stress %ux%u: start jobs", producers, consumers);
		goto out;
	}
	wait_for_completion(&prod->done);
	wait_for_completion(&cons->done);
	job_result(prod, &rp);
	job_result(cons, &rc);
	CHECK(!rp.error && !rc.error && rp.moved == total && rc.moved == total &&
	      !rc.malformed && !rc.duplicates && !rc.misordered &&
	      !rc.missing && !rc.ring_errors && lfq_vyukov_empty(ring),
	      "stress %ux%u capacity %u burst %u: %llu items, %llu us (errors %d/%d, malformed %llu, dup %llu, order %llu, missing %llu)",
	      producers, consumers, capacity, burst, rc.moved,
	      rc.nsecs / 1000, rp.error, rc.error, rc.malformed,
	      rc.duplicates, rc.misordered, rc.missing);
out:
	if (!IS_ERR(prod))
		job_free(prod);
	if (!IS_ERR(cons))
		job_free(cons);
}

static void __init selftest(void)
{
	pr_info("KTAP version 1\n");
	test_api();
	if (stress) {
		test_stress(1, 1, 64, 1, sizeof(struct lfq_test_item));
		test_stress(2, 2, 8, 1, 64);
		test_stress(4, 4, 64, 8, 100);
		test_stress(2, 1, 2, 1, sizeof(struct lfq_test_item));
	}
	pr_info("1..%u\n", ktap_n);
}

static int __init lfq_test_init(void)
{
	int ret;

	selftest();
	ret = kstm_report(total_tests, failed_tests, skipped_tests);
	if (ret)
		return ret;
	return misc_register(&lfq_test_misc);
}

static void __exit lfq_test_exit(void)
{
	misc_deregister(&lfq_test_misc);
}

module_init(lfq_test_init);
module_exit(lfq_test_exit);

MODULE_DESCRIPTION("lfq test peer: in-kernel stress and kernel threads on user rings");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(LFQ);
