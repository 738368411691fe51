// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_demo: each ring moving items across the boundary, one line per path
 * with items/s and a verdict:
 *
 *   user -> kernel     this process pushes, lfq_test.ko kthreads pop
 *   kernel -> user     lfq_test.ko kthreads push, this process pops
 *   process <-> process  a child pushes, this process pops, same ring fd
 *   killed producer    (turn, MPSC) a child is killed holding a ticket
 *                      (a reservation); the module repairs it and a
 *                      second child carries on
 *   kernel log         (MPSC) lfq_test.ko logs from kthreads, a timer
 *                      (softirq), an hrtimer (hardirq) and NMIs into one
 *                      DISCARD ring that this process drains with epoll;
 *                      records refused while the ring is full are counted
 *                      in the ring's dropped counter (the job logs them
 *                      again, so every record still arrives)
 *   overwrite          (MPSC) a process logs into an OVERWRITE ring that
 *                      nobody drains; exactly the newest records survive,
 *                      the others are counted as overwritten
 *   kernel -> 3 processes  (sequencer) a lfq_test.ko kthread produces into
 *                      one ring, and each of three processes sees every
 *                      item (multicast: a barrier each, no copies)
 *   user -> kernel + user  (sequencer) this process produces; a kthread
 *                      and a child process each consume every item
 *   user -> kernel -> user (sequencer) a pipeline: this process produces,
 *                      a kthread checks and stamps each item in place,
 *                      and a child that follows the kthread's barrier
 *                      sees only stamped items
 *   owner -> 2 kernel thieves  (work-stealing deque) this process
 *                      pushes and now and then pops at the bottom, while
 *                      two lfq_test.ko kthreads steal batches from the
 *                      top; between them every item is taken once
 *   pool fork/join     (user/sched.c, on heap deques) a recursive sum of
 *                      a hash over 0..n-1, split into tasks that two
 *                      workers push, pop and steal, against the same
 *                      sum in a plain loop
 *
 * Every item is checked on arrival (well formed, per-producer order, no
 * duplicate, no loss); a path that loses or garbles anything says FAILED
 * and the program exits 1. The turn ring's calls that wait do so the way
 * an event loop would: try, then poll() the ring fd between
 * lfq_ring_wait_begin() and lfq_ring_wait_end(), with a timeout. The
 * sequencer's consumer processes sleep in lfq_seq_wait() (their barrier
 * waits LFQ_SEQ_WAIT_BLOCK), where a kernel producer's publish wakes them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"

#define ELEM_SIZE	64
#define CAPACITY	256
#define TIMEOUT_MS	10000

/* The verbs of one ring type, each waiting up to TIMEOUT_MS. */
struct demo_ring {
	const char *name;
	__u32 type;
	__u32 policy;
	int (*push)(struct lfq_ring *ring, const void *elem);
	int (*pop)(struct lfq_ring *ring, void *elem);
	int (*try_pop)(struct lfq_ring *ring, void *elem);
	/* reserve one more slot and keep it (killed producer) */
	int (*hold)(struct lfq_ring *ring);
};

static int vyukov_push(struct lfq_ring *ring, const void *elem)
{
	return lfq_vyukov_push(ring, elem, TIMEOUT_MS);
}

static int vyukov_pop(struct lfq_ring *ring, void *elem)
{
	return lfq_vyukov_pop(ring, elem, TIMEOUT_MS);
}

/* Sleep in poll() until the ring may have events, as an event loop does. */
static int wait_ring(struct lfq_ring *ring, short events)
{
	struct pollfd pfd = { .fd = lfq_ring_fd(ring), .events = events };
	int ret = 1;

	if (lfq_ring_wait_begin(ring, events) == 0)
		ret = poll(&pfd, 1, TIMEOUT_MS);
	lfq_ring_wait_end(ring, events);
	return ret == 0 ? -ETIMEDOUT : 0;
}

static int turn_push(struct lfq_ring *ring, const void *elem)
{
	int ret;

	while ((ret = lfq_turn_try_push(ring, elem)) == -ENOSPC)
		if ((ret = wait_ring(ring, POLLOUT)))
			break;
	return ret;
}

static int turn_pop(struct lfq_ring *ring, void *elem)
{
	int ret;

	while ((ret = lfq_turn_try_pop(ring, elem)) == -EAGAIN)
		if ((ret = wait_ring(ring, POLLIN)))
			break;
	return ret;
}

static int turn_hold(struct lfq_ring *ring)
{
	struct lfq_turn_ref ref;

	return lfq_turn_push_reserve(ring, &ref);
}

static int mpsc_push(struct lfq_ring *ring, const void *elem)
{
	return lfq_mpsc_push(ring, elem, ELEM_SIZE, TIMEOUT_MS);
}

static int mpsc_try_pop(struct lfq_ring *ring, void *elem)
{
	int ret = lfq_mpsc_try_pop(ring, elem, ELEM_SIZE);

	if (ret < 0)
		return ret;
	return ret == ELEM_SIZE ? 0 : -EPROTO;
}

static int mpsc_pop(struct lfq_ring *ring, void *elem)
{
	int ret;

	while ((ret = mpsc_try_pop(ring, elem)) == -EAGAIN)
		if ((ret = wait_ring(ring, POLLIN)))
			break;
	return ret;
}

static int mpsc_hold(struct lfq_ring *ring)
{
	struct lfq_mpsc_res res;

	return lfq_mpsc_try_reserve(ring, ELEM_SIZE, &res);
}

static const struct demo_ring rings[] = {
	{ "Vyukov", LFQ_RING_VYUKOV, 0, vyukov_push, vyukov_pop,
	  lfq_vyukov_try_pop, NULL },
	{ "turn", LFQ_RING_TURN, 0, turn_push, turn_pop, lfq_turn_try_pop,
	  turn_hold },
	{ "MPSC", LFQ_RING_MPSC, LFQ_MPSC_BLOCK, mpsc_push, mpsc_pop,
	  mpsc_try_pop, mpsc_hold },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int create_ring(const struct demo_ring *dr, struct lfq_ring **ring)
{
	struct lfq_create p = {
		.type = dr->type,
		.capacity = CAPACITY,
		.elem_size = ELEM_SIZE,
		.policy = dr->policy,
	};

	return lfq_ring_create(ring, &p, LFQ_MEM_DEV);
}

/*
 * Pop n items of producer id, seq 0..n-1 in order, and check them; NULL
 * if all is well.
 */
static const char *consume(const struct demo_ring *dr, struct lfq_ring *ring,
			   unsigned int id, unsigned long long n)
{
	unsigned char elem[ELEM_SIZE];
	unsigned long long i;

	for (i = 0; i < n; i++) {
		if (dr->pop(ring, elem))
			return "timed out waiting for an item";
		if (lfq_test_item_bad(elem, ELEM_SIZE, id + 1) ||
		    lfq_test_item_get(elem).producer != id)
			return "malformed item";
		if (lfq_test_item_get(elem).seq != i)
			return "item lost, duplicated or out of order";
	}
	if (dr->try_pop(ring, elem) != -EAGAIN)
		return "more items than were pushed";
	return NULL;
}

static int produce(const struct demo_ring *dr, struct lfq_ring *ring,
		   unsigned int id, unsigned long long n)
{
	unsigned char elem[ELEM_SIZE];
	unsigned long long i;
	int ret;

	for (i = 0; i < n; i++) {
		lfq_test_item_make(elem, ELEM_SIZE, id, i);
		ret = dr->push(ring, elem);
		if (ret)
			return ret;
	}
	return 0;
}

/* Start a job of lfq_test.ko on our ring fd. */
static int start(const struct lfq_test_job *job)
{
	int dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -errno;
	fd = ioctl(dev, LFQ_TEST_IOC_START, job);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

/* Start one kernel thread of lfq_test.ko on our ring fd. */
static int start_job(struct lfq_ring *ring, unsigned int role,
		     unsigned long long n)
{
	struct lfq_test_job job = {
		.ring_fd = lfq_ring_fd(ring), .role = role, .threads = 1,
		.burst = 1, .items = n, .producers = role == LFQ_TEST_CONSUME,
		.timeout_ms = 10000,
	};

	return start(&job);
}

/* What the kernel side of a job saw: NULL if all is well. */
static const char *job_result(int job, unsigned long long n,
			      struct lfq_test_result *rp)
{
	struct lfq_test_result r;
	int ret = ioctl(job, LFQ_TEST_IOC_RESULT, &r);

	close(job);
	if (rp)
		*rp = r;
	if (ret)
		return "no result from the kernel job";
	if (r.error)
		return strerror(-r.error);
	if (r.moved != n || r.malformed || r.duplicates || r.misordered ||
	    r.missing)
		return "the kernel saw lost, duplicated, garbled or misordered items";
	return NULL;
}

static const char *job_verdict(int job, unsigned long long n)
{
	return job_result(job, n, NULL);
}

static int report(const struct demo_ring *dr, const char *path,
		  unsigned long long items, double secs, const char *problem)
{
	char name[48];

	snprintf(name, sizeof(name), "%s: %s", dr->name, path);
	if (problem)
		printf("%-36s FAILED: %s\n", name, problem);
	else
		printf("%-36s %9llu items  %10.0f items/s  verified\n", name,
		       items, secs > 0 ? items / secs : 0.0);
	return problem ? 1 : 0;
}

static int user_to_kernel(const struct demo_ring *dr, unsigned long long n)
{
	const char *problem = NULL;
	struct lfq_ring *ring;
	int job, ret;
	double t0;

	ret = create_ring(dr, &ring);
	if (ret)
		return report(dr, "user -> kernel", 0, 0, strerror(-ret));
	t0 = now();
	job = start_job(ring, LFQ_TEST_CONSUME, n);
	if (job < 0)
		problem = strerror(-job);
	else if ((ret = produce(dr, ring, 0, n)))
		problem = strerror(-ret);
	if (job >= 0) {
		const char *verdict = job_verdict(job, n);

		problem = problem ? problem : verdict;
	}
	lfq_ring_destroy(ring);
	return report(dr, "user -> kernel", n, now() - t0, problem);
}

static int kernel_to_user(const struct demo_ring *dr, unsigned long long n)
{
	const char *problem;
	struct lfq_ring *ring;
	int job, ret;
	double t0;

	ret = create_ring(dr, &ring);
	if (ret)
		return report(dr, "kernel -> user", 0, 0, strerror(-ret));
	t0 = now();
	job = start_job(ring, LFQ_TEST_PRODUCE, n);
	if (job < 0) {
		lfq_ring_destroy(ring);
		return report(dr, "kernel -> user", 0, 0, strerror(-job));
	}
	problem = consume(dr, ring, 0, n);
	if (!problem)
		problem = job_verdict(job, n);
	else
		close(job);
	lfq_ring_destroy(ring);
	return report(dr, "kernel -> user", n, now() - t0, problem);
}

/*
 * A child that attaches through the inherited ring fd, joins when it can
 * (so that the module repairs its ticket if it dies), pushes n items as
 * producer id and, with hold, then reserves one more slot, tells the
 * parent through fd and waits to be killed holding the ticket.
 */
static pid_t spawn_producer(const struct demo_ring *dr, struct lfq_ring *ring,
			    unsigned int id, unsigned long long n, int fd)
{
	pid_t pid = fork();
	struct lfq_ring *child;
	int ret;

	if (pid)
		return pid;
	ret = lfq_ring_attach(&child, lfq_ring_fd(ring));
	if (!ret && dr->hold)
		ret = lfq_ring_join(child);
	if (ret || produce(dr, child, id, n))
		_exit(1);
	if (fd >= 0) {
		if (dr->hold(child) || write(fd, "x", 1) != 1)
			_exit(1);
		pause();
	}
	_exit(0);
}

static const char *reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return "producer process failed";
	return NULL;
}

static int process_to_process(const struct demo_ring *dr, unsigned long long n)
{
	struct lfq_ring *ring;
	const char *problem;
	const char *verdict;
	double t0;
	pid_t pid;
	int ret;

	ret = create_ring(dr, &ring);
	if (ret)
		return report(dr, "process <-> process", 0, 0, strerror(-ret));
	t0 = now();
	pid = spawn_producer(dr, ring, 0, n, -1);
	problem = consume(dr, ring, 0, n);
	verdict = reap(pid);
	lfq_ring_destroy(ring);
	return report(dr, "process <-> process", n, now() - t0,
		      problem ? problem : verdict);
}

/*
 * kill -9 of a producer between its ticket and its publish: the module
 * repairs the ticket when the child's joined fd goes, the consumer skips
 * it, and a second producer's items all arrive.
 */
static int killed_producer(const struct demo_ring *dr, unsigned long long n)
{
	const char *problem = NULL;
	struct lfq_repairs rep;
	struct lfq_ring *ring;
	int pipefd[2], ret;
	pid_t pid;
	double t0;
	char c;

	ret = create_ring(dr, &ring);
	if (!ret && pipe2(pipefd, O_CLOEXEC))
		ret = -errno;
	if (ret)
		return report(dr, "killed producer, repaired", 0, 0, strerror(-ret));
	t0 = now();
	pid = spawn_producer(dr, ring, 0, n / 2, pipefd[1]);
	problem = consume(dr, ring, 0, n / 2);
	if (!problem && read(pipefd[0], &c, 1) != 1)
		problem = "the producer did not reserve its slot";
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!problem) {
		pid = spawn_producer(dr, ring, 1, n - n / 2, -1);
		problem = consume(dr, ring, 1, n - n / 2);
		if (!problem)
			problem = reap(pid);
		else
			kill(pid, SIGKILL), waitpid(pid, NULL, 0);
	}
	if (!problem && (lfq_ring_repairs(ring, &rep) || rep.skipped != 1 ||
			 rep.dropped || rep.unresolved))
		problem = "the repair counters do not say one slot skipped";
	close(pipefd[0]);
	close(pipefd[1]);
	lfq_ring_destroy(ring);
	return report(dr, "killed producer, repaired", n, now() - t0, problem);
}

/*
 * lfq_test.ko logs n records from each of its kthreads and from a timer,
 * an hrtimer and NMIs into one DISCARD ring of ours, which we drain
 * through epoll: every record must arrive once, in order per producer.
 */
#define LOG_THREADS	2
#define LOG_SOURCES	(LOG_THREADS + 3)

static int kernel_log(unsigned long long n)
{
	static const struct demo_ring dr = {
		.name = "MPSC", .type = LFQ_RING_MPSC,
		.policy = LFQ_MPSC_DISCARD,
	};
	unsigned long long next[LOG_SOURCES] = { 0 }, got = 0;
	unsigned char elem[ELEM_SIZE];
	const char *problem = NULL;
	struct lfq_mpsc_stats stats;
	struct lfq_test_result r;
	struct lfq_ring *ring;
	struct lfq_test_item it;
	const char *verdict;
	int job, ret;
	double t0;

	ret = create_ring(&dr, &ring);
	if (ret)
		return report(&dr, "kernel log, 4 contexts", 0, 0, strerror(-ret));
	t0 = now();
	job = start(&(struct lfq_test_job){
		.ring_fd = lfq_ring_fd(ring), .role = LFQ_TEST_PRODUCE,
		.threads = LOG_THREADS, .burst = 1, .items = n,
		.flags = LFQ_TEST_F_IRQ, .timeout_ms = 10000,
	});
	if (job < 0) {
		lfq_ring_destroy(ring);
		return report(&dr, "kernel log, 4 contexts", 0, 0, strerror(-job));
	}
	while (!problem && got < n * LOG_SOURCES) {
		ret = mpsc_pop(ring, elem);
		if (ret) {
			problem = "timed out waiting for a record";
			break;
		}
		it = lfq_test_item_get(elem);
		if (it.producer >= LOG_SOURCES ||
		    lfq_test_item_bad(elem, ELEM_SIZE, LOG_SOURCES))
			problem = "malformed record";
		else if (it.seq != next[it.producer]++)
			problem = "record lost, duplicated or out of order";
		got++;
	}
	verdict = job_result(job, n * LOG_SOURCES, &r);
	problem = problem ? problem : verdict;
	lfq_mpsc_stats(ring, &stats);
	lfq_ring_destroy(ring);
	ret = report(&dr, "kernel log, 4 contexts", got, now() - t0, problem);
	if (!problem)
		printf("%36s task %llu, softirq %llu, hardirq %llu, NMI %llu;"
		       " %llu refused when full (counted, logged again)\n", "",
		       (unsigned long long)r.ctx_moved[LFQ_TEST_CTX_TASK],
		       (unsigned long long)r.ctx_moved[LFQ_TEST_CTX_SOFTIRQ],
		       (unsigned long long)r.ctx_moved[LFQ_TEST_CTX_HARDIRQ],
		       (unsigned long long)r.ctx_moved[LFQ_TEST_CTX_NMI],
		       (unsigned long long)stats.dropped);
	return ret;
}

/*
 * An OVERWRITE ring nobody drains while n records go in: the newest
 * CAPACITY survive, in order, and the rest are counted as overwritten.
 */
static int overwrite(unsigned long long n)
{
	static const struct demo_ring dr = {
		.name = "MPSC", .type = LFQ_RING_MPSC,
		.policy = LFQ_MPSC_OVERWRITE,
	};
	unsigned char elem[ELEM_SIZE];
	const char *problem = NULL;
	struct lfq_mpsc_stats stats;
	struct lfq_ring *ring;
	unsigned long long i;
	int ret;
	double t0;

	ret = create_ring(&dr, &ring);
	if (ret)
		return report(&dr, "overwrite keeps the newest", 0, 0,
			      strerror(-ret));
	t0 = now();
	for (i = 0; !problem && i < n; i++) {
		lfq_test_item_make(elem, ELEM_SIZE, 0, i);
		if (lfq_mpsc_try_push(ring, elem, ELEM_SIZE))
			problem = "a push into the full ring failed";
	}
	for (i = n - CAPACITY; !problem && i < n; i++)
		if (mpsc_try_pop(ring, elem) ||
		    lfq_test_item_bad(elem, ELEM_SIZE, 1) ||
		    lfq_test_item_get(elem).seq != i)
			problem = "the newest records did not survive in order";
	if (!problem && (mpsc_try_pop(ring, elem) != -EAGAIN ||
			 lfq_mpsc_stats(ring, &stats) ||
			 stats.overwritten != n - CAPACITY || stats.dropped))
		problem = "more records, or counters that do not add up";
	lfq_ring_destroy(ring);
	ret = report(&dr, "overwrite keeps the newest", n, now() - t0,
		     problem);
	if (!problem)
		printf("%36s %llu records overwritten, %u kept\n", "",
		       n - CAPACITY, CAPACITY);
	return ret;
}

/*
 * The sequencer: one ring, every consumer sees every item. Consumer
 * processes fork from us, attach the inherited ring fd and join with a
 * barrier of their own (the claim record of their joined fd, which the
 * module frees however they end); kernel consumers join in START.
 */
#define SEQ_CONSUMERS	3	/* processes of the multicast line */
#define SEQ_BURST	32	/* sequences claimed, at most, per call */

static const struct demo_ring seq_ring = {
	.name = "sequencer", .type = LFQ_RING_SEQ, .policy = LFQ_SEQ_SINGLE,
};

/* What a consumer process found: its exit status, an index here. */
enum {
	SEQ_OK, SEQ_JOIN, SEQ_TIMEOUT, SEQ_LEFT, SEQ_MALFORMED, SEQ_UNSTAMPED,
	SEQ_ORDER, SEQ_EXTRA, SEQ_NR_PROBLEMS
};

static const char *const seq_problems[SEQ_NR_PROBLEMS] = {
	[SEQ_JOIN] = "a consumer process could not join the ring",
	[SEQ_TIMEOUT] = "a consumer process timed out waiting for an item",
	[SEQ_LEFT] = "the stage a consumer process followed left before its last item",
	[SEQ_MALFORMED] = "a consumer process saw a malformed item",
	[SEQ_UNSTAMPED] = "a consumer process saw an item the kernel stage had not finished",
	[SEQ_ORDER] = "a consumer process saw an item lost, duplicated or out of order",
	[SEQ_EXTRA] = "a consumer process saw more items than were published",
};

/*
 * Item i of producer 0? With stamped, the kernel stage must have flipped
 * its check word (LFQ_TEST_F_STAMP): an item still whole is unstamped,
 * and the flip is undone in our copy before the check.
 */
static int seq_check_item(const void *elem, unsigned long long i, bool stamped)
{
	unsigned char copy[ELEM_SIZE];
	struct lfq_test_item it;

	memcpy(copy, elem, ELEM_SIZE);
	it = lfq_test_item_get(copy);
	if (stamped) {
		if (!lfq_test_item_bad(copy, ELEM_SIZE, 1))
			return SEQ_UNSTAMPED;
		it.check = ~it.check;
		memcpy(copy, &it, sizeof(it));
	}
	if (lfq_test_item_bad(copy, ELEM_SIZE, 1))
		return SEQ_MALFORMED;
	return it.seq == i ? SEQ_OK : SEQ_ORDER;
}

/*
 * Wait for n items, check each batch in place and finish it, which lets
 * the producer reuse its slots; then nothing more may be available.
 */
static int seq_consume(struct lfq_seq_consumer *c, unsigned long long n,
		       bool stamped)
{
	unsigned long long i = 0;
	uint64_t next = c->seq + 1, avail;
	int ret;

	while (i < n) {
		ret = lfq_seq_wait(c, next, &avail, TIMEOUT_MS);
		if (ret)
			return ret == -EPIPE ? SEQ_LEFT : SEQ_TIMEOUT;
		for (; next != avail + 1; next++, i++) {
			if (i == n)
				return SEQ_EXTRA;
			ret = seq_check_item(lfq_seq_elem(c->ring, next), i,
					     stamped);
			if (ret)
				return ret;
		}
		if (lfq_seq_done(c, avail))
			return SEQ_ORDER;
	}
	/* -EPIPE: the stage we follow has finished and left */
	ret = lfq_seq_try_wait(c, next, &avail);
	return ret == -EAGAIN || ret == -EPIPE ? SEQ_OK : SEQ_EXTRA;
}

/* A consumer process: join following follows, say so on ready, consume. */
static pid_t spawn_seq_consumer(struct lfq_ring *ring, __u32 follows,
				bool stamped, unsigned long long n,
				const int ready[2])
{
	struct lfq_seq_consumer c;
	struct lfq_ring *child;
	pid_t pid = fork();

	if (pid)
		return pid;
	close(ready[0]);
	if (lfq_ring_attach(&child, lfq_ring_fd(ring)) ||
	    lfq_seq_join(child, follows, LFQ_SEQ_WAIT_BLOCK, &c) ||
	    write(ready[1], "x", 1) != 1)
		_exit(SEQ_JOIN);
	close(ready[1]);
	_exit(seq_consume(&c, n, stamped));
}

/* Reap k consumer processes: the first problem one of them saw, or NULL. */
static const char *reap_consumers(const pid_t *pids, unsigned int k)
{
	const char *problem = NULL, *p;
	unsigned int i;
	int status;

	for (i = 0; i < k; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status))
			p = "a consumer process died";
		else if (WEXITSTATUS(status) >= SEQ_NR_PROBLEMS)
			p = "a consumer process failed";
		else
			p = seq_problems[WEXITSTATUS(status)];
		problem = problem ? problem : p;
	}
	return problem;
}

static void stop_consumers(const pid_t *pids, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	reap_consumers(pids, k);
}

/*
 * Fork k consumer processes of n items each and wait until all of them
 * have joined, so that they see everything published from now on: NULL,
 * or the problem (and none of them is left running).
 */
static const char *spawn_consumers(struct lfq_ring *ring, __u32 follows,
				   bool stamped, unsigned long long n,
				   pid_t *pids, unsigned int k)
{
	unsigned int i, joined = 0;
	int ready[2];
	char c;

	if (pipe2(ready, O_CLOEXEC))
		return strerror(errno);
	for (i = 0; i < k; i++)
		pids[i] = spawn_seq_consumer(ring, follows, stamped, n, ready);
	close(ready[1]);
	/* a process that cannot join exits without a byte: EOF */
	while (joined < k && read(ready[0], &c, 1) == 1)
		joined++;
	close(ready[0]);
	if (joined == k)
		return NULL;
	stop_consumers(pids, k);
	return seq_problems[SEQ_JOIN];
}

/*
 * One lfq_test.ko kthread on our sequencer ring: a producer, or a consumer
 * of its own following the producer (joined when START returns).
 */
static int start_seq_job(struct lfq_ring *ring, unsigned int role,
			 __u32 flags, unsigned long long n)
{
	bool consume = role == LFQ_TEST_CONSUME;

	return start(&(struct lfq_test_job){
		.ring_fd = lfq_ring_fd(ring), .role = role, .threads = 1,
		.burst = SEQ_BURST, .items = n, .producers = consume,
		.timeout_ms = TIMEOUT_MS, .flags = flags,
		.follows = consume ? LFQ_SEQ_PRODUCER : 0,
		.wait = consume ? LFQ_SEQ_WAIT_BLOCK : 0,
	});
}

/* Produce n items as producer 0, written in place, SEQ_BURST a claim. */
static int seq_produce(struct lfq_ring *ring, unsigned long long n)
{
	unsigned long long i;
	int got, k, ret;
	uint64_t first;

	for (i = 0; i < n; i += got) {
		got = lfq_seq_claim_up_to(ring, n - i < SEQ_BURST ? n - i :
					  SEQ_BURST, &first, TIMEOUT_MS);
		if (got < 0)
			return got;
		for (k = 0; k < got; k++)
			lfq_test_item_make(lfq_seq_elem(ring, first + k),
					   ELEM_SIZE, 0, i + k);
		ret = lfq_seq_publish_range(ring, first, first + got - 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* The ACTIVE barriers of a sequencer ring, a bit each, from its fdinfo. */
static int active_barriers(struct lfq_ring *ring, unsigned long long *mask)
{
	unsigned int id, state;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", lfq_ring_fd(ring));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*mask = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "lfq-barrier: %u state %u", &id, &state) == 2 &&
		    id < LFQ_CLAIMS && state == LFQ_SEQ_ACTIVE)
			*mask |= 1ULL << id;
	fclose(f);
	return 0;
}

/*
 * A sequencer line: the clock starts at *t0 (the line may start it again
 * once it has set up), it moves n items over ring, and says what went
 * wrong, or NULL and in note what it showed.
 */
typedef const char *seq_line_fn(struct lfq_ring *ring, unsigned long long n,
				double *t0, char *note, size_t size);

/* Run a sequencer line on a new ring, and report it as path. */
static int seq_line(const char *path, seq_line_fn *line, unsigned long long n)
{
	const char *problem;
	struct lfq_ring *ring;
	char note[128] = "";
	double t0 = now();
	int ret;

	ret = create_ring(&seq_ring, &ring);
	if (ret)
		return report(&seq_ring, path, 0, 0, strerror(-ret));
	problem = line(ring, n, &t0, note, sizeof(note));
	lfq_ring_destroy(ring);
	ret = report(&seq_ring, path, n, now() - t0, problem);
	if (!problem)
		printf("%36s %s\n", "", note);
	return ret;
}

/* A kthread produces; SEQ_CONSUMERS processes each see every item. */
static const char *kernel_to_processes(struct lfq_ring *ring,
				       unsigned long long n, double *t0,
				       char *note, size_t size)
{
	const char *problem, *verdict;
	pid_t pids[SEQ_CONSUMERS];
	int job;

	problem = spawn_consumers(ring, LFQ_SEQ_PRODUCER, false, n, pids,
				  SEQ_CONSUMERS);
	if (problem)
		return problem;
	*t0 = now();
	job = start_seq_job(ring, LFQ_TEST_PRODUCE, 0, n);
	if (job < 0) {
		stop_consumers(pids, SEQ_CONSUMERS);
		return strerror(-job);
	}
	problem = reap_consumers(pids, SEQ_CONSUMERS);
	verdict = job_verdict(job, n);
	snprintf(note, size, "multicast: each of the %u processes saw all %llu",
		 SEQ_CONSUMERS, n);
	return problem ? problem : verdict;
}

/*
 * A kthread of job has joined ring in START; a process joins now,
 * following follows (stamped: after the kthread, which stamps), and we
 * produce n items, which both must get.
 */
static const char *produce_to_kernel_and_process(struct lfq_ring *ring,
						 int job, __u32 follows,
						 bool stamped,
						 unsigned long long n,
						 double *t0)
{
	const char *problem, *verdict;
	pid_t pid;
	int ret;

	problem = spawn_consumers(ring, follows, stamped, n, &pid, 1);
	if (problem) {
		close(job);
		return problem;
	}
	*t0 = now();
	ret = seq_produce(ring, n);
	problem = ret ? strerror(-ret) : NULL;
	/*
	 * Reaped before the job fd is closed: a kthread that finished keeps
	 * its barrier until then, for a process that follows it may still be
	 * reading up to there (it would get -EPIPE once the barrier is freed).
	 */
	verdict = reap_consumers(&pid, 1);
	problem = problem ? problem : verdict;
	verdict = job_verdict(job, n);
	return problem ? problem : verdict;
}

static const char *user_to_kernel_and_process(struct lfq_ring *ring,
					      unsigned long long n, double *t0,
					      char *note, size_t size)
{
	int job = start_seq_job(ring, LFQ_TEST_CONSUME, 0, n);

	if (job < 0)
		return strerror(-job);
	snprintf(note, size,
		 "multicast: the kthread and the process each saw all %llu", n);
	return produce_to_kernel_and_process(ring, job, LFQ_SEQ_PRODUCER,
					     false, n, t0);
}

/*
 * A pipeline: the kthread's barrier, the one START made ACTIVE, follows
 * our publishes and it stamps each item; the process follows that
 * barrier, so it must see every item stamped.
 */
static const char *user_to_kernel_to_process(struct lfq_ring *ring,
					     unsigned long long n, double *t0,
					     char *note, size_t size)
{
	unsigned long long before, after, stage;
	int job, ret;

	ret = active_barriers(ring, &before);
	job = ret ? ret : start_seq_job(ring, LFQ_TEST_CONSUME,
					LFQ_TEST_F_STAMP, n);
	if (job < 0)
		return strerror(-job);
	if (active_barriers(ring, &after) ||
	    !(stage = after & ~before) || (stage & (stage - 1))) {
		close(job);
		return "START did not make exactly one barrier ACTIVE";
	}
	snprintf(note, size,
		 "pipeline: the process followed barrier %d (the kthread's), saw all %llu stamped",
		 __builtin_ctzll(stage), n);
	return produce_to_kernel_and_process(ring, job, __builtin_ctzll(stage),
					     true, n, t0);
}

/* ---- the work-stealing deque and the pool ------------------------------- */

static const struct demo_ring wsd_ring = {
	.name = "wsdeque", .type = LFQ_RING_WSDEQUE,
};

/* What the owner took of n items: a mark each, their count and check sum. */
struct owner_took {
	unsigned char *seen;
	unsigned long long n, popped, sum;
	const char *problem;
};

/* The owner pops one item: 0, or -EAGAIN if the deque is empty. */
static int owner_pop(struct lfq_wsdeque_worker *w, struct owner_took *t)
{
	unsigned char elem[ELEM_SIZE];
	struct lfq_test_item it;
	int ret = lfq_wsdeque_pop(w, elem);

	if (ret)
		return ret;
	it = lfq_test_item_get(elem);
	if (lfq_test_item_bad(elem, ELEM_SIZE, 1) || it.seq >= t->n)
		t->problem = "the owner popped a malformed item";
	else if (t->seen[it.seq]++)
		t->problem = "the owner popped an item twice";
	t->popped++;
	t->sum += it.check;
	return 0;
}

/*
 * This process owns the deque: it pushes n items, pops one back after
 * every fourth push (and when the deque is full), drains what is left
 * and stops the two kernel thieves. The thieves' count and check sum and
 * the owner's must add up to exactly the n items.
 */
static int deque_steal(unsigned long long n)
{
	struct owner_took t = { .n = n };
	struct lfq_test_job job = {
		.role = LFQ_TEST_CONSUME, .threads = 2, .burst = 8, .items = n,
		.producers = 1, .timeout_ms = TIMEOUT_MS,
	};
	unsigned char elem[ELEM_SIZE];
	unsigned long long i, all = 0;
	struct lfq_wsdeque_worker w;
	struct lfq_test_result r;
	const char *problem;
	struct lfq_ring *ring;
	int fd, ret;
	double t0;

	t.seen = calloc(n, 1);
	ret = t.seen ? create_ring(&wsd_ring, &ring) : -ENOMEM;
	if (ret) {
		free(t.seen);
		return report(&wsd_ring, "owner -> 2 kernel thieves", 0, 0,
			      strerror(-ret));
	}
	lfq_wsdeque_worker(ring, &w);
	job.ring_fd = lfq_ring_fd(ring);
	t0 = now();
	fd = start(&job);
	for (i = 0; fd >= 0 && i < n;) {
		lfq_test_item_make(elem, ELEM_SIZE, 0, i);
		ret = lfq_wsdeque_push(&w, elem);
		if (ret == -ENOSPC) {
			owner_pop(&w, &t);
			continue;
		}
		if (ret)
			break;
		if (++i % 4 == 0)
			owner_pop(&w, &t);
	}
	while (!owner_pop(&w, &t))
		;
	if (fd < 0)
		problem = strerror(-fd);
	else if (ret && ret != -ENOSPC)
		problem = strerror(-ret);
	else if (ioctl(fd, LFQ_TEST_IOC_STOP) || ioctl(fd, LFQ_TEST_IOC_RESULT, &r))
		problem = "no result from the kernel job";
	else if (r.error)
		problem = strerror(-r.error);
	else if (r.malformed || r.duplicates || r.misordered)
		problem = "the thieves saw garbled, duplicated or misordered items";
	else
		problem = t.problem;
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n; i++)
		all += lfq_test_check(0, i);
	if (!problem && (r.moved + t.popped != n || r.missing != t.popped ||
			 r.checksum + t.sum != all))
		problem = "items lost or taken twice between owner and thieves";
	lfq_ring_destroy(ring);
	free(t.seen);
	ret = report(&wsd_ring, "owner -> 2 kernel thieves", n,
		     now() - t0, problem);
	if (!problem)
		printf("%36s the kthreads stole %llu, the owner popped %llu: each once\n",
		       "", (unsigned long long)r.moved, t.popped);
	return ret;
}

#define SUM_LEAF	65536

/* The sum of lfq_test_check(1, i) for i in first..first+n-1. */
struct sum_job {
	struct lfq_pool *pool;
	uint64_t first, n;
	uint64_t sum;
	bool refused;			/* a spawn failed */
};

static uint64_t sum_loop(uint64_t first, uint64_t n)
{
	uint64_t i, sum = 0;

	for (i = first; i < first + n; i++)
		sum += lfq_test_check(1, i);
	return sum;
}

/* Split in two until SUM_LEAF: the left half is a task others may steal. */
static void sum_task(void *arg)
{
	struct sum_job *job = arg, left, right;
	struct lfq_group g;

	if (job->n <= SUM_LEAF) {
		job->sum = sum_loop(job->first, job->n);
		return;
	}
	left = (struct sum_job){ job->pool, job->first, job->n / 2, 0, false };
	right = (struct sum_job){ job->pool, job->first + left.n,
				  job->n - left.n, 0, false };
	lfq_group_init(&g);
	if (lfq_pool_spawn(job->pool, &g, sum_task, &left))
		job->refused = true;
	sum_task(&right);
	lfq_group_wait(job->pool, &g);
	job->sum = left.sum + right.sum;
	job->refused |= left.refused | right.refused;
}

/*
 * The pool on two workers sums n hashes by fork/join; a plain loop sums
 * them too, and the two must agree.
 */
static int pool_sum(unsigned long long n)
{
	const struct demo_ring pool_line = { .name = "pool" };
	struct sum_job root = { .n = n };
	const char *problem = NULL;
	double t0, loop, par = 0;
	struct lfq_group g;
	uint64_t want;
	int ret;

	t0 = now();
	want = sum_loop(0, n);
	loop = now() - t0;
	ret = lfq_pool_create(&root.pool, 2, 256);
	if (!ret) {
		lfq_group_init(&g);
		t0 = now();
		ret = lfq_pool_spawn(root.pool, &g, sum_task, &root);
		if (!ret)
			lfq_group_wait(root.pool, &g);
		par = now() - t0;
		lfq_pool_destroy(root.pool);
	}
	if (ret)
		problem = strerror(-ret);
	else if (root.refused)
		problem = "a spawn was refused";
	else if (root.sum != want)
		problem = "the fork/join sum differs from the loop's";
	ret = report(&pool_line, "fork/join sum, 2 workers", n, par, problem);
	if (!problem)
		printf("%36s equals the plain loop's sum; %.2fx its speed\n", "",
		       par > 0 ? loop / par : 0.0);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	unsigned int i;
	int failed = 0;

	printf("capacity %u, %u-byte items, one /dev/lfq ring per line\n",
	       CAPACITY, ELEM_SIZE);
	for (i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		failed |= user_to_kernel(&rings[i], n);
		failed |= kernel_to_user(&rings[i], n);
		failed |= process_to_process(&rings[i], n);
		if (rings[i].hold)
			failed |= killed_producer(&rings[i], n);
	}
	failed |= kernel_log(n / 100);
	failed |= overwrite(n);
	failed |= seq_line("kernel -> 3 processes", kernel_to_processes, n);
	failed |= seq_line("user -> kernel + user", user_to_kernel_and_process,
			   n);
	failed |= seq_line("user -> kernel -> user", user_to_kernel_to_process,
			   n);
	failed |= deque_steal(n);
	failed |= pool_sum(n * 20);
	return failed;
}
