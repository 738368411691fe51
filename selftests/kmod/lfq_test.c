// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_test.ko: the kernel peer of lfq.ko, written only against its exported
 * symbols (namespace LFQ), as another subsystem would be.
 *
 * At load it tests the in-kernel API of both rings (bad parameters, full
 * and empty rings, bursts, drain, timeouts, wake-ups between kernel
 * threads, -EINTR on kthread_stop() and on a signal; for the turn ring
 * also reserve and commit in place, forged and double commits, held
 * reservations, skipped and corrupt slots) and runs a kthread stress of
 * each ring (producers x consumers on small capacities, so that both
 * sides sleep and wake each other), prints KTAP, and fails the load with
 * -EINVAL if any check failed (kselftest_module.h, as lib/test_strscpy.c).
 *
 * The turn tests reach a slot's turn word through a reservation: the ABI
 * (uapi/linux/lfq.h) puts it in the LFQ_TURN_SLOT_HDR bytes before the
 * element, and the slots LFQ_TURN_SLOTS_OFF bytes after the ring header.
 * That is the layout any user of the ring sees, not lfq.ko's internals.
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
	u32 type;			/* LFQ_RING_VYUKOV or LFQ_RING_TURN */
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

/*
 * A commit that fails: the slot under our reservation no longer holds the
 * turn we reserved it at, which only a scribbler can do.
 */
static int job_commit_ret(int ret)
{
	return ret ? -EIO : 0;
}

/*
 * Push 1..n items of buf (made by the caller) or, with LFQ_TEST_F_RESERVE,
 * items made in their slots: as lfq_vyukov_push_burst() returns.
 */
static int job_push(struct job_thread *t, u8 *buf, unsigned int n, u64 seq,
		    long slice)
{
	struct job *job = t->job;
	u32 id = job->p.producers + t->index, size = job->elem_size;
	struct lfq_turn_ref ref;
	unsigned int i;
	int ret;

	if (job->type == LFQ_RING_VYUKOV)
		return lfq_vyukov_push_burst(job->ring, buf, n, slice);
	for (i = 0; i < n; i++) {
		if (!(job->p.flags & LFQ_TEST_F_RESERVE)) {
			ret = i ? lfq_turn_try_push(job->ring, buf + i * size) :
				  lfq_turn_push(job->ring, buf, slice);
		} else {
			ret = i ? lfq_turn_try_push_reserve(job->ring, &ref) :
				  lfq_turn_push_reserve(job->ring, &ref, slice);
			if (!ret) {
				lfq_test_item_make(ref.elem, size, id, seq + i);
				ret = job_commit_ret(lfq_turn_push_commit(job->ring,
									  &ref));
			}
		}
		if (ret)
			return i ? i : ret;
	}
	return n;
}

/* Pop 1..n items into buf, as lfq_vyukov_pop_burst() returns. */
static int job_pop(struct job *job, u8 *buf, unsigned int n, long slice)
{
	u32 size = job->elem_size;
	struct lfq_turn_ref ref;
	unsigned int i;
	int ret;

	if (job->type == LFQ_RING_VYUKOV)
		return lfq_vyukov_pop_burst(job->ring, buf, n, slice);
	for (i = 0; i < n; i++) {
		if (!(job->p.flags & LFQ_TEST_F_RESERVE)) {
			ret = i ? lfq_turn_try_pop(job->ring, buf + i * size) :
				  lfq_turn_pop(job->ring, buf, slice);
		} else {
			ret = i ? lfq_turn_try_pop_reserve(job->ring, &ref) :
				  lfq_turn_pop_reserve(job->ring, &ref, slice);
			if (!ret) {
				/* our own copy, before the slot goes back */
				memcpy(buf + i * size, ref.elem, size);
				ret = job_commit_ret(lfq_turn_pop_commit(job->ring,
									 &ref));
			}
		}
		if (ret)
			return i ? i : ret;
	}
	return n;
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
		if (!(job->p.flags & LFQ_TEST_F_RESERVE))
			for (i = 0; i < n; i++)
				lfq_test_item_make(buf + i * size, size, id,
						   seq + i);
		ret = job_step(job, job_push(t, buf, n, seq, slice));
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
		ret = job_step(job, job_pop(job, buf, job->p.burst, slice));
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

	if ((info->type != LFQ_RING_VYUKOV && info->type != LFQ_RING_TURN) ||
	    info->elem_size < sizeof(struct lfq_test_item) ||
	    (p->flags & LFQ_TEST_F_RESERVE && info->type != LFQ_RING_TURN))
		goto err_put_ring;
	ret = -ENOMEM;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		goto err_put_ring;
	job->ring = ring;
	job->p = *p;
	job->type = info->type;
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

static struct lfq_ring *__init make_typed(u32 type, u32 capacity,
					  u32 elem_size)
{
	struct lfq_create c = {
		.type = type,
		.capacity = capacity,
		.elem_size = elem_size,
	};

	return lfq_ring_create(&c);
}

static struct lfq_ring *__init make_ring(u32 capacity, u32 elem_size)
{
	return make_typed(LFQ_RING_VYUKOV, capacity, elem_size);
}

static struct lfq_ring *__init make_turn(u32 capacity, u32 elem_size)
{
	return make_typed(LFQ_RING_TURN, capacity, elem_size);
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
enum blocked_op {
	VY_PUSH,
	VY_POP,
	TURN_PUSH,
	TURN_POP,
	TURN_PUSH_RESERVE,		/* then writes value and commits */
	TURN_POP_RESERVE,		/* then reads value and commits */
};

struct blocked {
	struct lfq_ring *ring;
	enum blocked_op op;
	u64 value;
	int ret;
	bool slept;			/* seen in the need-wakeup word */
	struct completion started, done;
	struct task_struct *task;
};

static int blocked_call(struct blocked *b)
{
	struct lfq_turn_ref ref;
	int ret;

	switch (b->op) {
	case VY_PUSH:
		return lfq_vyukov_push(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case VY_POP:
		return lfq_vyukov_pop(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_PUSH:
		return lfq_turn_push(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_POP:
		return lfq_turn_pop(b->ring, &b->value, MAX_SCHEDULE_TIMEOUT);
	case TURN_PUSH_RESERVE:
		ret = lfq_turn_push_reserve(b->ring, &ref, MAX_SCHEDULE_TIMEOUT);
		if (ret)
			return ret;
		memcpy(ref.elem, &b->value, sizeof(b->value));
		return lfq_turn_push_commit(b->ring, &ref);
	case TURN_POP_RESERVE:
		ret = lfq_turn_pop_reserve(b->ring, &ref, MAX_SCHEDULE_TIMEOUT);
		if (ret)
			return ret;
		memcpy(&b->value, ref.elem, sizeof(b->value));
		return lfq_turn_pop_commit(b->ring, &ref);
	}
	return -EINVAL;
}

static int blocked_fn(void *arg)
{
	struct blocked *b = arg;

	allow_signal(SIGUSR1);
	complete(&b->started);
	b->ret = blocked_call(b);
	complete(&b->done);
	return park_until_stopped();
}

/*
 * Start b's thread and let it go to sleep in the ring: until it counts
 * itself in the ring's need-wakeup word w if we can see it (turn rings),
 * else for 50 ms. Either way a wake-up that comes early is not lost, the
 * call just never slept.
 */
static int __init blocked_start_on(struct blocked *b, struct lfq_ring *ring,
				   enum blocked_op op, u64 value,
				   const struct lfq_wait *w)
{
	unsigned long end;

	b->ring = ring;
	b->op = op;
	b->value = value;
	b->ret = 1;
	b->slept = false;
	init_completion(&b->started);
	init_completion(&b->done);
	b->task = kthread_run(blocked_fn, b, "lfq_test/blocked");
	if (IS_ERR(b->task))
		return PTR_ERR(b->task);
	wait_for_completion(&b->started);
	if (!w) {
		msleep(50);	/* past the spins, asleep on the wait queue */
		return 0;
	}
	for (end = jiffies + 5 * HZ; time_before(jiffies, end); msleep(1)) {
		if (completion_done(&b->done))
			break;
		if (READ_ONCE(w->waiters)) {
			b->slept = true;
			break;
		}
	}
	return 0;
}

static int __init blocked_start(struct blocked *b, struct lfq_ring *ring,
				bool push, u64 value)
{
	return blocked_start_on(b, ring, push ? VY_PUSH : VY_POP, value, NULL);
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

/* ---- the turn ring -------------------------------------------------------- */

/*
 * The shared words of a turn ring, found from any reservation of it
 * through the ABI layout: the turn word is the slot's first LFQ_TURN_SLOT_HDR
 * bytes, slot 0 is LFQ_TURN_SLOTS_OFF bytes after the ring header.
 */
struct turn_view {
	struct lfq_turn_hdr *hdr;
	u8 *slots;
	u32 stride;
	u64 mask;
	u32 capacity;
};

static struct turn_view __init turn_view(struct lfq_ring *ring,
					 const struct lfq_turn_ref *ref)
{
	const struct lfq_info *info = lfq_ring_info(ring);
	struct turn_view v = {
		.stride = info->slot_stride,
		.mask = info->capacity - 1,
		.capacity = info->capacity,
	};

	v.slots = (u8 *)ref->elem - LFQ_TURN_SLOT_HDR -
		  (ref->ticket & v.mask) * v.stride;
	v.hdr = (void *)(v.slots - info->slots_off);
	return v;
}

/* The turn word of the slot of ticket pos. */
static u64 *__init turn_word(const struct turn_view *v, u64 pos)
{
	return (u64 *)(v->slots + (pos & v->mask) * v->stride);
}

/* 2 * lap of ticket pos: the turn at which its producer may write. */
static u64 __init turn_lap2(const struct turn_view *v, u64 pos)
{
	return pos / v->capacity * 2;
}

/* What lfq_turn_repair() stores for a producer that died holding pos. */
static void __init turn_skip(const struct turn_view *v, u64 pos)
{
	smp_store_release(turn_word(v, pos),
			  (turn_lap2(v, pos) + 1) | LFQ_TURN_SKIPPED);
}

static void __init test_turn_api(void)
{
	struct lfq_create c = {
		.type = LFQ_RING_TURN, .capacity = 4, .elem_size = 8, .policy = 1,
	};
	struct lfq_turn_ref ref = { 0 };
	const struct lfq_info *info;
	struct lfq_ring *ring, *vy;
	u64 v = 0, buf[2];
	bool ok;

	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "turn: create with policy 1 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	c.policy = 0;
	c.capacity = 12;
	ring = lfq_ring_create(&c);
	CHECK(PTR_ERR_OR_ZERO(ring) == -EINVAL, "turn: create with capacity 12 is -EINVAL");
	if (!IS_ERR(ring))
		lfq_ring_put(ring);

	ring = make_turn(8, 100);
	CHECK(!IS_ERR(ring), "turn: create capacity 8, 100-byte elements");
	if (IS_ERR(ring))
		return;
	info = lfq_ring_info(ring);
	CHECK(info->magic == LFQ_MAGIC && info->abi_version == LFQ_ABI_VERSION &&
	      info->type == LFQ_RING_TURN && info->capacity == 8 &&
	      info->elem_size == 100 && info->policy == 0 &&
	      info->slot_stride == LFQ_STRIDE(LFQ_TURN_SLOT_HDR, 100) &&
	      info->slots_off == LFQ_TURN_SLOTS_OFF &&
	      info->claims_off == info->slots_off + 8ULL * info->slot_stride &&
	      info->nr_claims == LFQ_CLAIMS &&
	      info->desc_size == PAGE_SIZE &&
	      info->ring_size == PAGE_ALIGN(info->claims_off +
					    LFQ_CLAIMS * sizeof(struct lfq_claim)),
	      "turn: lfq_ring_info() reports the geometry and %u claim records",
	      info->nr_claims);
	CHECK(lfq_turn_empty(ring) && !lfq_turn_full(ring) &&
	      lfq_turn_size(ring) == 0, "turn: a new ring is empty, size 0");
	lfq_ring_put(ring);

	ring = make_turn(4, 8);
	vy = make_ring(4, 8);
	if (IS_ERR(ring) || IS_ERR(vy)) {
		CHECK(false, "turn: create rings for the API checks");
		goto out;
	}
	ok = lfq_turn_try_push(vy, &v) == -EINVAL &&
	     lfq_turn_push(vy, &v, 1) == -EINVAL &&
	     lfq_turn_try_pop(vy, &v) == -EINVAL &&
	     lfq_turn_pop(vy, &v, 1) == -EINVAL &&
	     lfq_turn_try_push_reserve(vy, &ref) == -EINVAL &&
	     lfq_turn_push_reserve(vy, &ref, 1) == -EINVAL &&
	     lfq_turn_push_commit(vy, &ref) == -EINVAL &&
	     lfq_turn_try_pop_reserve(vy, &ref) == -EINVAL &&
	     lfq_turn_pop_reserve(vy, &ref, 1) == -EINVAL &&
	     lfq_turn_pop_commit(vy, &ref) == -EINVAL;
	CHECK(ok, "turn: every lfq_turn_*() call on a Vyukov ring is -EINVAL");
	ok = lfq_vyukov_try_push(ring, &v) == -EINVAL &&
	     lfq_vyukov_push(ring, &v, 1) == -EINVAL &&
	     lfq_vyukov_try_pop(ring, &v) == -EINVAL &&
	     lfq_vyukov_pop(ring, &v, 1) == -EINVAL &&
	     lfq_vyukov_try_push_burst(ring, buf, 2) == -EINVAL &&
	     lfq_vyukov_pop_burst(ring, buf, 2, 1) == -EINVAL &&
	     lfq_vyukov_drain(ring, drain_fn, NULL) == -EINVAL;
	CHECK(ok, "turn: lfq_vyukov_*() calls on a turn ring are -EINVAL");
	ok = lfq_turn_try_push(NULL, &v) == -EINVAL &&
	     lfq_turn_pop(NULL, &v, 1) == -EINVAL &&
	     lfq_turn_push_reserve(NULL, &ref, 1) == -EINVAL &&
	     lfq_turn_pop_commit(NULL, &ref) == -EINVAL &&
	     lfq_turn_try_push(ring, NULL) == -EINVAL &&
	     lfq_turn_push(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_try_pop(ring, NULL) == -EINVAL &&
	     lfq_turn_pop(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_try_push_reserve(ring, NULL) == -EINVAL &&
	     lfq_turn_pop_reserve(ring, NULL, 1) == -EINVAL &&
	     lfq_turn_push_commit(ring, NULL) == -EINVAL &&
	     lfq_turn_pop_commit(ring, NULL) == -EINVAL;
	CHECK(ok, "turn: a NULL ring, element or reservation is -EINVAL");
	ok = lfq_turn_push(ring, &v, -1) == -EINVAL &&
	     lfq_turn_pop(ring, &v, -1) == -EINVAL &&
	     lfq_turn_push_reserve(ring, &ref, -2) == -EINVAL &&
	     lfq_turn_pop_reserve(ring, &ref, LONG_MIN) == -EINVAL;
	CHECK(ok, "turn: a negative timeout is -EINVAL");
	CHECK(lfq_turn_empty(ring) && lfq_ring_errors(ring) == 0 &&
	      lfq_vyukov_empty(vy) && lfq_ring_errors(vy) == 0,
	      "turn: refused calls leave both rings untouched");
out:
	if (!IS_ERR(vy))
		lfq_ring_put(vy);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
}

static void __init test_turn_try_ops(void)
{
	struct lfq_turn_ref ref;
	struct lfq_ring *ring;
	unsigned long start;
	u64 v, x;
	int ret, i, ok;

	ring = make_turn(4, sizeof(u64));
	CHECK(!IS_ERR(ring), "turn: create capacity 4, 8-byte elements");
	if (IS_ERR(ring))
		return;
	CHECK(lfq_turn_try_pop(ring, &v) == -EAGAIN &&
	      lfq_turn_try_pop_reserve(ring, &ref) == -EAGAIN &&
	      lfq_turn_empty(ring) && !lfq_turn_full(ring),
	      "turn: try_pop and try_pop_reserve on an empty ring are -EAGAIN");
	start = jiffies;
	ret = lfq_turn_pop(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "turn: pop on an empty ring waits its timeout, then -ETIMEDOUT (%d)",
	      ret);
	CHECK(lfq_turn_pop(ring, &v, 0) == -ETIMEDOUT &&
	      lfq_turn_pop_reserve(ring, &ref, 1) == -ETIMEDOUT,
	      "turn: pop with timeout 0 and pop_reserve with 1 on an empty ring are -ETIMEDOUT");
	for (ok = 1, v = 0; v < 4; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0 &&
		      lfq_turn_size(ring) == v + 1;
	CHECK(ok, "turn: try_push fills the ring, size counts");
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_try_push_reserve(ring, &ref) == -ENOSPC &&
	      lfq_turn_full(ring) && !lfq_turn_empty(ring) &&
	      lfq_turn_size(ring) == 4,
	      "turn: try_push and try_push_reserve on a full ring are -ENOSPC; full");
	start = jiffies;
	ret = lfq_turn_push(ring, &v, 2);
	CHECK(ret == -ETIMEDOUT && time_after_eq(jiffies, start + 2),
	      "turn: push on a full ring waits its timeout, then -ETIMEDOUT (%d)",
	      ret);
	CHECK(lfq_turn_push(ring, &v, 0) == -ETIMEDOUT &&
	      lfq_turn_push_reserve(ring, &ref, 1) == -ETIMEDOUT &&
	      lfq_turn_size(ring) == 4,
	      "turn: push with timeout 0 and push_reserve with 1 on a full ring are -ETIMEDOUT, and take no ticket");
	for (ok = 1, i = 0; i < 4; i++)
		ok &= lfq_turn_try_pop(ring, &x) == 0 && x == i;
	CHECK(ok && lfq_turn_empty(ring),
	      "turn: try_pop returns the items in FIFO order");
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_turn_try_push(ring, &v) == 0 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == v;
	CHECK(ok, "turn: 1000 laps of try_push and try_pop");
	for (ok = 1, v = 0; v < 1000 && ok; v++)
		ok = lfq_turn_push(ring, &v, 0) == 0 &&
		     lfq_turn_push(ring, &v, 1) == 0 &&
		     lfq_turn_pop(ring, &x, 0) == 0 && x == v &&
		     lfq_turn_pop(ring, &x, 1) == 0 && x == v;
	CHECK(ok, "turn: 1000 laps of push and pop that never wait");
	CHECK(lfq_ring_errors(ring) == 0, "turn: no ring errors");
	lfq_ring_put(ring);
}

/* Reserve and commit in place; commits that are not owed are refused. */
static void __init test_turn_reserve(void)
{
	struct lfq_turn_ref r0, r1, r2, p0, forged;
	struct lfq_ring *ring;
	struct turn_view tv;
	u64 v, x;
	bool ok;
	int i;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn reserve: create ring");
		return;
	}
	CHECK(lfq_turn_try_push_reserve(ring, &r0) == 0 && r0.ticket == 0 &&
	      r0.elem, "turn: try_push_reserve takes ticket 0");
	if (r0.ticket != 0 || !r0.elem)
		goto out;
	tv = turn_view(ring, &r0);
	CHECK(READ_ONCE(tv.hdr->head) == 1 && READ_ONCE(*turn_word(&tv, 0)) == 0 &&
	      lfq_turn_size(ring) == 1 && lfq_turn_try_pop(ring, &x) == -EAGAIN,
	      "turn: a reservation holds its ticket (head 1, size 1) and is not poppable before its commit");
	memcpy(r0.elem, &(u64){ 0xabc }, sizeof(u64));
	forged = r0;
	forged.elem = (u8 *)r0.elem + 8;
	ok = lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged = r0;
	forged.ticket += 4;		/* the same slot, a lap later */
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged = r0;
	forged.ticket += 1;		/* another slot, this element */
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	forged.elem = NULL;
	forged.ticket = 0;
	ok &= lfq_turn_push_commit(ring, &forged) == -EINVAL;
	ok &= lfq_turn_pop_commit(ring, &r0) == -EINVAL;
	CHECK(ok && READ_ONCE(*turn_word(&tv, 0)) == 0,
	      "turn: forged push commits (other element, lap, slot, NULL; a pop commit of a push) are -EINVAL and change nothing");
	CHECK(lfq_turn_push_commit(ring, &r0) == 0 &&
	      READ_ONCE(*turn_word(&tv, 0)) == 1,
	      "turn: push_commit publishes the slot (turn 1)");
	CHECK(lfq_turn_push_commit(ring, &r0) == -EINVAL,
	      "turn: a second push_commit of the same reservation is -EINVAL");
	CHECK(lfq_turn_try_pop_reserve(ring, &p0) == 0 && p0.ticket == 0 &&
	      p0.elem == r0.elem && *(u64 *)p0.elem == 0xabc &&
	      READ_ONCE(tv.hdr->tail) == 1,
	      "turn: try_pop_reserve hands out the item in its slot");
	forged = p0;
	forged.ticket += 4;
	CHECK(lfq_turn_push_commit(ring, &p0) == -EINVAL &&
	      lfq_turn_pop_commit(ring, &forged) == -EINVAL &&
	      READ_ONCE(*turn_word(&tv, 0)) == 1,
	      "turn: a push commit of a pop reservation and a forged pop commit are -EINVAL");
	CHECK(lfq_turn_pop_commit(ring, &p0) == 0 &&
	      READ_ONCE(*turn_word(&tv, 0)) == 2 &&
	      lfq_turn_pop_commit(ring, &p0) == -EINVAL && lfq_turn_empty(ring),
	      "turn: pop_commit gives the slot to the next lap (turn 2); a second one is -EINVAL");

	/* commits out of order, items in ticket order */
	ok = lfq_turn_push_reserve(ring, &r1, 1) == 0 &&
	     lfq_turn_push_reserve(ring, &r2, 1) == 0 &&
	     r1.ticket == 1 && r2.ticket == 2;
	CHECK(ok, "turn: push_reserve takes tickets 1 and 2");
	if (!ok)
		goto out;
	memcpy(r1.elem, &(u64){ 1 }, sizeof(u64));
	memcpy(r2.elem, &(u64){ 2 }, sizeof(u64));
	CHECK(lfq_turn_push_commit(ring, &r2) == 0 &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN &&
	      lfq_turn_pop(ring, &x, 2) == -ETIMEDOUT &&
	      lfq_turn_size(ring) == 2,
	      "turn: ticket 2 committed before ticket 1 waits behind it: pop times out");
	CHECK(lfq_turn_push_commit(ring, &r1) == 0 &&
	      lfq_turn_pop(ring, &x, 1) == 0 && x == 1 &&
	      lfq_turn_pop_reserve(ring, &p0, 1) == 0 && *(u64 *)p0.elem == 2 &&
	      lfq_turn_pop_commit(ring, &p0) == 0,
	      "turn: once ticket 1 commits both come out in ticket order");

	/* a pop reservation holds its slot back from the next lap */
	for (ok = true, v = 3; v < 7; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0;
	ok &= lfq_turn_pop_reserve(ring, &p0, 1) == 0 && p0.ticket == 3;
	for (i = 0; i < 3; i++)
		ok &= lfq_turn_try_pop(ring, &x) == 0 && x == 4 + i;
	CHECK(ok && lfq_turn_empty(ring), "turn: tickets 3..6 pushed, 3 reserved by a consumer, 4..6 popped");
	v = 7;
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_push(ring, &v, 2) == -ETIMEDOUT &&
	      READ_ONCE(tv.hdr->head) == 7,
	      "turn: ticket 7 waits for the slot ticket 3 still holds: -ENOSPC, -ETIMEDOUT, no ticket taken");
	CHECK(lfq_turn_pop_commit(ring, &p0) == 0 &&
	      lfq_turn_try_push(ring, &v) == 0 &&
	      lfq_turn_try_pop(ring, &x) == 0 && x == 7,
	      "turn: pop_commit of ticket 3 lets ticket 7 in");
	CHECK(lfq_ring_errors(ring) == 0, "turn reserve: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Slots marked skipped (a dead producer's, as a repair leaves them). */
static void __init test_turn_skipped(void)
{
	struct lfq_turn_ref r, r2, r3;
	struct lfq_ring *ring;
	struct turn_view tv;
	u64 v, x;
	bool ok;
	int i;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn skipped: create ring");
		return;
	}
	v = 10;
	ok = lfq_turn_try_push(ring, &v) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 1;
	v = 12;
	ok &= lfq_turn_try_push(ring, &v) == 0;
	CHECK(ok, "turn: ticket 0 pushed, 1 reserved, 2 pushed");
	if (!ok)
		goto out;
	tv = turn_view(ring, &r);
	turn_skip(&tv, 1);
	CHECK(lfq_turn_size(ring) == 3 && lfq_turn_try_pop(ring, &x) == 0 &&
	      x == 10 && lfq_turn_try_pop(ring, &x) == 0 && x == 12,
	      "turn: pops pass over the skipped ticket 1");
	CHECK(READ_ONCE(tv.hdr->tail) == 3 && READ_ONCE(*turn_word(&tv, 1)) == 2 &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN,
	      "turn: the skipped slot was released for the next lap (tail 3, turn 2)");
	CHECK(lfq_turn_push_commit(ring, &r) == -EINVAL,
	      "turn: the skipped reservation can no longer be committed");

	/* a skipped ticket at the tail with nothing behind it */
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 3;
	turn_skip(&tv, 3);
	CHECK(ok && lfq_turn_pop(ring, &x, 2) == -ETIMEDOUT &&
	      READ_ONCE(tv.hdr->tail) == 4 && READ_ONCE(*turn_word(&tv, 3)) == 2,
	      "turn: a pop releases a skipped ticket at the tail, then times out on the empty ring");
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 4;
	turn_skip(&tv, 4);
	CHECK(ok && READ_ONCE(*turn_word(&tv, 4)) == (3 | LFQ_TURN_SKIPPED) &&
	      lfq_turn_try_pop_reserve(ring, &r) == -EAGAIN &&
	      READ_ONCE(tv.hdr->tail) == 5 && READ_ONCE(*turn_word(&tv, 4)) == 4,
	      "turn: so does try_pop_reserve, in the next lap");

	/* several in a row, then an item */
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r2) == 0 &&
	     lfq_turn_try_push_reserve(ring, &r3) == 0 && r3.ticket == 7;
	v = 99;
	ok &= lfq_turn_try_push(ring, &v) == 0;
	turn_skip(&tv, 5);
	turn_skip(&tv, 6);
	turn_skip(&tv, 7);
	CHECK(ok && lfq_turn_pop_reserve(ring, &r, 1) == 0 && r.ticket == 8 &&
	      *(u64 *)r.elem == 99 && lfq_turn_pop_commit(ring, &r) == 0,
	      "turn: pop_reserve passes over three skipped tickets to ticket 8");
	for (ok = true, i = 0; i < 100 && ok; i++) {
		v = i;
		ok = lfq_turn_try_push(ring, &v) == 0 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == v;
	}
	CHECK(ok && lfq_turn_empty(ring) && lfq_ring_errors(ring) == 0,
	      "turn: 100 laps more over the once-skipped slots, no ring errors");
out:
	lfq_ring_put(ring);
}

/* Turns that no correct ring holds: -EIO at once, counted. */
static void __init test_turn_corrupt(void)
{
	struct lfq_turn_ref r;
	struct lfq_ring *ring;
	struct turn_view tv;
	u64 v = 1, x, errors;
	unsigned long start;
	bool ok;

	ring = make_turn(4, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn corrupt: create ring");
		return;
	}
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_push_commit(ring, &r) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0;
	if (!ok) {
		CHECK(false, "turn corrupt: one item through");
		goto out;
	}
	tv = turn_view(ring, &r);
	/* the slot at tail and head (ticket 1) says lap 3 */
	WRITE_ONCE(*turn_word(&tv, 1), 6);
	errors = lfq_ring_errors(ring);
	start = jiffies;
	ok = lfq_turn_try_pop(ring, &x) == -EIO &&
	     lfq_turn_pop(ring, &x, HZ) == -EIO &&
	     lfq_turn_try_pop_reserve(ring, &r) == -EIO &&
	     lfq_turn_pop_reserve(ring, &r, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 4,
	      "turn: a turn laps ahead at the tail is -EIO for every pop, counted");
	ok = lfq_turn_try_push(ring, &v) == -EIO &&
	     lfq_turn_push(ring, &v, HZ) == -EIO &&
	     lfq_turn_try_push_reserve(ring, &r) == -EIO &&
	     lfq_turn_push_reserve(ring, &r, HZ) == -EIO;
	CHECK(ok && lfq_ring_errors(ring) == errors + 8 &&
	      time_before(jiffies, start + HZ),
	      "turn: and at the head for every push, at once (no waiting)");
	WRITE_ONCE(*turn_word(&tv, 1), 0);
	ok = lfq_turn_try_push(ring, &v) == 0 && lfq_turn_try_pop(ring, &x) == 0;
	CHECK(ok, "turn: the ring works again once the turn is right");
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 && r.ticket == 2;
	WRITE_ONCE(*turn_word(&tv, 2), 4);
	CHECK(ok && lfq_turn_push_commit(ring, &r) == -EINVAL &&
	      READ_ONCE(*turn_word(&tv, 2)) == 4,
	      "turn: a reservation whose slot was scribbled cannot be committed");
	WRITE_ONCE(*turn_word(&tv, 2), 0);
	ok = lfq_turn_push_commit(ring, &r) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0;
	for (v = 0; v < 8; v++)
		ok &= lfq_turn_try_push(ring, &v) == 0 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == v;
	CHECK(ok && READ_ONCE(tv.hdr->head) == 11,
	      "turn: and can be once its turn is back");
	/* head moved a lap back: the slot at head is a lap ahead of it */
	WRITE_ONCE(tv.hdr->head, 7);
	errors = lfq_ring_errors(ring);
	CHECK(lfq_turn_try_push(ring, &v) == -EIO &&
	      lfq_ring_errors(ring) == errors + 1,
	      "turn: a head moved a lap back is -EIO");
	WRITE_ONCE(tv.hdr->tail, 7);
	CHECK(lfq_turn_try_pop(ring, &x) == -EIO,
	      "turn: so is a tail moved a lap back");
	/* moved a lap ahead: the slots are not there yet, which is no error */
	WRITE_ONCE(tv.hdr->head, 15);
	WRITE_ONCE(tv.hdr->tail, 15);
	errors = lfq_ring_errors(ring);
	CHECK(lfq_turn_try_push(ring, &v) == -ENOSPC &&
	      lfq_turn_try_pop(ring, &x) == -EAGAIN &&
	      lfq_turn_push(ring, &v, 1) == -ETIMEDOUT &&
	      lfq_ring_errors(ring) == errors,
	      "turn: head and tail moved a lap ahead look full and empty: -ENOSPC, -EAGAIN, -ETIMEDOUT");
out:
	lfq_ring_put(ring);
}

static void __init test_turn_blocking(void)
{
	struct lfq_turn_ref r, p;
	struct lfq_wait *ne, *nf;
	struct lfq_ring *ring;
	struct turn_view tv;
	struct blocked b;
	u64 v, x, head;
	bool done, ok;

	ring = make_turn(2, sizeof(u64));
	if (IS_ERR(ring)) {
		CHECK(false, "turn blocking: create ring");
		return;
	}
	/* find the shared words: one item through */
	if (lfq_turn_try_push_reserve(ring, &r) || lfq_turn_push_commit(ring, &r) ||
	    lfq_turn_try_pop(ring, &x)) {
		CHECK(false, "turn blocking: one item through");
		goto out;
	}
	tv = turn_view(ring, &r);
	ne = &tv.hdr->not_empty;
	nf = &tv.hdr->not_full;

	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		v = 42;
		lfq_turn_try_push(ring, &v);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == 0 && b.value == 42,
		      "turn: a pop sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	if (!blocked_start_on(&b, ring, TURN_POP_RESERVE, 0, ne)) {
		v = 43;
		lfq_turn_push(ring, &v, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == 0 && b.value == 43,
		      "turn: a pop_reserve sleeping on an empty ring is woken by a push (%d)",
		      b.ret);
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	if (!blocked_start_on(&b, ring, TURN_PUSH, 7, nf)) {
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0,
		      "turn: a push sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == 7;
		CHECK(ok, "turn: the woken push lands after the others");
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	if (!blocked_start_on(&b, ring, TURN_PUSH_RESERVE, 8, nf)) {
		ok = lfq_turn_pop(ring, &x, 1) == 0 && x == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0,
		      "turn: a push_reserve sleeping on a full ring is woken by a pop (%d)",
		      b.ret);
		ok = lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
		     lfq_turn_try_pop(ring, &x) == 0 && x == 8;
		CHECK(ok, "turn: the reserved item lands after the others");
	}

	/* a pop sleeping behind a reservation is woken by its commit */
	v = 21;
	ok = lfq_turn_try_push_reserve(ring, &r) == 0 &&
	     lfq_turn_try_push(ring, &v) == 0;
	if (ok && !blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		memcpy(r.elem, &(u64){ 20 }, sizeof(u64));
		ok = lfq_turn_push_commit(ring, &r) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 && b.value == 20 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == 21,
		      "turn: a pop sleeping behind an uncommitted push is woken by its commit (%d)",
		      b.ret);
	}
	/* a push sleeping on a slot that a consumer still reads */
	for (v = 30; v < 32; v++)
		lfq_turn_try_push(ring, &v);
	ok = lfq_turn_try_pop_reserve(ring, &p) == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0 && x == 31 && lfq_turn_empty(ring);
	if (ok && !blocked_start_on(&b, ring, TURN_PUSH, 32, nf)) {
		ok = *(u64 *)p.elem == 30 && lfq_turn_pop_commit(ring, &p) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.slept && b.ret == 0 &&
		      lfq_turn_try_pop(ring, &x) == 0 && x == 32,
		      "turn: a push sleeping on a slot held by the last lap's consumer is woken by its pop_commit (%d)",
		      b.ret);
	}
	/* a skipped ticket, then an item: the sleeping pop gets the item */
	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		ok = lfq_turn_try_push_reserve(ring, &r) == 0;
		turn_skip(&tv, r.ticket);
		v = 50;
		ok &= lfq_turn_try_push(ring, &v) == 0;
		done = blocked_end(&b);
		CHECK(ok && done && b.ret == 0 && b.value == 50 &&
		      lfq_turn_empty(ring),
		      "turn: a sleeping pop passes over a skipped ticket to the next item (%d)",
		      b.ret);
	}

	if (!blocked_start_on(&b, ring, TURN_POP, 0, ne)) {
		kthread_stop(b.task);
		CHECK(b.slept && completion_done(&b.done) && b.ret == -EINTR,
		      "turn: kthread_stop() ends a sleeping pop with -EINTR (%d)",
		      b.ret);
	}
	for (v = 0; v < 2; v++)
		lfq_turn_try_push(ring, &v);
	head = READ_ONCE(tv.hdr->head);
	if (!blocked_start_on(&b, ring, TURN_PUSH_RESERVE, 7, nf)) {
		send_sig(SIGUSR1, b.task, 1);
		done = blocked_end(&b);
		CHECK(done && b.slept && b.ret == -EINTR &&
		      READ_ONCE(tv.hdr->head) == head && lfq_turn_size(ring) == 2,
		      "turn: a signal ends a sleeping push_reserve with -EINTR, holding no ticket (%d)",
		      b.ret);
	}
	ok = lfq_turn_try_pop(ring, &x) == 0 && x == 0 &&
	     lfq_turn_try_pop(ring, &x) == 0 && x == 1 &&
	     lfq_turn_try_pop(ring, &x) == -EAGAIN;
	CHECK(ok && READ_ONCE(nf->waiters) == 0 && READ_ONCE(ne->waiters) == 0,
	      "turn: no hole behind the interrupted calls, no waiter left counted");
	CHECK(lfq_ring_errors(ring) == 0, "turn blocking: no ring errors");
out:
	lfq_ring_put(ring);
}

/* Producers x consumers kthreads on one kernel ring, every invariant. */
static void __init test_stress(u32 type, u32 flags, u32 producers,
			       u32 consumers, u32 capacity, u32 burst,
			       u32 elem_size, u64 items)
{
	struct lfq_test_job p = {
		.role = LFQ_TEST_PRODUCE, .threads = producers, .burst = burst,
		.items = items * scale, .producers = 0, .flags = flags,
		.timeout_ms = 5000, .deadline_ms = 120000,
	};
	const char *name = type == LFQ_RING_TURN ?
			   (flags & LFQ_TEST_F_RESERVE ? "turn reserve" : "turn") :
			   "vyukov";
	struct job *prod = ERR_PTR(-EINVAL), *cons = ERR_PTR(-EINVAL);
	struct lfq_test_result rp, rc;
	u64 total = p.items * producers;
	struct lfq_ring *ring;
	bool ok;
	void *v;

	v = kmalloc(elem_size, GFP_KERNEL);
	ring = make_typed(type, capacity, elem_size);
	if (IS_ERR(ring) || !v) {
		CHECK(false, "%s stress %ux%u: create ring", name, producers,
		      consumers);
		goto out;
	}
	lfq_ring_get(ring);		/* one reference per job */
	prod = job_start(ring, &p);
	p.role = LFQ_TEST_CONSUME;
	p.threads = consumers;
	p.producers = producers;
	lfq_ring_get(ring);
	cons = job_start(ring, &p);
	if (IS_ERR(prod) || IS_ERR(cons)) {
		CHECK(false, "%s stress %ux%u: start jobs", name, producers,
		      consumers);
		goto out;
	}
	wait_event_idle(prod->wq, job_ended(prod));
	wait_event_idle(cons->wq, job_ended(cons));
	job_result(prod, &rp);
	job_result(cons, &rc);
	/* it must be empty now */
	if (type == LFQ_RING_TURN)
		ok = lfq_turn_empty(ring) && lfq_turn_try_pop(ring, v) == -EAGAIN;
	else
		ok = lfq_vyukov_empty(ring) && lfq_vyukov_try_pop(ring, v) == -EAGAIN;
	CHECK(!rp.error && !rc.error && rp.moved == total && rc.moved == total &&
	      !rc.malformed && !rc.duplicates && !rc.misordered &&
	      !rc.missing && !rc.ring_errors && ok,
	      "%s stress %ux%u capacity %u burst %u elem %u: %llu items in %llu ms (errors %d/%d, pushed %llu, malformed %llu, dup %llu, order %llu, missing %llu, ring errors %llu, empty %d)",
	      name, producers, consumers, capacity, burst, elem_size, rc.moved,
	      rc.nsecs / NSEC_PER_MSEC, rp.error, rc.error, rp.moved,
	      rc.malformed, rc.duplicates, rc.misordered, rc.missing,
	      rc.ring_errors, ok);
out:
	if (!IS_ERR(prod))
		job_free(prod);
	if (!IS_ERR(cons))
		job_free(cons);
	if (!IS_ERR(ring))
		lfq_ring_put(ring);
	kfree(v);
}

static void __init selftest(void)
{
	pr_info("KTAP version 1\n");
	test_create();
	test_try_ops();
	test_blocking();
	test_turn_api();
	test_turn_try_ops();
	test_turn_reserve();
	test_turn_skipped();
	test_turn_corrupt();
	test_turn_blocking();
	if (stress) {
		const u32 vy = LFQ_RING_VYUKOV, turn = LFQ_RING_TURN;
		const u32 item = sizeof(struct lfq_test_item);
		const u32 inplace = LFQ_TEST_F_RESERVE;

		test_stress(vy, 0, 1, 1, 64, 1, item, 100000);
		test_stress(vy, 0, 2, 2, 8, 1, 64, 50000);
		test_stress(vy, 0, 4, 4, 64, 8, 100, 25000);
		test_stress(vy, 0, 2, 1, 2, 1, item, 20000);
		test_stress(vy, 0, 1, 3, 8, 4, 4096, 5000);
		test_stress(turn, 0, 1, 1, 64, 1, item, 50000);
		test_stress(turn, 0, 2, 2, 8, 1, 64, 25000);
		test_stress(turn, 0, 4, 4, 64, 8, 100, 12500);
		test_stress(turn, 0, 2, 1, 2, 1, item, 10000);
		test_stress(turn, 0, 1, 3, 8, 4, 4096, 5000);
		test_stress(turn, inplace, 2, 2, 2, 1, item, 10000);
		test_stress(turn, inplace, 3, 3, 16, 4, 200, 10000);
		test_stress(turn, inplace, 1, 2, 2, 2, 64, 10000);
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
