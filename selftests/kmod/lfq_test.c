// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_test.ko: the kernel peer of lfq.ko, written only against its exported
 * symbols (namespace LFQ), as another subsystem would be.
 *
 * At load it tests the in-kernel API (bad parameters, full and empty rings,
 * bursts, drain, timeouts, wake-ups between kernel threads, -EINTR on
 * kthread_stop() and on a signal) and runs a kthread stress of the Vyukov
 * ring (producers x consumers on small capacities, so that both sides
 * sleep and wake each other), prints KTAP, and fails the load with -EINVAL
 * if any check failed (kselftest_module.h, as lib/test_strscpy.c).
 *
 * Its misc device /dev/lfq_test then lets userspace attach jobs of kernel
 * producer or consumer threads to a ring fd (see lfq_test.h): user->kernel
 * and kernel->user transfers, rings that outlive their fds, and rings that
 * userspace corrupts on purpose.
 *
 * Every job is bounded: its threads stop at its deadline, after timeout_ms
 * without progress, on the first error, or when the job fd is closed
 * (kthread_stop()); the job fd pins the module, so rmmod waits for none of
 * them. A thread only ever touches its own copy of an element.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

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

/* ---- jobs: kernel threads on one ring ------------------------------------ */

struct job;

struct job_thread {
	struct job *job;
	struct task_struct *task;
	unsigned int index;
	u64 since_pause;		/* items moved since the last pause */
};

struct job {
	struct lfq_ring *ring;
	struct lfq_test_job p;
	u32 elem_size;
	u64 total;			/* consume: items * producers */
	unsigned long timeout;		/* jiffies without progress */
	unsigned long deadline;		/* jiffies */
	unsigned long last_progress;	/* jiffies */
	struct job_thread threads[LFQ_TEST_MAX_THREADS];
	atomic_t running;
	bool stopping;			/* end early: a thread failed, or close */
	struct delayed_work watchdog;	/* kicks every thread at the deadline */
	bool ended;			/* every thread is done */
	wait_queue_head_t wq;		/* for ended */
	atomic64_t moved, malformed, duplicates, misordered, io_errors;
	atomic_t error;
	unsigned long *seen;		/* consume: total bits */
	u64 start_ns, end_ns;
	u64 ring_errors;		/* lfq_ring_errors() at the end */
};

/*
 * Wake every thread of the job out of a blocking lfq call: they allow
 * SIGUSR1, and lfq's blocking calls return -EINTR on a signal.
 */
static void job_kick(struct job *job)
{
	unsigned int i;

	for (i = 0; i < job->p.threads; i++)
		if (job->threads[i].task)
			send_sig(SIGUSR1, job->threads[i].task, 1);
}

static void job_stop(struct job *job)
{
	WRITE_ONCE(job->stopping, true);
	job_kick(job);
}

/*
 * The deadline holds even while a thread is inside an lfq call whose own
 * timeout runs late (a ring that userspace garbles can keep a blocking
 * call retrying): a kick makes it return -EINTR, and the thread then
 * finds its time up.
 */
static void job_watchdog(struct work_struct *work)
{
	job_kick(container_of(to_delayed_work(work), struct job, watchdog));
}

static void job_fail(struct job *job, int err)
{
	atomic_cmpxchg(&job->error, 0, err);
	job_stop(job);
}

static bool job_expired(struct job *job)
{
	return time_after_eq(jiffies, job->deadline);
}

static bool job_stalled(struct job *job)
{
	return time_after(jiffies, READ_ONCE(job->last_progress) + job->timeout);
}

/* How long the next blocking call may wait; 0 once the deadline passed. */
static long job_slice(struct job *job)
{
	unsigned long now = jiffies;

	if (time_after_eq(now, job->deadline))
		return 0;
	return min(job->timeout, job->deadline - now);
}

static void job_moved(struct job_thread *t, int n)
{
	struct job *job = t->job;

	atomic64_add(n, &job->moved);
	WRITE_ONCE(job->last_progress, jiffies);
	if (!job->p.pause_every)
		return;
	t->since_pause += n;
	if (t->since_pause >= job->p.pause_every) {
		t->since_pause = 0;
		usleep_range(job->p.pause_us, job->p.pause_us + 50);
	}
}

/*
 * What a blocking call's result means for the thread: > 0 items moved,
 * 0 look again (a kick, a wait that timed out while others progress, a
 * survived -EIO), < 0 the thread ends with that error (-EINTR: stopped).
 */
static int job_step(struct job *job, int ret)
{
	if (ret > 0)
		return ret;
	switch (ret) {
	case -EINTR:
		if (kthread_should_stop())
			return -EINTR;
		flush_signals(current);
		return 0;
	case -ETIMEDOUT:
		return job_expired(job) || job_stalled(job) ? -ETIMEDOUT : 0;
	case -EIO:
		atomic64_inc(&job->io_errors);
		if (!(job->p.flags & LFQ_TEST_F_SURVIVE_EIO))
			return -EIO;
		if (job_expired(job) || job_stalled(job))
			return -ETIMEDOUT;
		schedule_timeout_interruptible(1);
		return 0;
	}
	return ret;
}

/* Check one popped item, this thread's private copy, against what we saw. */
static void job_check(struct job *job, s64 *last, const void *elem)
{
	struct lfq_test_item it = lfq_test_item_get(elem);
	u64 items = job->p.items;

	if (lfq_test_item_bad(elem, job->elem_size, job->p.producers) ||
	    it.seq >= items) {
		atomic64_inc(&job->malformed);
		return;
	}
	if (test_and_set_bit(it.producer * items + it.seq, job->seen))
		atomic64_inc(&job->duplicates);
	if ((s64)it.seq <= last[it.producer])
		atomic64_inc(&job->misordered);
	last[it.producer] = it.seq;
}

static int job_produce(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index, size = job->elem_size;
	unsigned int i, n;
	u64 seq = 0;
	long slice;
	int ret;

	while (seq < job->p.items) {
		if (READ_ONCE(job->stopping))
			return 0;
		slice = job_slice(job);
		if (!slice)
			return -ETIMEDOUT;
		n = min_t(u64, job->p.burst, job->p.items - seq);
		for (i = 0; i < n; i++)
			lfq_test_item_make(buf + i * size, size, id, seq + i);
		ret = job_step(job, lfq_vyukov_push_burst(job->ring, buf, n,
							  slice));
		if (ret < 0)
			return ret;
		seq += ret;
		if (ret)
			job_moved(t, ret);
	}
	return 0;
}

static int job_consume(struct job_thread *t, u8 *buf)
{
	struct job *job = t->job;
	unsigned int i;
	long slice;
	s64 *last;
	int ret = 0;

	last = kmalloc_array(job->p.producers, sizeof(*last), GFP_KERNEL);
	if (!last)
		return -ENOMEM;
	for (i = 0; i < job->p.producers; i++)
		last[i] = -1;
	/* until all items are in, whichever thread popped them */
	while (!READ_ONCE(job->stopping) &&
	       atomic64_read(&job->moved) < job->total) {
		slice = job_slice(job);
		if (!slice) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = job_step(job, lfq_vyukov_pop_burst(job->ring, buf,
							 job->p.burst, slice));
		if (ret < 0)
			break;
		for (i = 0; i < ret; i++)
			job_check(job, last, buf + i * job->elem_size);
		if (ret)
			job_moved(t, ret);
		ret = 0;
	}
	kfree(last);
	/* the others may sleep for an item that will never come */
	if (!ret)
		job_kick(job);
	return ret;
}

/*
 * A thread that has done its work waits for kthread_stop(), so that its
 * owner can stop it whether or not it has finished. TASK_IDLE: signals
 * (the watchdog's kicks) do not wake it, and it counts in no load average.
 */
static int park_until_stopped(void)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static int job_thread_fn(void *arg)
{
	struct job_thread *t = arg;
	struct job *job = t->job;
	u8 *buf;
	int ret;

	allow_signal(SIGUSR1);
	buf = kvmalloc_array(job->p.burst, job->elem_size, GFP_KERNEL);
	if (!buf)
		ret = -ENOMEM;
	else if (job->p.role == LFQ_TEST_PRODUCE)
		ret = job_produce(t, buf);
	else
		ret = job_consume(t, buf);
	kvfree(buf);
	if (ret < 0 && ret != -EINTR)
		job_fail(job, ret);
	if (atomic_dec_and_test(&job->running)) {
		job->end_ns = ktime_get_ns();
		job->ring_errors = lfq_ring_errors(job->ring);
		/* pairs with the acquire in job_ended() */
		smp_store_release(&job->ended, true);
		wake_up_all(&job->wq);
	}
	/* park until job_free() stops us */
	return park_until_stopped();
}

static bool job_ended(struct job *job)
{
	return smp_load_acquire(&job->ended);
}

/* Stop the threads (if still running), drop the ring, free the job. */
static void job_free(struct job *job)
{
	unsigned int i;

	/* no kick may reach a thread after kthread_stop() */
	cancel_delayed_work_sync(&job->watchdog);
	job_stop(job);
	for (i = 0; i < job->p.threads; i++)
		if (job->threads[i].task)
			kthread_stop(job->threads[i].task);
	kvfree(job->seen);
	lfq_ring_put(job->ring);
	kfree(job);
}

/*
 * Start a job on ring, whose reference the job takes over (and drops on
 * failure). p has passed job_check_params().
 */
static struct job *job_start(struct lfq_ring *ring, const struct lfq_test_job *p)
{
	const struct lfq_info *info = lfq_ring_info(ring);
	struct job *job;
	unsigned int i;
	long left;
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
	init_waitqueue_head(&job->wq);
	INIT_DELAYED_WORK(&job->watchdog, job_watchdog);
	atomic_set(&job->running, p->threads);
	if (p->role == LFQ_TEST_CONSUME) {
		job->total = p->items * p->producers;
		job->seen = kvzalloc(BITS_TO_LONGS(job->total) * sizeof(long),
				     GFP_KERNEL);
		if (!job->seen)
			goto err_free_job;
	}
	for (i = 0; i < p->threads; i++) {
		struct task_struct *task;

		job->threads[i].job = job;
		job->threads[i].index = i;
		task = kthread_create(job_thread_fn, &job->threads[i],
				      "lfq_test/%c%u",
				      p->role == LFQ_TEST_PRODUCE ? 'p' : 'c', i);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto err_free_job;
		}
		job->threads[i].task = task;
	}
	job->start_ns = ktime_get_ns();
	job->last_progress = jiffies;
	job->deadline = jiffies + msecs_to_jiffies(p->deadline_ms ?:
						   LFQ_TEST_MAX_MS);
	for (i = 0; i < p->threads; i++)
		wake_up_process(job->threads[i].task);
	left = (long)(job->deadline - jiffies);
	schedule_delayed_work(&job->watchdog, max(left, 0L));
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
	memset(r, 0, sizeof(*r));
	r->moved = atomic64_read(&job->moved);
	r->malformed = atomic64_read(&job->malformed);
	r->duplicates = atomic64_read(&job->duplicates);
	r->misordered = atomic64_read(&job->misordered);
	if (job->seen)
		r->missing = job->total - bitmap_weight(job->seen, job->total);
	r->ring_errors = job->ring_errors;
	r->io_errors = atomic64_read(&job->io_errors);
	r->nsecs = job->end_ns - job->start_ns;
	r->error = atomic_read(&job->error);
}

static int job_check_params(const struct lfq_test_job *p)
{
	if (p->__resv[0] || p->__resv[1] || p->flags & ~LFQ_TEST_F_ALL)
		return -EINVAL;
	if (p->role != LFQ_TEST_PRODUCE && p->role != LFQ_TEST_CONSUME)
		return -EINVAL;
	if (!p->threads || p->threads > LFQ_TEST_MAX_THREADS ||
	    !p->burst || p->burst > LFQ_TEST_MAX_BURST ||
	    !p->items || p->items > LFQ_TEST_MAX_ITEMS ||
	    !p->timeout_ms || p->timeout_ms > LFQ_TEST_MAX_MS ||
	    p->deadline_ms > LFQ_TEST_MAX_MS ||
	    p->pause_us > LFQ_TEST_MAX_PAUSE_US ||
	    !p->pause_every != !p->pause_us)
		return -EINVAL;
	if (p->role == LFQ_TEST_PRODUCE) {
		/* u64: producers + threads cannot wrap */
		if ((u64)p->producers + p->threads > LFQ_TEST_MAX_PRODUCERS)
			return -EINVAL;
		return 0;
	}
	if (!p->producers || p->producers > LFQ_TEST_MAX_PRODUCERS)
		return -EINVAL;
	if (p->items * p->producers > LFQ_TEST_MAX_SEEN)
		return -E2BIG;
	return 0;
}

/* ---- job fds -------------------------------------------------------------- */

static long job_ioctl_result(struct file *file, void __user *arg)
{
	struct job *job = file->private_data;
	struct lfq_test_result r;
	int ret;

	if (!job_ended(job)) {
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(job->wq, job_ended(job));
		if (ret)
			return ret;
	}
	job_result(job, &r);
	if (copy_to_user(arg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

static long job_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case LFQ_TEST_IOC_RESULT:
		return job_ioctl_result(file, (void __user *)arg);
	}
	return -ENOTTY;
}

static __poll_t job_poll(struct file *file, poll_table *wait)
{
	struct job *job = file->private_data;

	poll_wait(file, &job->wq, wait);
	return job_ended(job) ? EPOLLIN | EPOLLRDNORM : 0;
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
	.poll		= job_poll,
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
	switch (cmd) {
	case LFQ_TEST_IOC_START:
		return lfq_test_ioctl_start((void __user *)arg);
	}
	return -ENOTTY;
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

static void __init test_create(void)
{
	static const struct {
		const char *what;
		struct lfq_create c;
		int err;
	} bad[] __initconst = {
		{ "type 0", { .type = 0, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "type 99", { .type = 99, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "unknown flag", { .type = LFQ_RING_VYUKOV, .flags = 1, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "policy 1", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "nonzero __pad", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "nonzero __resv[2]", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 8, .__resv = { 0, 0, 1 } }, -EINVAL },
		{ "capacity 0", { .type = LFQ_RING_VYUKOV, .capacity = 0, .elem_size = 8 }, -EINVAL },
		{ "capacity 1", { .type = LFQ_RING_VYUKOV, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 3", { .type = LFQ_RING_VYUKOV, .capacity = 3, .elem_size = 8 }, -EINVAL },
		{ "capacity 2^31", { .type = LFQ_RING_VYUKOV, .capacity = 1U << 31, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "element size LFQ_ELEM_MAX + 1", { .type = LFQ_RING_VYUKOV, .capacity = 4, .elem_size = LFQ_ELEM_MAX + 1 }, -EINVAL },
		{ "LFQ_CAPACITY_MAX slots (above max_ring_bytes)", { .type = LFQ_RING_VYUKOV, .capacity = LFQ_CAPACITY_MAX, .elem_size = 1 }, -E2BIG },
		{ "4 GiB (above max_ring_bytes)", { .type = LFQ_RING_VYUKOV, .capacity = 1U << 16, .elem_size = LFQ_ELEM_MAX }, -E2BIG },
	};
	const struct lfq_info *info;
	struct lfq_ring *ring;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ring = lfq_ring_create(&bad[i].c);
		CHECK(PTR_ERR_OR_ZERO(ring) == bad[i].err,
		      "create: %s is %d (%d)", bad[i].what, bad[i].err,
		      PTR_ERR_OR_ZERO(ring));
		if (!IS_ERR(ring))
			lfq_ring_put(ring);
	}

	ring = make_ring(16, 100);
	CHECK(!IS_ERR(ring), "create: capacity 16, 100-byte elements");
	if (IS_ERR(ring))
		return;
	info = lfq_ring_info(ring);
	CHECK(info->magic == LFQ_MAGIC && info->abi_version == LFQ_ABI_VERSION &&
	      info->type == LFQ_RING_VYUKOV && info->capacity == 16 &&
	      info->elem_size == 100 &&
	      info->slot_stride == LFQ_STRIDE(LFQ_VYUKOV_SLOT_HDR, 100) &&
	      info->slots_off == LFQ_VYUKOV_SLOTS_OFF &&
	      info->ring_size >= info->slots_off + 16ULL * info->slot_stride,
	      "lfq_ring_info() reports the geometry");
	/* a second reference keeps the ring alive after the first put */
	lfq_ring_get(ring);
	lfq_ring_put(ring);
	CHECK(lfq_vyukov_empty(ring) && lfq_ring_errors(ring) == 0,
	      "lfq_ring_get(): the ring lives until the last put");
	lfq_ring_put(ring);

	CHECK(PTR_ERR(lfq_ring_get_fd(-1)) == -EBADF,
	      "lfq_ring_get_fd(-1) is -EBADF");
	CHECK(PTR_ERR(lfq_ring_get_fd(INT_MAX)) == -EBADF,
	      "lfq_ring_get_fd(INT_MAX) is -EBADF");
}

static u64 drained __initdata;

static void __init drain_fn(void *elem, void *arg)
{
	const u64 *v = elem;

	if (*v == drained)
		drained++;
}

static void __init test_try_ops(void)
{
	struct lfq_ring *ring;
	unsigned long start;
	u64 v, buf[8];
	int i, ret, ok;

	ring = make_ring(4, sizeof(u64));
	CHECK(!IS_ERR(ring), "create: capacity 4, 8-byte elements");
	if (IS_ERR(ring))
		return;
	CHECK(lfq_vyukov_try_pop(ring, &v) == -EAGAIN && lfq_vyukov_empty(ring) &&
	      !lfq_vyukov_full(ring) && lfq_vyukov_size(ring) == 0,
	      "try_pop on an empty ring is -EAGAIN; empty, size 0");
	start = jiffies;
	ret = lfq_vyukov_pop(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "pop on an empty ring waits its timeout, then -ETIMEDOUT (%d)", ret);
	CHECK(lfq_vyukov_pop(ring, &v, 0) == -ETIMEDOUT,
	      "pop with timeout 0 on an empty ring is -ETIMEDOUT");
	CHECK(lfq_vyukov_pop(ring, &v, -1) == -EINVAL &&
	      lfq_vyukov_push_burst(ring, buf, 1, -2) == -EINVAL,
	      "a negative timeout is -EINVAL");
	for (ok = 1, v = 0; v < 4; v++)
		ok &= lfq_vyukov_try_push(ring, &v) == 0 &&
		      lfq_vyukov_size(ring) == v + 1;
	CHECK(ok, "try_push fills the ring, size counts");
	CHECK(lfq_vyukov_try_push(ring, &v) == -ENOSPC && lfq_vyukov_full(ring) &&
	      !lfq_vyukov_empty(ring),
	      "try_push on a full ring is -ENOSPC; full");
	start = jiffies;
	ret = lfq_vyukov_push(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "push on a full ring waits its timeout, then -ETIMEDOUT (%d)", ret);
	CHECK(lfq_vyukov_push_burst(ring, buf, 2, 1) == -ETIMEDOUT,
	      "push_burst on a full ring is -ETIMEDOUT");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= lfq_vyukov_try_pop(ring, &v) == 0 && v == i;
	CHECK(ok, "try_pop returns the items in FIFO order");

	for (i = 0; i < 8; i++)
		buf[i] = 100 + i;
	ret = lfq_vyukov_try_push_burst(ring, buf, 8);
	CHECK(ret == 4, "try_push_burst of 8 into 4 free slots pushes 4 (%d)", ret);
	ret = lfq_vyukov_try_pop_burst(ring, buf, 3);
	CHECK(ret == 3 && buf[0] == 100 && buf[1] == 101 && buf[2] == 102,
	      "try_pop_burst of 3 pops the 3 oldest (%d)", ret);
	ret = lfq_vyukov_pop_burst(ring, buf, 8, 1);
	CHECK(ret == 1 && buf[0] == 103,
	      "pop_burst of 8 with 1 item returns it at once (%d)", ret);
	for (i = 0; i < 3; i++)
		buf[i] = 200 + i;
	ret = lfq_vyukov_push_burst(ring, buf, 3, 1);
	CHECK(ret == 3, "push_burst of 3 into an empty ring pushes 3 (%d)", ret);
	drained = 200;
	CHECK(lfq_vyukov_drain(ring, drain_fn, NULL) == 3 && drained == 203 &&
	      lfq_vyukov_empty(ring) && lfq_vyukov_try_pop(ring, &v) == -EAGAIN,
	      "drain hands over the rest in order and empties the ring");
	CHECK(lfq_vyukov_drain(ring, drain_fn, NULL) == 0,
	      "drain of an empty ring is 0");
	CHECK(lfq_vyukov_try_pop_burst(ring, buf, 0) == -EINVAL &&
	      lfq_vyukov_try_push_burst(ring, buf, 0) == -EINVAL &&
	      lfq_vyukov_pop_burst(ring, buf, 0, 1) == -EINVAL &&
	      lfq_vyukov_drain(ring, NULL, NULL) == -EINVAL,
	      "a burst of 0 or a NULL drain function is -EINVAL");
	/* many laps: the sequences must keep working past the capacity */
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_vyukov_try_push(ring, &v) == 0 &&
		     lfq_vyukov_try_pop(ring, buf) == 0 && buf[0] == v;
	CHECK(ok, "1000 laps of push and pop");
	CHECK(lfq_ring_errors(ring) == 0, "no ring errors");
	lfq_ring_put(ring);
}

/* One kernel thread blocked in a push or pop. */
struct blocked {
	struct lfq_ring *ring;
	bool push;
	u64 value;
	int ret;
	struct completion started, done;
	struct task_struct *task;
};

static int blocked_fn(void *arg)
{
	struct blocked *b = arg;

	allow_signal(SIGUSR1);
	complete(&b->started);
	if (b->push)
		b->ret = lfq_vyukov_push(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	else
		b->ret = lfq_vyukov_pop(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	complete(&b->done);
	return park_until_stopped();
}

/* Start b's thread and let it go to sleep in the ring. */
static int __init blocked_start(struct blocked *b, struct lfq_ring *ring,
				bool push, u64 value)
{
	b->ring = ring;
	b->push = push;
	b->value = value;
	b->ret = 1;
	init_completion(&b->started);
	init_completion(&b->done);
	b->task = kthread_run(blocked_fn, b, "lfq_test/blocked");
	if (IS_ERR(b->task))
		return PTR_ERR(b->task);
	wait_for_completion(&b->started);
	msleep(50);		/* past the spins, asleep on the wait queue */
	return 0;
}

/* Whether b's call returned within 5 s; stops its thread. */
static bool __init blocked_end(struct blocked *b)
{
	bool done = wait_for_completion_timeout(&b->done, 5 * HZ);

	kthread_stop(b->task);
	return done;
}

static void __init test_blocking(void)
{
	struct lfq_ring *ring;
	struct blocked b;
	bool done;
	u64 v;
	int i;

	ring = make_ring(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "blocking: create ring");
		return;
	}
	if (!blocked_start(&b, ring, false, 0)) {
		v = 42;
		lfq_vyukov_try_push(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.ret == 0 && b.value == 42,
		      "a pop sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	for (v = 0; v < 4; v++)
		lfq_vyukov_try_push(ring, &v);
	if (!blocked_start(&b, ring, true, 7)) {
		lfq_vyukov_try_pop(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.ret == 0 && v == 0,
		      "a push sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		for (i = 1; i <= 4; i++)
			done &= lfq_vyukov_try_pop(ring, &v) == 0 &&
				v == (i < 4 ? i : 7);
		CHECK(done, "the woken push lands after the others");
	}
	if (!blocked_start(&b, ring, false, 0)) {
		kthread_stop(b.task);
		CHECK(completion_done(&b.done) && b.ret == -EINTR,
		      "kthread_stop() ends a sleeping pop with -EINTR (%d)",
		      b.ret);
	}
	for (v = 0; v < 4; v++)
		lfq_vyukov_try_push(ring, &v);
	if (!blocked_start(&b, ring, true, 7)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.ret == -EINTR && lfq_vyukov_size(ring) == 4,
		      "a signal ends a sleeping push with -EINTR (%d)", b.ret);
	}
	CHECK(lfq_ring_errors(ring) == 0, "blocking: no ring errors");
	lfq_ring_put(ring);
}

/* Producers x consumers kthreads on one kernel ring, every invariant. */
static void __init test_stress(u32 producers, u32 consumers, u32 capacity,
			       u32 burst, u32 elem_size, u64 items)
{
	struct lfq_test_job p = {
		.role = LFQ_TEST_PRODUCE, .threads = producers, .burst = burst,
		.items = items * scale, .producers = 0,
		.timeout_ms = 5000, .deadline_ms = 120000,
	};
	struct lfq_test_result rp, rc;
	struct job *prod, *cons;
	struct lfq_ring *ring;
	u64 total = p.items * producers, v;
	bool ok;

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
	wait_event_idle(prod->wq, job_ended(prod));
	wait_event_idle(cons->wq, job_ended(cons));
	job_result(prod, &rp);
	job_result(cons, &rc);
	/* the jobs still hold the ring: it must be empty now */
	ok = lfq_vyukov_empty(ring) && lfq_vyukov_try_pop(ring, &v) == -EAGAIN;
	CHECK(!rp.error && !rc.error && rp.moved == total && rc.moved == total &&
	      !rc.malformed && !rc.duplicates && !rc.misordered &&
	      !rc.missing && !rc.ring_errors && ok,
	      "stress %ux%u capacity %u burst %u elem %u: %llu items in %llu ms (errors %d/%d, pushed %llu, malformed %llu, dup %llu, order %llu, missing %llu, ring errors %llu, empty %d)",
	      producers, consumers, capacity, burst, elem_size, rc.moved,
	      rc.nsecs / NSEC_PER_MSEC, rp.error, rc.error, rp.moved,
	      rc.malformed, rc.duplicates, rc.misordered, rc.missing,
	      rc.ring_errors, ok);
out:
	if (!IS_ERR(prod))
		job_free(prod);
	if (!IS_ERR(cons))
		job_free(cons);
}

static void __init selftest(void)
{
	pr_info("KTAP version 1\n");
	test_create();
	test_try_ops();
	test_blocking();
	if (stress) {
		test_stress(1, 1, 64, 1, sizeof(struct lfq_test_item), 100000);
		test_stress(2, 2, 8, 1, 64, 50000);
		test_stress(4, 4, 64, 8, 100, 25000);
		test_stress(2, 1, 2, 1, sizeof(struct lfq_test_item), 20000);
		test_stress(1, 3, 8, 4, 4096, 5000);
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

MODULE_DESCRIPTION("lfq test peer: in-kernel tests and kernel threads on user rings");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(LFQ);
