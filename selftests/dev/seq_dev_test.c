// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of the sequencer (LFQ_RING_SEQ) on /dev/lfq and with the
 * kernel peer lfq_test.ko, run in the VM (selftests/dev/vm-check.sh) with
 * both modules loaded; every test skips when /dev/lfq (or /dev/lfq_test)
 * is absent.
 *
 *   abi         LFQ_IOC_CREATE with each policy and no other, LFQ_IOC_INFO
 *               against liblfq's layout, the ring region as the module
 *               formats it, slots, markers and barriers where the uapi
 *               header puts them, fdinfo
 *   multicast   producer processes, consumer processes that each join a
 *               barrier of their own (LFQ_IOC_JOIN) and see every item in
 *               order, asleep in LFQ_IOC_WAIT when caught up; the slowest
 *               holds the producers back, asleep too, until it goes on
 *   kill -9     a consumer killed while it holds the producers back, or
 *               asleep in LFQ_IOC_WAIT: the module frees its barrier, the
 *               producers go on, the others see everything, and whoever
 *               followed it gets -EPIPE
 *   poll        a joined fd is readable exactly when its next sequence is,
 *               any fd writable exactly when a sequence can be claimed;
 *               sleepers announced with lfq_ring_wait_begin() are woken
 *               from another process, and only they cost a wake-up
 *   kernel      the peer's kthreads as producers (one, or four on a MULTI
 *               ring) for consumer processes, as a consumer beside them,
 *               and as the middle stage of a pipeline that stamps items
 *   bad input   garbage in barriers (states, sequences, follows out of
 *               range), 64 joins and more, and scribblers over the whole
 *               ring: the kernel counts what it sees, clamps it, ends its
 *               jobs in time and never crashes (the VM fails the run on
 *               any oops or warning), and other rings stay exact
 *
 * Items are lfq_test_item.h items; consumers check that each is
 * well-formed and the next of its producer: every item, once, in order
 * per producer. Nothing waits on a guess: processes report through
 * shared memory, sleepers are seen asleep (/proc state, need-wakeup
 * words), and every wait has a timeout.
 *
 *   seq_dev_test [NAME...]   run the tests whose name contains a NAME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"
#include "lfq_dev_util.h"

/* Elements of the tests: an item and its fill, one 64-byte slot with the marker. */
#define ELEM		48U
/* Slots of the rings that processes share: small, so that they fill. */
#define CAP		16U
/* Items per producer in the process tests. */
#define ITEMS		5000ULL
/* Where the slowest consumer stops and holds the producers back. */
#define HOLD		100ULL
#define MAX_PROCS	8
/* No process of a test lives longer than this (seconds). */
#define CHILD_S		50

/* ---- the ring through the raw ABI ------------------------------------------ */

/* A sequencer ring seen through the raw ABI: its fd and both mappings. */
struct raw {
	struct lfq_raw_map m;
	struct lfq_seq_hdr *hdr;
	struct lfq_seq_barrier *bar;
};

/* A new sequencer ring, mapped: 0 or -errno. */
static int raw_open(struct raw *r, unsigned int policy, unsigned int capacity,
		    unsigned int elem_size)
{
	struct lfq_create c = raw_params(LFQ_RING_SEQ, policy, capacity,
					   elem_size);
	int ret = lfq_raw_map_fd(&r->m, raw_create(&c));

	r->hdr = (void *)r->m.region;
	r->bar = lfq_raw_claims(&r->m);
	return ret;
}

static void raw_close(struct raw *r)
{
	lfq_raw_unmap(&r->m);
}

/* The marker of the slot of sequence seq, and the element after it. */
static __u64 *raw_marker(const struct raw *r, __u64 seq)
{
	return lfq_raw_slot(&r->m, seq);
}

static void *raw_elem(const struct raw *r, __u64 seq)
{
	return (unsigned char *)raw_marker(r, seq) + LFQ_SEQ_SLOT_HDR;
}

/* Write a barrier as its consumer would: follows and seq, then state. */
static void raw_barrier(struct raw *r, __u32 id, __u32 state, __u64 seq,
			__u32 follows)
{
	__atomic_store_n(&r->bar[id].follows, follows, __ATOMIC_RELAXED);
	__atomic_store_n(&r->bar[id].seq, seq, __ATOMIC_RELAXED);
	st32(&r->bar[id].state, state);
}

/* The ACTIVE barriers, a bit each. */
static __u64 active_mask(const struct raw *r)
{
	__u64 mask = 0;
	__u32 i;

	for (i = 0; i < r->m.info.nr_claims; i++)
		if (ld32(&r->bar[i].state) == LFQ_SEQ_ACTIVE)
			mask |= 1ULL << i;
	return mask;
}

/* The one barrier that is ACTIVE now and was not in before, or -1. */
static int new_barrier(const struct raw *r, __u64 before)
{
	__u64 now = active_mask(r) & ~before;

	if (!now || (now & (now - 1)))
		return -1;
	return __builtin_ctzll(now);
}

/*
 * The fd of this process that owns claim record rec, as fdinfo says: the
 * joined fd that liblfq keeps for a consumer whose id is rec. -1 if none.
 */
static int claim_fd(__u32 rec)
{
	char text[8192], want[32];
	int fd;

	snprintf(want, sizeof(want), "lfq-claim:\t%u\n", rec);
	for (fd = 3; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		fdinfo(fd, text, sizeof(text));
		if (strstr(text, want))
			return fd;
	}
	return -1;
}

/* Whether fdinfo of fd has a barrier line for id (any, if line is NULL). */
static bool fdinfo_barrier(int fd, __u32 id, const char *line)
{
	char text[8192], start[32], *p;

	fdinfo(fd, text, sizeof(text));
	snprintf(start, sizeof(start), "lfq-barrier:\t%u ", id);
	p = strstr(text, start);
	return p && (!line || !strncmp(p, line, strlen(line)));
}

/* ---- items ------------------------------------------------------------------ */

/*
 * What one consumer saw of producers 0..producers-1, each writing seq
 * 0..items-1: each item must be the next of its producer, so that the
 * count says every item came, once, in order per producer. With stamped,
 * the stage before it must have flipped each check word.
 */
struct tally {
	unsigned int elem_size, producers;
	unsigned long long items, got;
	bool stamped;
	unsigned long long next[LFQ_TEST_MAX_PRODUCERS];
	char why[160];			/* the first problem */
};

static void tally_init(struct tally *t, unsigned int elem_size,
		       unsigned int producers, unsigned long long items,
		       bool stamped)
{
	memset(t, 0, sizeof(*t));
	t->elem_size = elem_size;
	t->producers = producers;
	t->items = items;
	t->stamped = stamped;
}

static int tally_fail(struct tally *t, int err, const char *fmt, ...)
{
	va_list ap;

	if (!t->why[0]) {
		va_start(ap, fmt);
		vsnprintf(t->why, sizeof(t->why), fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Check the element of sequence seq: 0 or -EBADMSG. */
static int tally_item(struct tally *t, const void *elem, __u64 seq)
{
	unsigned char copy[ELEM];
	struct lfq_test_item it;

	memcpy(copy, elem, t->elem_size);
	it = lfq_test_item_get(copy);
	if (t->stamped) {
		it.check = ~it.check;
		memcpy(copy, &it, sizeof(it));
	}
	if (lfq_test_item_bad(copy, t->elem_size, t->producers) ||
	    it.seq >= t->items)
		return tally_fail(t, -EBADMSG,
				  "sequence %llu: %s item (producer %u seq %llu)",
				  (unsigned long long)seq,
				  t->stamped ? "unstamped or malformed" : "malformed",
				  it.producer, (unsigned long long)it.seq);
	if (it.seq != t->next[it.producer])
		return tally_fail(t, -EBADMSG,
				  "sequence %llu: producer %u seq %llu, not %llu",
				  (unsigned long long)seq, it.producer,
				  (unsigned long long)it.seq,
				  t->next[it.producer]);
	t->next[it.producer]++;
	t->got++;
	return 0;
}

/*
 * Claim, write in place and publish items items of producer id, up to
 * burst a claim: 0 or -errno.
 */
static int produce(struct lfq_ring *h, __u32 id, unsigned long long items,
		   unsigned int burst)
{
	unsigned int elem_size = lfq_ring_info(h)->elem_size;
	unsigned long long seq;
	uint64_t first;
	int n, i, ret;

	for (seq = 0; seq < items; seq += n) {
		n = lfq_seq_claim_up_to(h, items - seq < burst ? items - seq : burst,
					&first, WAIT_MS);
		if (n < 0)
			return n;
		for (i = 0; i < n; i++)
			lfq_test_item_make(lfq_seq_elem(h, first + i), elem_size,
					   id, seq + i);
		ret = lfq_seq_publish_range(h, first, first + n - 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- processes ---------------------------------------------------------------- */

/* How a process is doing, in memory it shares with the test. */
enum { P_START, P_JOINED, P_HELD, P_ENDED };

struct share {
	__u32 state;			/* P_* */
	__u32 id;			/* a consumer's barrier */
	__s32 error;			/* how it ended: 0 or -errno */
	__s32 release;			/* its end of the pipe from the test */
	__u64 got;			/* items checked, or steps done */
	char why[160];			/* the first problem */
};

/* The test's ring and the processes it forked. */
struct procs {
	struct raw r;
	struct share *sh;		/* one per process, MAP_SHARED */
	pid_t pid[MAX_PROCS];		/* 0 once reaped */
	int release[MAX_PROCS];		/* write end of the process's pipe */
	unsigned int n;
};

typedef int (*proc_fn)(struct procs *p, struct share *me, const void *arg);

static int procs_open(struct procs *p, unsigned int policy,
		      unsigned int capacity)
{
	memset(p, 0, sizeof(*p));
	p->sh = mmap(NULL, MAX_PROCS * sizeof(*p->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->sh == MAP_FAILED) {
		p->sh = NULL;
		return -errno;
	}
	return raw_open(&p->r, policy, capacity, ELEM);
}

/* Kill whatever a failed test left running, and let the ring go. */
static void procs_close(struct procs *p)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		if (p->pid[i] > 0) {
			kill(p->pid[i], SIGKILL);
			waitpid(p->pid[i], NULL, 0);
		}
		close(p->release[i]);
	}
	if (p->sh)
		munmap(p->sh, MAX_PROCS * sizeof(*p->sh));
	raw_close(&p->r);
	p->sh = NULL;
	p->n = 0;
}

/*
 * Fork process i running fn, which may read me->release to wait for a
 * byte from the test (p->release[i]). The child keeps the ring fd and
 * closes every other fd it inherited, so that it holds no job fd and no
 * joined fd, hence no barrier, of the test. The index, or -1.
 */
static int spawn(struct procs *p, proc_fn fn, const void *arg)
{
	unsigned int i = p->n;
	struct share *me = &p->sh[i];
	int rel[2], fd;
	pid_t pid;

	if (i == MAX_PROCS || pipe2(rel, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(rel[0]);
		close(rel[1]);
		return -1;
	}
	if (pid == 0) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != p->r.m.fd && fd != rel[0])
				close(fd);
		alarm(CHILD_S);
		me->release = rel[0];
		me->error = fn(p, me, arg);
		st32(&me->state, P_ENDED);
		_exit(me->error ? 1 : 0);
	}
	close(rel[0]);
	p->pid[i] = pid;
	p->release[i] = rel[1];
	return p->n++;
}

/* Wait until process i is at least at state want: its state, or -ETIMEDOUT. */
static int wait_state(const struct procs *p, unsigned int i, __u32 want)
{
	long long end = now_ms() + WAIT_MS;
	__u32 state;

	while ((state = ld32(&p->sh[i].state)) < want) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return state;
}

/* Wait for process i to end: how it ended, or -ECHILD if it did not exit. */
static int reap(struct procs *p, unsigned int i)
{
	int status;

	if (waitpid(p->pid[i], &status, 0) != p->pid[i])
		return -ECHILD;
	p->pid[i] = 0;
	return WIFEXITED(status) ? p->sh[i].error : -ECHILD;
}

/* A consumer process. */
struct cons {
	__u32 follows;			/* LFQ_SEQ_PRODUCER or a barrier */
	unsigned int producers;		/* it takes producers * items items */
	unsigned long long items;
	unsigned long long hold;	/* if not 0: hold after this many */
	bool stamped;
};

/*
 * Wait for the next sequence, check the batch in place and finish it,
 * until every item expected has come. At hold items, say so and wait
 * for a byte from the test (or to be killed).
 */
static int consume(struct lfq_seq_consumer *c, struct tally *t,
		   struct share *me, unsigned long long hold)
{
	unsigned long long want = t->producers * t->items, stop, n;
	uint64_t next, avail, s;
	char go;
	int ret;

	while (t->got < want) {
		next = c->seq + 1;
		ret = lfq_seq_wait(c, next, &avail, WAIT_MS);
		if (ret)
			return tally_fail(t, ret, "wait for %llu: %d",
					  (unsigned long long)next, ret);
		/* no further than the hold, nor past what we expect */
		stop = hold > t->got ? hold : want;
		n = avail - next + 1;
		if (n > stop - t->got)
			n = stop - t->got;
		for (s = next; s != next + n; s++)
			if (tally_item(t, lfq_seq_elem(c->ring, s), s))
				return -EBADMSG;
		ret = lfq_seq_done(c, next + n - 1);
		if (ret)
			return tally_fail(t, ret, "done %llu: %d",
					  (unsigned long long)(next + n - 1), ret);
		__atomic_store_n(&me->got, t->got, __ATOMIC_RELEASE);
		if (t->got == hold) {
			st32(&me->state, P_HELD);
			if (read(me->release, &go, 1) != 1)
				return tally_fail(t, -EPIPE, "never released");
		}
	}
	return 0;
}

static int consumer_fn(struct procs *p, struct share *me, const void *arg)
{
	const struct cons *cs = arg;
	struct lfq_seq_consumer c;
	struct lfq_ring *h;
	struct tally t;
	int ret;

	ret = lfq_ring_attach(&h, p->r.m.fd);
	if (ret)
		return ret;
	ret = lfq_seq_join(h, cs->follows, LFQ_SEQ_WAIT_BLOCK, &c);
	if (ret) {
		snprintf(me->why, sizeof(me->why), "join: %d", ret);
		lfq_ring_destroy(h);
		return ret;
	}
	me->id = c.id;
	st32(&me->state, P_JOINED);
	tally_init(&t, p->r.m.info.elem_size, cs->producers, cs->items,
		   cs->stamped);
	ret = consume(&c, &t, me, cs->hold);
	memcpy(me->why, t.why, sizeof(me->why));
	lfq_seq_leave(&c);
	lfq_ring_destroy(h);
	return ret;
}

/* A producer process: items of producer id, burst a claim. */
struct prod {
	__u32 id;
	unsigned long long items;
	unsigned int burst;
};

static int producer_fn(struct procs *p, struct share *me, const void *arg)
{
	const struct prod *pr = arg;
	struct lfq_ring *h;
	int ret;

	ret = lfq_ring_attach(&h, p->r.m.fd);
	if (ret)
		return ret;
	ret = produce(h, pr->id, pr->items, pr->burst);
	if (ret)
		snprintf(me->why, sizeof(me->why), "produce: %d", ret);
	lfq_ring_destroy(h);
	return ret;
}

/* ---- the kernel's jobs ---------------------------------------------------------- */

/* A consume job of one kthread that follows follows and sleeps in its waits. */
static struct lfq_test_job kconsumer(int fd, unsigned int producers,
				     unsigned long long items, __u32 follows)
{
	struct lfq_test_job j = job_params(fd, LFQ_TEST_CONSUME, 1, producers,
					   items, 8);

	j.follows = follows;
	j.wait = LFQ_SEQ_WAIT_BLOCK;
	return j;
}

/*
 * Start a consume job that joins a barrier in START: the job fd and, in
 * *id, the barrier it took, or -errno.
 */
static int kconsumer_start(const struct raw *r, const struct lfq_test_job *j,
			   int *id)
{
	__u64 before = active_mask(r);
	int job = job_start(j);

	if (job < 0)
		return job;
	*id = new_barrier(r, before);
	if (*id < 0) {
		close(job);
		return -EPROTO;
	}
	return job;
}

/*
 * A produce job of one kthread and items items: it must move exactly
 * moved, and end on its (short) timeout if that is fewer.
 */
static void kproduce_expect(struct __test_metadata *_metadata, int fd,
			    unsigned long long items, unsigned long long moved)
{
	struct lfq_test_job j = job_params(fd, LFQ_TEST_PRODUCE, 1, 0, items, 4);
	struct lfq_test_result res;
	int job;

	j.timeout_ms = 300;
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &res));
	LOG_RESULT("kernel producer", res);
	EXPECT_EQ(moved, res.moved);
	EXPECT_EQ(moved < items ? -ETIMEDOUT : 0, res.error);
}

/* ---- the ring fd ------------------------------------------------------------------ */

TEST(seq_create_takes_single_and_multi_and_no_other_policy)
{
	static const struct bad_create bad[] = {
		{ "policy 2", { .type = 4, .capacity = 4, .elem_size = 8, .policy = 2 }, -EINVAL },
		{ "policy ~0", { .type = 4, .capacity = 4, .elem_size = 8, .policy = ~0U }, -EINVAL },
		{ "flag bit 0", { .type = 4, .capacity = 4, .elem_size = 8, .flags = 1 }, -EINVAL },
		{ "capacity 12", { .type = 4, .capacity = 12, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 4, .capacity = 4, .elem_size = 0 }, -EINVAL },
	};
	static const struct lfq_create good[] = {
		{ .type = 4, .capacity = 2, .elem_size = 1, .policy = LFQ_SEQ_SINGLE },
		{ .type = 4, .capacity = 2, .elem_size = 1, .policy = LFQ_SEQ_MULTI },
		{ .type = 4, .capacity = 1024, .elem_size = 4000, .policy = LFQ_SEQ_MULTI },
	};

	REQUIRE_DEV();
	expect_creates(_metadata, bad, ARRAY_SIZE(bad), good, ARRAY_SIZE(good));
	/* SINGLE and MULTI, 0 and 1 */
	expect_policies(_metadata, LFQ_RING_SEQ, LFQ_SEQ_MULTI + 1, ELEM);
}

/* LFQ_IOC_INFO, the descriptor and liblfq's own layout all agree. */
TEST(seq_info_is_liblfqs_layout)
{
	static const struct lfq_create rings[] = {
		{ .type = 4, .capacity = 64, .elem_size = ELEM, .policy = LFQ_SEQ_SINGLE },
		{ .type = 4, .capacity = 2, .elem_size = 1, .policy = LFQ_SEQ_MULTI },
		{ .type = 4, .capacity = 1024, .elem_size = 4000, .policy = LFQ_SEQ_MULTI },
	};
	unsigned long long stride;
	struct lfq_ring *dev, *heap;
	struct lfq_info info;
	unsigned int i;
	struct raw r;

	REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(rings); i++) {
		const struct lfq_create *c = &rings[i];

		/* the 8-byte marker, then the element, in whole lines */
		stride = (8 + c->elem_size + 63) / 64 * 64;
		ASSERT_EQ(0, raw_open(&r, c->policy, c->capacity, c->elem_size));
		/* slots at LFQ_SEQ_SLOTS_OFF, then the barriers */
		expect_info(_metadata, r.m.fd, c, 256, stride,
			    sizeof(struct lfq_seq_barrier), &info);
		EXPECT_EQ(64, info.nr_claims);		/* LFQ_CLAIMS */
		EXPECT_EQ(0, memcmp(&r.m.desc->info, &info, sizeof(info)));
		EXPECT_EQ(0, r.m.desc->errors);
		raw_close(&r);

		ASSERT_EQ(0, lfq_ring_create(&dev, c, LFQ_MEM_DEV));
		ASSERT_EQ(0, lfq_ring_create(&heap, c, LFQ_MEM_HEAP));
		expect_same_layout(_metadata, c, dev, heap);
		lfq_ring_destroy(heap);
		lfq_ring_destroy(dev);
	}
}

/*
 * The module formats the ring region: cursor and gate one before
 * sequence 0 (LFQ_SEQ_INITIAL), everything else zero: head, wait words,
 * markers, and every barrier free.
 */
TEST(seq_ring_region_starts_one_before_sequence_zero)
{
	struct lfq_seq_hdr hdr, zero = { 0 };
	size_t i, psz = getpagesize();
	unsigned int policy;
	struct raw r;
	void *p;

	REQUIRE_DEV();
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		ASSERT_EQ(0, raw_open(&r, policy, 8, ELEM));
		EXPECT_EQ(LFQ_SEQ_INITIAL, r.hdr->cursor);
		EXPECT_EQ(LFQ_SEQ_INITIAL, r.hdr->gate);
		/* the rest of the header: head, pads, wait words */
		memcpy(&hdr, r.hdr, sizeof(hdr));
		hdr.cursor = hdr.gate = 0;
		EXPECT_EQ(0, memcmp(&hdr, &zero, sizeof(hdr)));
		for (i = sizeof(hdr); i < r.m.info.ring_size; i++)
			if (r.m.region[i])
				break;
		EXPECT_EQ(r.m.info.ring_size, i);
		p = mmap(NULL, r.m.info.ring_size + psz, PROT_READ | PROT_WRITE,
			 MAP_SHARED, r.m.fd, LFQ_OFF_RING);
		EXPECT_EQ(MAP_FAILED, p);
		raw_close(&r);
	}
}

/*
 * liblfq writes items where the uapi header says, and publishes them as
 * it says: SINGLE moves the cursor and leaves the markers zero, MULTI
 * sets the marker of sequence s to s + 1, on every lap; a consumer's
 * barrier holds the last sequence it finished.
 */
TEST(seq_slots_markers_and_barriers_are_where_the_uapi_says)
{
	struct lfq_seq_consumer c;
	struct lfq_ring *h, *hc;
	unsigned int policy;
	uint64_t first, avail, s;
	struct raw r;

	REQUIRE_DEV();
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		ASSERT_EQ(0, raw_open(&r, policy, 4, ELEM));
		ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
		ASSERT_EQ(0, lfq_ring_attach(&hc, r.m.fd));
		ASSERT_EQ(0, lfq_seq_join(hc, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
		EXPECT_EQ(LFQ_SEQ_INITIAL, c.seq);
		EXPECT_EQ(LFQ_SEQ_ACTIVE, r.bar[c.id].state);
		EXPECT_EQ(LFQ_SEQ_INITIAL, r.bar[c.id].seq);
		EXPECT_EQ(LFQ_SEQ_PRODUCER, r.bar[c.id].follows);

		ASSERT_EQ(3, lfq_seq_try_claim_up_to(h, 3, &first));
		EXPECT_EQ(0, first);
		EXPECT_EQ(3, r.hdr->head);
		for (s = 0; s < 3; s++)
			lfq_test_item_make(lfq_seq_elem(h, s), ELEM, 0, s);
		EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 0, &avail));
		ASSERT_EQ(0, lfq_seq_publish_range(h, 0, 2));
		for (s = 0; s < 3; s++) {
			EXPECT_EQ(policy == LFQ_SEQ_MULTI ? s + 1 : 0,
				  *raw_marker(&r, s));
			EXPECT_EQ(0, lfq_test_item_bad(raw_elem(&r, s), ELEM, 1));
			EXPECT_EQ(s, lfq_test_item_get(raw_elem(&r, s)).seq);
		}
		EXPECT_EQ(policy == LFQ_SEQ_MULTI ? LFQ_SEQ_INITIAL : 2,
			  r.hdr->cursor);
		ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
		EXPECT_EQ(2, avail);
		ASSERT_EQ(0, lfq_seq_done(&c, 2));
		EXPECT_EQ(2, r.bar[c.id].seq);

		/* the next lap: sequence 4 in slot 0 */
		ASSERT_EQ(2, lfq_seq_try_claim_up_to(h, 2, &first));
		EXPECT_EQ(3, first);
		lfq_test_item_make(lfq_seq_elem(h, 3), ELEM, 0, 3);
		lfq_test_item_make(lfq_seq_elem(h, 4), ELEM, 0, 4);
		if (policy == LFQ_SEQ_MULTI) {
			/* 4 alone: consumers wait for 3 */
			ASSERT_EQ(0, lfq_seq_publish(h, 4));
			EXPECT_EQ(5, *raw_marker(&r, 4));
			EXPECT_EQ(0, *raw_marker(&r, 3));
			EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 3, &avail));
			ASSERT_EQ(0, lfq_seq_publish(h, 3));
			EXPECT_EQ(4, *raw_marker(&r, 3));
		} else {
			/* 3 and 4 at once: the cursor */
			ASSERT_EQ(0, lfq_seq_publish(h, 4));
			EXPECT_EQ(4, r.hdr->cursor);
			EXPECT_EQ(0, *raw_marker(&r, 4));
		}
		EXPECT_EQ(4, lfq_test_item_get(raw_elem(&r, 0)).seq);
		ASSERT_EQ(0, lfq_seq_try_wait(&c, 3, &avail));
		EXPECT_EQ(4, avail);
		lfq_seq_leave(&c);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[c.id].state);
		EXPECT_EQ(0, r.m.desc->errors);
		lfq_ring_destroy(hc);
		lfq_ring_destroy(h);
		raw_close(&r);
	}
}

/*
 * fdinfo says the type, policy, cursor, head and gate, which are the
 * words of the mapping, and one line per barrier in use: its state,
 * sequence and whom it follows (-1 for the producers); a joined fd also
 * says its claim record, which is the consumer's barrier.
 */
TEST(seq_fdinfo_and_header_words_agree)
{
	struct lfq_seq_consumer c, f;
	struct lfq_ring *h, *hc, *hf;
	char text[8192], line[96];
	unsigned int policy;
	uint64_t avail;
	struct raw r;
	int j;
	__u32 rec;

	REQUIRE_DEV();
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		ASSERT_EQ(0, raw_open(&r, policy, 8, ELEM));
		ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
		ASSERT_EQ(0, lfq_ring_attach(&hc, r.m.fd));
		ASSERT_EQ(0, lfq_ring_attach(&hf, r.m.fd));
		ASSERT_EQ(0, lfq_seq_join(hc, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
		ASSERT_EQ(0, lfq_seq_join(hf, c.id, LFQ_SEQ_WAIT_BLOCK, &f));
		/* an fd joined by hand owns a record, free until written */
		j = raw_join(r.m.fd, &rec);
		ASSERT_LE(0, j);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[rec].state);
		ASSERT_EQ(0, produce(h, 0, 3, 2));
		ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
		ASSERT_EQ(0, lfq_seq_done(&c, 1));

		fdinfo(r.m.fd, text, sizeof(text));
		TH_LOG("%s", text);
		EXPECT_NE(NULL, strstr(text, "lfq-type:\tsequencer\n"));
		EXPECT_NE(NULL, strstr(text, "lfq-capacity:\t8\n"));
		EXPECT_NE(NULL, strstr(text, "lfq-slot-stride:\t64\n"));
		EXPECT_NE(NULL, strstr(text, policy == LFQ_SEQ_MULTI ?
				       "lfq-policy:\tmulti\n" : "lfq-policy:\tsingle\n"));
		snprintf(line, sizeof(line), "lfq-cursor:\t%lld\n",
			 (long long)r.hdr->cursor);
		EXPECT_NE(NULL, strstr(text, line));
		EXPECT_EQ(policy == LFQ_SEQ_MULTI ? LFQ_SEQ_INITIAL : 2, r.hdr->cursor);
		EXPECT_NE(NULL, strstr(text, "lfq-head:\t3\n"));
		EXPECT_EQ(3, *(__u64 *)(r.m.region + 64));	/* head */
		snprintf(line, sizeof(line), "lfq-gate:\t%lld\n",
			 (long long)*(__u64 *)(r.m.region + 72));	/* gate */
		EXPECT_NE(NULL, strstr(text, line));
		EXPECT_NE(NULL, strstr(text, "lfq-errors:\t0\n"));
		EXPECT_EQ(NULL, strstr(text, "lfq-claim:"));
		snprintf(line, sizeof(line), "lfq-barrier:\t%u state 2 seq 1 follows -1 gen %u\n",
			 c.id, r.bar[c.id].gen);
		EXPECT_NE(NULL, strstr(text, line));
		snprintf(line, sizeof(line), "lfq-barrier:\t%u state 2 seq -1 follows %u gen %u\n",
			 f.id, c.id, r.bar[f.id].gen);
		EXPECT_NE(NULL, strstr(text, line));
		EXPECT_FALSE(fdinfo_barrier(r.m.fd, rec, NULL));
		/* the joined fds say whose they are; liblfq hands them out to poll */
		EXPECT_EQ(claim_fd(c.id), lfq_ring_poll_fd(hc));
		EXPECT_EQ(lfq_ring_fd(h), lfq_ring_poll_fd(h));
		fdinfo(claim_fd(c.id), text, sizeof(text));
		snprintf(line, sizeof(line), "lfq-claim:\t%u\n", c.id);
		EXPECT_NE(NULL, strstr(text, line));
		fdinfo(j, text, sizeof(text));
		snprintf(line, sizeof(line), "lfq-claim:\t%u\n", rec);
		EXPECT_NE(NULL, strstr(text, line));

		/* a barrier written by hand shows; a barrier left does not */
		raw_barrier(&r, rec, LFQ_SEQ_JOINING, 2, LFQ_SEQ_PRODUCER);
		snprintf(line, sizeof(line), "lfq-barrier:\t%u state 1 seq 2 follows -1 gen %u\n",
			 rec, r.bar[rec].gen);
		EXPECT_TRUE(fdinfo_barrier(r.m.fd, rec, line));
		close(j);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[rec].state);
		EXPECT_FALSE(fdinfo_barrier(r.m.fd, rec, NULL));
		lfq_seq_leave(&f);
		EXPECT_FALSE(fdinfo_barrier(r.m.fd, f.id, NULL));
		EXPECT_TRUE(fdinfo_barrier(r.m.fd, c.id, NULL));
		lfq_ring_destroy(hf);
		lfq_ring_destroy(hc);
		EXPECT_FALSE(fdinfo_barrier(r.m.fd, c.id, NULL));
		lfq_ring_destroy(h);
		raw_close(&r);
	}
}

/* ---- poll ---------------------------------------------------------------------- */

/*
 * Publish one item of producer 0 with sequence seq (claimed now): 0 or
 * -errno.
 */
static int publish_one(struct lfq_ring *h, __u64 want)
{
	uint64_t seq;
	int ret = lfq_seq_try_claim_one(h, &seq);

	if (ret)
		return ret;
	if (seq != want)
		return -EPROTO;
	lfq_test_item_make(lfq_seq_elem(h, seq), ELEM, 0, seq);
	return lfq_seq_publish(h, seq);
}

/*
 * A joined fd is readable exactly when its consumer's next sequence is
 * available: published (SINGLE: up to the cursor; MULTI: every marker up
 * to it) or finished by the consumer it follows, or when that one has
 * left (its wait has news: -EPIPE). Any fd is writable exactly when a
 * sequence can be claimed; an unjoined fd is readable while a consumer
 * is behind.
 */
TEST(seq_poll_follows_each_consumers_next_sequence)
{
	struct lfq_seq_consumer c, f;
	struct lfq_ring *h, *hc, *hf;
	int fd, cfd, ffd;
	uint64_t avail, first;
	struct raw r;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_SINGLE, 4, ELEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&hc, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&hf, r.m.fd));
	fd = lfq_ring_fd(h);
	ASSERT_EQ(0, lfq_seq_join(hc, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	cfd = claim_fd(c.id);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLOUT, poll_now(fd));

	/* claimed is not published */
	ASSERT_EQ(0, lfq_seq_try_claim_one(h, &first));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	lfq_test_item_make(lfq_seq_elem(h, 0), ELEM, 0, 0);
	ASSERT_EQ(0, lfq_seq_publish(h, 0));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(fd));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
	ASSERT_EQ(0, lfq_seq_done(&c, 0));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLOUT, poll_now(fd));

	/* a whole ring ahead of the consumer: nothing to claim */
	for (first = 1; first < 5; first++)
		ASSERT_EQ(0, publish_one(h, first));
	EXPECT_EQ(-ENOSPC, lfq_seq_try_claim_one(h, &first));
	EXPECT_EQ(POLLIN, poll_now(cfd));
	EXPECT_EQ(POLLIN, poll_now(fd));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 1, &avail));
	EXPECT_EQ(4, avail);
	ASSERT_EQ(0, lfq_seq_done(&c, 2));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(cfd));
	ASSERT_EQ(0, lfq_seq_done(&c, 4));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLOUT, poll_now(fd));

	/* a follower is readable once its leader has finished */
	ASSERT_EQ(0, lfq_seq_join(hf, c.id, LFQ_SEQ_WAIT_BLOCK, &f));
	ffd = claim_fd(f.id);
	ASSERT_LE(0, ffd);
	EXPECT_EQ(4, f.seq);
	ASSERT_EQ(0, publish_one(h, 5));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLOUT, poll_now(ffd));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 5, &avail));
	ASSERT_EQ(0, lfq_seq_done(&c, 5));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(ffd));
	ASSERT_EQ(0, lfq_seq_try_wait(&f, 5, &avail));
	ASSERT_EQ(0, lfq_seq_done(&f, 5));
	EXPECT_EQ(POLLOUT, poll_now(ffd));
	/* ...and when the leader leaves: its wait says so */
	lfq_seq_leave(&c);
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(ffd));
	EXPECT_EQ(-EPIPE, lfq_seq_try_wait(&f, 6, &avail));
	EXPECT_EQ(POLLOUT, poll_now(fd));
	EXPECT_EQ(0, r.m.desc->errors);
	lfq_ring_destroy(hf);
	lfq_ring_destroy(hc);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * MULTI: a sequence is available once it and every one before it is
 * published, whichever producer claimed it and in whatever order they
 * publish; a batch ends at the first gap.
 */
TEST(seq_multi_poll_waits_for_every_marker_up_to_the_next)
{
	struct lfq_ring *h, *h2, *hc;
	struct lfq_seq_consumer c;
	uint64_t a, b, avail;
	struct raw r;
	int cfd;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_MULTI, 4, ELEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&h2, r.m.fd));
	ASSERT_EQ(0, lfq_ring_attach(&hc, r.m.fd));
	ASSERT_EQ(0, lfq_seq_join(hc, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	cfd = claim_fd(c.id);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, lfq_seq_try_claim_one(h, &a));
	ASSERT_EQ(2, lfq_seq_try_claim_up_to(h2, 2, &b));
	EXPECT_EQ(0, a);
	EXPECT_EQ(1, b);
	lfq_test_item_make(lfq_seq_elem(h2, 1), ELEM, 1, 0);
	lfq_test_item_make(lfq_seq_elem(h2, 2), ELEM, 1, 1);
	ASSERT_EQ(0, lfq_seq_publish_range(h2, 1, 2));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c, 0, &avail));
	lfq_test_item_make(lfq_seq_elem(h, 0), ELEM, 0, 0);
	ASSERT_EQ(0, lfq_seq_publish(h, 0));
	EXPECT_EQ(POLLIN | POLLOUT, poll_now(cfd));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
	EXPECT_EQ(2, avail);
	ASSERT_EQ(0, lfq_seq_done(&c, 2));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	/* published again, or never claimed: refused, nothing changes */
	EXPECT_EQ(-EINVAL, lfq_seq_publish(h, 0));
	EXPECT_EQ(-EINVAL, lfq_seq_publish(h, 3));
	EXPECT_EQ(POLLOUT, poll_now(cfd));
	EXPECT_EQ(0, r.m.desc->errors);
	lfq_seq_leave(&c);
	lfq_ring_destroy(hc);
	lfq_ring_destroy(h2);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * The wake test's producer process, one step per byte the test writes:
 * 'p' publish an item; 'P' the same once the test sleeps; 'f' fill the
 * ring, announce a sleep for room (lfq_ring_wait_begin()) and sleep in
 * epoll until there is, then publish one more. me->got counts the steps.
 */
static int stepper_fn(struct procs *p, struct share *me,
		      const void *arg __attribute__((unused)))
{
	pid_t parent = getppid();
	uint64_t seq = 0;
	struct lfq_ring *h;
	int ep = -1, ret;
	char cmd;

	ret = lfq_ring_attach(&h, p->r.m.fd);
	if (ret)
		return ret;
	while (!ret && read(me->release, &cmd, 1) == 1) {
		switch (cmd) {
		case 'P':
			ret = wait_asleep(parent, parent, WAIT_MS);
			/* fall through */
		case 'p':
			ret = ret ?: publish_one(h, seq++);
			break;
		case 'f':
			while (!(ret = publish_one(h, seq)))
				seq++;
			if (ret != -ENOSPC)
				break;
			ep = epoll_on(lfq_ring_fd(h), EPOLLOUT);
			ret = lfq_ring_wait_begin(h, POLLOUT);
			if (!ret && epoll_wait1(ep, WAIT_MS) != 1)
				ret = -ETIMEDOUT;
			lfq_ring_wait_end(h, POLLOUT);
			close(ep);
			ret = ret ?: publish_one(h, seq++);
			break;
		default:
			ret = -EINVAL;
		}
		if (ret)
			snprintf(me->why, sizeof(me->why), "step %c: %d", cmd, ret);
		__atomic_store_n(&me->got, me->got + 1, __ATOMIC_RELEASE);
	}
	lfq_ring_destroy(h);
	return ret;
}

FIXTURE(procs) {
	struct procs p;
};

FIXTURE_SETUP(procs)
{
}

FIXTURE_TEARDOWN(procs)
{
	procs_close(&self->p);
}

/*
 * Sleepers that announced themselves with lfq_ring_wait_begin() and sleep
 * in epoll on their ring fd are woken from another process: a consumer
 * by a publish, a producer by a consumer that finishes a sequence. A
 * publish that finds no announced sleeper makes no wake-up (the futex
 * word, which every wake-up bumps, stays); one that finds one makes one.
 */
TEST_F_TIMEOUT(procs, seq_wait_begin_sleepers_are_woken_by_another_process, 40)
{
	struct lfq_seq_hdr *hdr;
	struct lfq_seq_consumer c;
	struct procs *p = &self->p;
	struct lfq_ring *hc;
	__u32 futex;
	uint64_t avail;
	int ep, i;

	REQUIRE_DEV();
	ASSERT_EQ(0, procs_open(p, LFQ_SEQ_SINGLE, 4));
	hdr = p->r.hdr;
	i = spawn(p, stepper_fn, NULL);
	ASSERT_EQ(0, i);
	ASSERT_EQ(0, lfq_ring_attach(&hc, p->r.m.fd));
	ASSERT_EQ(0, lfq_seq_join(hc, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	ep = epoll_on(lfq_ring_poll_fd(hc), EPOLLIN);
	ASSERT_LE(0, ep);
	futex = ld32(&hdr->not_empty.futex);

	/*
	 * nobody announced: no wake-up (an epoll sleeper would not hear of
	 * it), but poll() and lfq_ring_wait_begin() see it: nobody sleeps
	 */
	ASSERT_EQ(1, write(p->release[i], "p", 1));
	ASSERT_EQ(0, wait_u64(&p->sh[i].got, 1, WAIT_MS));
	EXPECT_EQ(futex, ld32(&hdr->not_empty.futex));
	EXPECT_EQ(POLLIN, poll_now(claim_fd(c.id)) & POLLIN);
	EXPECT_EQ(POLLIN, lfq_ring_wait_begin(hc, POLLIN));
	lfq_ring_wait_end(hc, POLLIN);
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 0, &avail));
	ASSERT_EQ(0, lfq_seq_done(&c, 0));

	/* announced, and seen asleep in epoll by the producer: woken */
	ASSERT_EQ(0, lfq_ring_wait_begin(hc, POLLIN));
	ASSERT_EQ(1, write(p->release[i], "P", 1));
	EXPECT_EQ(1, epoll_wait1(ep, WAIT_MS));
	lfq_ring_wait_end(hc, POLLIN);
	ASSERT_EQ(0, wait_u64(&p->sh[i].got, 2, WAIT_MS));
	EXPECT_EQ(futex + 1, ld32(&hdr->not_empty.futex));
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 1, &avail));
	ASSERT_EQ(0, lfq_seq_done(&c, 1));

	/* the producer fills the ring and sleeps for room; one done wakes it */
	ASSERT_EQ(1, write(p->release[i], "f", 1));
	ASSERT_EQ(0, wait_u32(&hdr->not_full.waiters, 1, WAIT_MS));
	ASSERT_EQ(0, wait_asleep(p->pid[i], p->pid[i], WAIT_MS));
	EXPECT_EQ(6, ld64(&hdr->head));
	futex = ld32(&hdr->not_full.futex);
	ASSERT_EQ(0, lfq_seq_try_wait(&c, 2, &avail));
	EXPECT_EQ(5, avail);
	ASSERT_EQ(0, lfq_seq_done(&c, 2));
	ASSERT_EQ(0, wait_u64(&p->sh[i].got, 3, WAIT_MS));
	EXPECT_EQ(futex + 1, ld32(&hdr->not_full.futex));
	EXPECT_EQ(0, p->sh[i].error);
	EXPECT_EQ(7, ld64(&hdr->head));
	EXPECT_EQ(0, hdr->not_full.waiters);

	close(p->release[i]);
	p->release[i] = -1;
	EXPECT_EQ(0, reap(p, i))
		TH_LOG("producer: %s", p->sh[i].why);
	EXPECT_EQ(0, p->r.m.desc->errors);
	close(ep);
	lfq_seq_leave(&c);
	lfq_ring_destroy(hc);
}

/* ---- multicast and kill -9 -------------------------------------------------- */

/*
 * Producer processes and consumer processes, each consumer with a
 * barrier of its own (and a kernel consumer beside them): each consumer
 * sees every item, in order per producer. Before anything is published
 * every consumer sleeps (in LFQ_IOC_WAIT, the kthread in the ring); the
 * last consumer stops after HOLD items, and the producers fill the ring
 * up to it, exactly, and sleep too, while the others catch up with them.
 * Then the held consumer goes on, or is killed: its barrier freed by the
 * module, the producers go on without it, and a consumer that followed
 * it gets -EPIPE after what it had finished.
 */
FIXTURE(multicast) {
	struct procs p;
};

FIXTURE_VARIANT(multicast) {
	unsigned int policy;
	unsigned int producers;		/* producer processes */
	unsigned int consumers;		/* consumer processes; the last is held */
	bool kernel;			/* and a kernel consumer */
	bool kill;			/* kill -9 the held one, and follow it */
};

FIXTURE_VARIANT_ADD(multicast, single_producer_3_consumers) {
	.policy = LFQ_SEQ_SINGLE, .producers = 1, .consumers = 3,
};

FIXTURE_VARIANT_ADD(multicast, multi_2_producers_3_consumers) {
	.policy = LFQ_SEQ_MULTI, .producers = 2, .consumers = 3,
};

FIXTURE_VARIANT_ADD(multicast, kernel_consumer_beside_a_user_consumer) {
	.policy = LFQ_SEQ_SINGLE, .producers = 1, .consumers = 1, .kernel = true,
};

FIXTURE_VARIANT_ADD(multicast, kill9_held_consumer) {
	.policy = LFQ_SEQ_SINGLE, .producers = 1, .consumers = 2, .kill = true,
};

FIXTURE_VARIANT_ADD(multicast, kill9_held_consumer_multi) {
	.policy = LFQ_SEQ_MULTI, .producers = 2, .consumers = 2, .kill = true,
};

FIXTURE_VARIANT_ADD(multicast, kill9_held_consumer_beside_a_kernel_consumer) {
	.policy = LFQ_SEQ_SINGLE, .producers = 1, .consumers = 1, .kernel = true,
	.kill = true,
};

FIXTURE_SETUP(multicast)
{
}

FIXTURE_TEARDOWN(multicast)
{
	procs_close(&self->p);
}

TEST_F_TIMEOUT(multicast, every_consumer_sees_every_item_and_the_slowest_holds_the_producers, 60)
{
	const unsigned long long total = variant->producers * ITEMS;
	const __u64 top = HOLD + CAP - 1;	/* the last claim the hold allows */
	struct cons cs = {
		.follows = LFQ_SEQ_PRODUCER, .producers = variant->producers,
		.items = ITEMS,
	};
	struct prod pr = { .items = ITEMS, .burst = 4 };
	unsigned int held = variant->consumers - 1, nprod = variant->producers;
	int job = -1, kid = -1, follower = -1, first, i;
	struct procs *p = &self->p;
	struct lfq_test_result res;
	struct lfq_seq_hdr *hdr;
	struct lfq_test_job j;
	char line[96];
	__u32 hid;

	REQUIRE_DEV();
	if (variant->kernel)
		REQUIRE_PEER();
	ASSERT_EQ(0, procs_open(p, variant->policy, CAP));
	hdr = p->r.hdr;
	if (variant->kernel) {
		j = kconsumer(p->r.m.fd, nprod, ITEMS, LFQ_SEQ_PRODUCER);
		job = kconsumer_start(&p->r, &j, &kid);
		ASSERT_LE(0, job);
	}
	for (i = 0; i < (int)variant->consumers; i++) {
		cs.hold = i == (int)held ? HOLD : 0;
		ASSERT_EQ(i, spawn(p, consumer_fn, &cs));
		ASSERT_EQ(P_JOINED, wait_state(p, i, P_JOINED))
			TH_LOG("consumer %d: %s", i, p->sh[i].why);
	}
	hid = p->sh[held].id;
	if (variant->kill) {
		cs.follows = hid;
		cs.hold = 0;
		follower = spawn(p, consumer_fn, &cs);
		ASSERT_LE(0, follower);
		ASSERT_EQ(P_JOINED, wait_state(p, follower, P_JOINED))
			TH_LOG("follower: %s", p->sh[follower].why);
	}
	/* nothing published: every consumer sleeps */
	ASSERT_EQ(0, wait_u32(&hdr->not_empty.waiters, p->n + variant->kernel,
			      WAIT_MS));
	for (i = 0; i < (int)p->n; i++)
		ASSERT_EQ(0, wait_asleep(p->pid[i], p->pid[i], WAIT_MS));

	first = p->n;
	for (pr.id = 0; pr.id < nprod; pr.id++)
		ASSERT_EQ(first + (int)pr.id, spawn(p, producer_fn, &pr));
	ASSERT_EQ(P_HELD, wait_state(p, held, P_HELD))
		TH_LOG("held consumer: %s", p->sh[held].why);
	/* the others catch up with the producers, the follower with the held */
	for (i = 0; i < (int)held; i++)
		ASSERT_EQ(0, wait_u64(&p->r.bar[p->sh[i].id].seq, top, WAIT_MS));
	if (variant->kernel)
		ASSERT_EQ(0, wait_u64(&p->r.bar[kid].seq, top, WAIT_MS));
	if (variant->kill)
		ASSERT_EQ(0, wait_u64(&p->r.bar[p->sh[follower].id].seq, HOLD - 1,
				      WAIT_MS));
	/* ...and the producers sleep, with the ring full up to the held one */
	ASSERT_EQ(0, wait_u32(&hdr->not_full.waiters, nprod, WAIT_MS));
	for (i = first; i < first + (int)nprod; i++)
		ASSERT_EQ(0, wait_asleep(p->pid[i], p->pid[i], WAIT_MS));
	EXPECT_EQ(top + 1, ld64(&hdr->head));
	EXPECT_EQ(HOLD - 1, ld64(&p->r.bar[hid].seq));
	snprintf(line, sizeof(line), "lfq-barrier:\t%u state 2 seq %llu follows -1 gen %u\n",
		 hid, HOLD - 1, p->r.bar[hid].gen);
	EXPECT_TRUE(fdinfo_barrier(p->r.m.fd, hid, line));

	if (variant->kill) {
		kill9(_metadata, p->pid[held]);
		p->pid[held] = 0;
		EXPECT_EQ(LFQ_SEQ_FREE, p->r.bar[hid].state);
		EXPECT_FALSE(fdinfo_barrier(p->r.m.fd, hid, NULL));
	} else {
		ASSERT_EQ(1, write(p->release[held], "g", 1));
	}
	for (i = 0; i < (int)p->n; i++) {
		if (!p->pid[i])
			continue;
		if (i == follower) {
			EXPECT_EQ(-EPIPE, reap(p, i));
			EXPECT_EQ(HOLD, p->sh[i].got);
			continue;
		}
		EXPECT_EQ(0, reap(p, i))
			TH_LOG("process %d: %s", i, p->sh[i].why);
		if (i < first)
			EXPECT_EQ(total, p->sh[i].got);
	}
	if (variant->kernel) {
		ASSERT_EQ(0, job_wait(job, &res));
		LOG_RESULT("kernel consumer", res);
		EXPECT_EXACT(res, total);
	}
	EXPECT_EQ(total, ld64(&hdr->head));
	EXPECT_LT(0, ld32(&hdr->not_full.futex));	/* producers were woken */
	EXPECT_EQ(0, p->r.m.desc->errors);
	EXPECT_EQ(0, active_mask(&p->r));
}

/*
 * A consumer killed asleep in LFQ_IOC_WAIT, before anything is published:
 * the module takes it off the need-wakeup count and frees its barrier,
 * the consumer that followed it wakes with -EPIPE, and the producer
 * claims sequence after sequence, a ring and more, held by nobody.
 */
TEST_F_TIMEOUT(procs, kill9_consumer_asleep_in_ioc_wait, 40)
{
	struct cons cs = { .follows = LFQ_SEQ_PRODUCER, .producers = 1, .items = 1 };
	struct procs *p = &self->p;
	struct lfq_seq_hdr *hdr;
	struct lfq_ring *h;
	uint64_t seq;
	__u32 vid;

	REQUIRE_DEV();
	ASSERT_EQ(0, procs_open(p, LFQ_SEQ_SINGLE, CAP));
	hdr = p->r.hdr;
	ASSERT_EQ(0, spawn(p, consumer_fn, &cs));
	ASSERT_EQ(P_JOINED, wait_state(p, 0, P_JOINED));
	vid = p->sh[0].id;
	cs.follows = vid;
	ASSERT_EQ(1, spawn(p, consumer_fn, &cs));
	ASSERT_EQ(P_JOINED, wait_state(p, 1, P_JOINED));
	ASSERT_EQ(0, wait_u32(&hdr->not_empty.waiters, 2, WAIT_MS));
	ASSERT_EQ(0, wait_asleep(p->pid[0], p->pid[0], WAIT_MS));
	ASSERT_EQ(0, wait_asleep(p->pid[1], p->pid[1], WAIT_MS));
	EXPECT_EQ(LFQ_SEQ_ACTIVE, p->r.bar[vid].state);

	kill9(_metadata, p->pid[0]);
	p->pid[0] = 0;
	EXPECT_EQ(LFQ_SEQ_FREE, p->r.bar[vid].state);
	EXPECT_FALSE(fdinfo_barrier(p->r.m.fd, vid, NULL));
	EXPECT_EQ(-EPIPE, reap(p, 1));
	EXPECT_EQ(0, p->sh[1].got);
	EXPECT_EQ(0, hdr->not_empty.waiters);
	EXPECT_EQ(0, active_mask(&p->r));

	ASSERT_EQ(0, lfq_ring_attach(&h, p->r.m.fd));
	for (seq = 0; seq < 3 * CAP; seq++)
		ASSERT_EQ(0, publish_one(h, seq));
	EXPECT_EQ(0, p->r.m.desc->errors);
	lfq_ring_destroy(h);
}

/* ---- kernel producers and stages ------------------------------------------------ */

/*
 * The peer's kthreads produce (one on a SINGLE ring, four on a MULTI
 * ring, claiming bursts) for consumer processes that joined before: each
 * process sees every item of every kthread, in order per kthread.
 */
FIXTURE(kprod) {
	struct procs p;
};

FIXTURE_VARIANT(kprod) {
	unsigned int policy, threads, consumers, burst;
	unsigned long long items;	/* per kthread */
};

FIXTURE_VARIANT_ADD(kprod, single_1_kthread_3_processes) {
	.policy = LFQ_SEQ_SINGLE, .threads = 1, .consumers = 3, .burst = 4,
	.items = 10000,
};

FIXTURE_VARIANT_ADD(kprod, multi_4_kthreads_2_processes) {
	.policy = LFQ_SEQ_MULTI, .threads = 4, .consumers = 2, .burst = 8,
	.items = 2500,
};

FIXTURE_SETUP(kprod)
{
}

FIXTURE_TEARDOWN(kprod)
{
	procs_close(&self->p);
}

TEST_F_TIMEOUT(kprod, kthreads_produce_for_every_consumer_process, 60)
{
	const unsigned long long total = variant->threads * variant->items;
	struct cons cs = {
		.follows = LFQ_SEQ_PRODUCER, .producers = variant->threads,
		.items = variant->items,
	};
	struct procs *p = &self->p;
	struct lfq_test_result res;
	unsigned int i;
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, procs_open(p, variant->policy, CAP));
	for (i = 0; i < variant->consumers; i++) {
		ASSERT_EQ((int)i, spawn(p, consumer_fn, &cs));
		ASSERT_EQ(P_JOINED, wait_state(p, i, P_JOINED));
	}
	job = job_run(p->r.m.fd, LFQ_TEST_PRODUCE, variant->threads, 0,
		      variant->items, variant->burst);
	ASSERT_LE(0, job);
	for (i = 0; i < variant->consumers; i++) {
		EXPECT_EQ(0, reap(p, i))
			TH_LOG("consumer %u: %s", i, p->sh[i].why);
		EXPECT_EQ(total, p->sh[i].got);
	}
	ASSERT_EQ(0, job_wait(job, &res));
	LOG_RESULT("kernel producers", res);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(total, res.moved);
	EXPECT_EQ(0, res.ring_errors);
	EXPECT_EQ(total, ld64(&p->r.hdr->head));
	EXPECT_EQ(0, p->r.m.desc->errors);
}

/*
 * A pipeline across the boundary: this process produces; a kthread, the
 * middle stage, follows the producer and stamps each item it has
 * checked; a consumer process follows the kthread's barrier (the one
 * that START made ACTIVE) and must find every item stamped, in order.
 * The process takes producer 0's items and leaves; the kthread takes
 * producer 1's too, so it is still there while the process reads.
 */
TEST_F_TIMEOUT(procs, pipeline_user_to_kthread_to_process, 60)
{
	struct cons cs = { .producers = 1, .items = ITEMS, .stamped = true };
	struct procs *p = &self->p;
	struct lfq_test_result res;
	struct lfq_test_job j;
	struct lfq_ring *h;
	int job, kid;

	REQUIRE_PEER();
	ASSERT_EQ(0, procs_open(p, LFQ_SEQ_SINGLE, CAP));
	j = kconsumer(p->r.m.fd, 2, ITEMS, LFQ_SEQ_PRODUCER);
	j.flags = LFQ_TEST_F_STAMP;
	job = kconsumer_start(&p->r, &j, &kid);
	ASSERT_LE(0, job);
	cs.follows = kid;
	ASSERT_EQ(0, spawn(p, consumer_fn, &cs));
	ASSERT_EQ(P_JOINED, wait_state(p, 0, P_JOINED))
		TH_LOG("last stage: %s", p->sh[0].why);
	EXPECT_EQ((__u32)kid, p->r.bar[p->sh[0].id].follows);

	ASSERT_EQ(0, lfq_ring_attach(&h, p->r.m.fd));
	EXPECT_EQ(0, produce(h, 0, ITEMS, 4));
	EXPECT_EQ(0, produce(h, 1, ITEMS, 4));
	EXPECT_EQ(0, reap(p, 0))
		TH_LOG("last stage: %s", p->sh[0].why);
	EXPECT_EQ(ITEMS, p->sh[0].got);
	ASSERT_EQ(0, job_wait(job, &res));
	LOG_RESULT("middle stage", res);
	EXPECT_EXACT(res, 2 * ITEMS);
	EXPECT_EQ(0, p->r.m.desc->errors);
	lfq_ring_destroy(h);
}

/* Publish n items of producer 0 by hand, as a producer of policy would. */
static void raw_publish(struct raw *r, unsigned int n)
{
	__u64 seq, head = r->hdr->head;

	for (seq = head; seq < head + n; seq++)
		lfq_test_item_make(raw_elem(r, seq), ELEM, 0, seq - head);
	st64(&r->hdr->head, head + n);
	if (r->m.info.policy == LFQ_SEQ_SINGLE)
		st64(&r->hdr->cursor, head + n - 1);
	else
		for (seq = head; seq < head + n; seq++)
			st64(raw_marker(r, seq), seq + 1);
}

/*
 * The peer's jobs on sequencer rings: what START refuses, and items read
 * and written where the uapi header says: a kthread consumes items
 * published by hand, and leaves its barrier at the last it finished; a
 * kthread produces items that are found by hand.
 */
TEST(peer_takes_sequencer_rings_at_the_uapi_layout)
{
	struct lfq_test_result res;
	struct lfq_test_job j;
	unsigned int policy;
	int job, kid, fds;
	struct raw r;
	__u64 seq;
	struct lfq_create small = raw_params(LFQ_RING_SEQ, LFQ_SEQ_SINGLE, 8,
					       ITEM - 1);

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_SINGLE, 8, ELEM));
	fds = raw_create(&small);
	ASSERT_LE(0, fds);
	j = job_params(r.m.fd, LFQ_TEST_PRODUCE, 2, 0, 4, 1);
	EXPECT_EQ(-EINVAL, job_start(&j));		/* SINGLE: one producer */
	j = job_params(fds, LFQ_TEST_PRODUCE, 1, 0, 4, 1);
	EXPECT_EQ(-EINVAL, job_start(&j));		/* items do not fit */
	j = job_params(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 4, 1);
	j.flags = LFQ_TEST_F_RESERVE;
	EXPECT_EQ(-EINVAL, job_start(&j));
	j.flags = LFQ_TEST_F_IRQ;
	EXPECT_EQ(-EINVAL, job_start(&j));
	j = kconsumer(r.m.fd, 1, 4, LFQ_CLAIMS);
	EXPECT_EQ(-EINVAL, job_start(&j));		/* no such barrier */
	j.follows = 5;
	EXPECT_EQ(-EINVAL, job_start(&j));		/* a free barrier */
	j.follows = LFQ_SEQ_PRODUCER;
	j.wait = LFQ_SEQ_WAIT_BLOCK + 1;
	EXPECT_EQ(-EINVAL, job_start(&j));
	EXPECT_EQ(0, active_mask(&r));
	close(fds);
	raw_close(&r);

	alarm(30);
	for (policy = LFQ_SEQ_SINGLE; policy <= LFQ_SEQ_MULTI; policy++) {
		ASSERT_EQ(0, raw_open(&r, policy, 8, ELEM));
		j = kconsumer(r.m.fd, 1, 3, LFQ_SEQ_PRODUCER);
		job = kconsumer_start(&r, &j, &kid);
		ASSERT_LE(0, job);
		EXPECT_EQ(LFQ_SEQ_INITIAL, r.bar[kid].seq);
		EXPECT_EQ(LFQ_SEQ_PRODUCER, r.bar[kid].follows);
		raw_publish(&r, 3);
		ASSERT_EQ(0, ioctl(r.m.fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_EMPTY));
		ASSERT_EQ(0, job_wait(job, &res));
		LOG_RESULT("kernel consumer", res);
		EXPECT_EXACT(res, 3);
		EXPECT_EQ(2, r.bar[kid].seq);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[kid].state);

		job = job_run(r.m.fd, LFQ_TEST_PRODUCE, 1, 0, 3, 2);
		ASSERT_LE(0, job);
		ASSERT_EQ(0, job_wait(job, &res));
		EXPECT_EQ(0, res.error);
		EXPECT_EQ(3, res.moved);
		EXPECT_EQ(6, r.hdr->head);
		EXPECT_EQ(policy == LFQ_SEQ_SINGLE ? 5 : LFQ_SEQ_INITIAL,
			  r.hdr->cursor);
		for (seq = 3; seq < 6; seq++) {
			EXPECT_EQ(policy == LFQ_SEQ_MULTI ? seq + 1 : 0,
				  *raw_marker(&r, seq));
			EXPECT_EQ(0, lfq_test_item_bad(raw_elem(&r, seq), ELEM, 1));
			EXPECT_EQ(seq - 3, lfq_test_item_get(raw_elem(&r, seq)).seq);
		}
		EXPECT_EQ(0, r.m.desc->errors);
		raw_close(&r);
	}
	alarm(0);
}

/* ---- bad input ------------------------------------------------------------------- */

/*
 * 64 joined fds own the 64 barriers, lowest first, each free until its
 * consumer writes it; the 65th join is refused (-EBUSY), through liblfq
 * too, until a joined fd is closed; a liblfq handle joins once.
 */
TEST(seq_join_takes_64_barriers_then_ebusy)
{
	struct lfq_seq_consumer c;
	int j[LFQ_CLAIMS], k;
	struct lfq_ring *h;
	struct raw r;
	__u32 rec;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_MULTI, 8, ELEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	for (k = 0; k < (int)LFQ_CLAIMS; k++) {
		j[k] = raw_join(r.m.fd, &rec);
		ASSERT_LE(0, j[k]);
		EXPECT_EQ((__u32)k, rec);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[rec].state);
	}
	EXPECT_EQ(-EBUSY, raw_join(r.m.fd, &rec));
	EXPECT_EQ(-EBUSY, lfq_seq_join(h, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	close(j[17]);
	ASSERT_EQ(0, lfq_seq_join(h, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	EXPECT_EQ(17, c.id);
	EXPECT_EQ(LFQ_SEQ_ACTIVE, r.bar[17].state);
	EXPECT_EQ(-EALREADY, lfq_seq_join(h, LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_BLOCK, &c));
	EXPECT_EQ(-EBUSY, raw_join(r.m.fd, &rec));
	for (k = 0; k < (int)LFQ_CLAIMS; k++)
		if (k != 17)
			close(j[k]);
	lfq_seq_leave(&c);
	EXPECT_EQ(0, active_mask(&r));
	j[0] = raw_join(r.m.fd, &rec);
	ASSERT_LE(0, j[0]);
	EXPECT_EQ(0, rec);
	close(j[0]);
	EXPECT_EQ(0, r.m.desc->errors);
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * Garbage written into the barrier of a joined fd: whom it follows out
 * of range (or itself), a state no barrier has, a sequence far ahead of
 * the producer or far behind it. poll() on that fd and on the ring fd,
 * fdinfo and close must cope: the fd is not readable for a barrier it
 * cannot follow, bad states and barriers more than a ring behind are
 * counted, fdinfo shows what is there, and close frees the barrier.
 */
TEST(seq_garbage_in_a_joined_barrier_is_survived)
{
	static const struct {
		const char *what;
		__u32 state, follows;
		__s64 seq;		/* from the cursor */
		bool self;		/* follows its own barrier */
		bool in;		/* POLLIN of the joined fd */
		bool counted;
	} bad[] = {
#define ACT	.state = LFQ_SEQ_ACTIVE
#define PROD	.follows = LFQ_SEQ_PRODUCER
		{ "follows 64", ACT, .follows = 64, .seq = -3 },
		{ "follows 1000", ACT, .follows = 1000, .seq = -3 },
		{ "follows ~1", ACT, .follows = ~1U, .seq = -3 },
		{ "follows itself", ACT, .self = true, .seq = -3 },
		{ "state 3", .state = 3, PROD, .seq = -3, .counted = true },
		{ "state ~0", .state = ~0U, PROD, .seq = -3, .counted = true },
		{ "seq ahead", ACT, PROD, .seq = 1000 },
		/* its wait has news: available beyond a ring, clamped */
		{ "seq a lap behind", ACT, PROD, .seq = -100, .in = true,
		  .counted = true },
#undef PROD
#undef ACT
	};
	char line[96];
	struct lfq_ring *h;
	__u64 errors, seq;
	unsigned int i;
	struct raw r;
	__u32 rec, follows;
	int j;

	REQUIRE_DEV();
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_SINGLE, 8, ELEM));
	ASSERT_EQ(0, lfq_ring_attach(&h, r.m.fd));
	ASSERT_EQ(0, produce(h, 0, 3, 1));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		j = raw_join(r.m.fd, &rec);
		ASSERT_LE(0, j);
		follows = bad[i].self ? rec : bad[i].follows;
		seq = r.hdr->cursor + bad[i].seq;
		errors = r.m.desc->errors;
		raw_barrier(&r, rec, bad[i].state, seq, follows);
		EXPECT_EQ(bad[i].in ? POLLIN : 0, poll_now(j) & POLLIN)
			TH_LOG("%s", bad[i].what);
		poll_now(r.m.fd);
		if (bad[i].counted)
			EXPECT_LT(errors, r.m.desc->errors)
				TH_LOG("%s", bad[i].what);
		snprintf(line, sizeof(line), "lfq-barrier:\t%u state %u seq %lld follows %d gen %u\n",
			 rec, bad[i].state, (long long)seq, (int)follows, r.bar[rec].gen);
		EXPECT_TRUE(fdinfo_barrier(r.m.fd, rec, line))
			TH_LOG("%s", bad[i].what);
		close(j);
		EXPECT_EQ(LFQ_SEQ_FREE, r.bar[rec].state);
		EXPECT_FALSE(fdinfo_barrier(r.m.fd, rec, NULL));
	}
	/* nobody holds the producer back any more: a ring and more */
	for (seq = 3; seq < 3 + 2 * 8; seq++)
		ASSERT_EQ(0, publish_one(h, seq));
	lfq_ring_destroy(h);
	raw_close(&r);
}

/*
 * The kernel's producers clamp what they cannot trust in a barrier and
 * never pass a barrier they can: a bad state is skipped (counted); on a
 * SINGLE ring a barrier ahead of the cursor counts as at the cursor
 * (counted) until the cursor reaches it, and from then on holds the
 * producer a ring ahead of it, exactly; a barrier more than a ring
 * behind counts as a ring behind (counted), which allows no claim.
 */
TEST(kernel_producers_clamp_garbage_barriers)
{
	struct raw r;
	__u64 errors;
	__u32 rec;
	int j;

	REQUIRE_PEER();
	alarm(30);
	ASSERT_EQ(0, raw_open(&r, LFQ_SEQ_SINGLE, 8, ELEM));
	j = raw_join(r.m.fd, &rec);
	ASSERT_LE(0, j);

	raw_barrier(&r, rec, 7, LFQ_SEQ_INITIAL, LFQ_SEQ_PRODUCER);
	kproduce_expect(_metadata, r.m.fd, 24, 24);
	EXPECT_LT(0, r.m.desc->errors);
	EXPECT_EQ(23, r.hdr->cursor);

	/* ahead, at 100: the producer may claim up to 100 + 8 */
	errors = r.m.desc->errors;
	raw_barrier(&r, rec, LFQ_SEQ_ACTIVE, 100, LFQ_SEQ_PRODUCER);
	kproduce_expect(_metadata, r.m.fd, 50, 50);
	EXPECT_LT(errors, r.m.desc->errors);
	kproduce_expect(_metadata, r.m.fd, 100, 108 - 73);	/* 74..108 */
	EXPECT_EQ(108, r.hdr->cursor);
	EXPECT_EQ(100, r.bar[rec].seq);

	/* a ring and more behind: as if a ring behind, no room */
	errors = r.m.desc->errors;
	raw_barrier(&r, rec, LFQ_SEQ_ACTIVE, 108 - 50, LFQ_SEQ_PRODUCER);
	kproduce_expect(_metadata, r.m.fd, 1, 0);
	EXPECT_LT(errors, r.m.desc->errors);
	EXPECT_EQ(108, r.hdr->cursor);
	/* finished up to the cursor: a ring of room */
	raw_barrier(&r, rec, LFQ_SEQ_ACTIVE, 108, LFQ_SEQ_PRODUCER);
	kproduce_expect(_metadata, r.m.fd, 20, 8);
	close(j);
	EXPECT_EQ(LFQ_SEQ_FREE, r.bar[rec].state);
	kproduce_expect(_metadata, r.m.fd, 20, 20);
	alarm(0);
	raw_close(&r);
}

/*
 * A piece of garbage over a sequencer ring (scribble_for()): a header
 * word, a marker, or a barrier's words.
 */
static void seq_garble(unsigned char *region, const struct lfq_info *info,
		       unsigned long long rnd, unsigned long long *x)
{
	volatile __u64 *w;

	switch (rnd & 3) {
	case 0:		/* cursor, head, gate, wait words */
		w = (void *)(region + (rnd >> 8) % (LFQ_SEQ_SLOTS_OFF / 8) * 8);
		break;
	case 1:		/* a marker */
		w = (void *)(region + info->slots_off +
			     (rnd >> 8) % info->capacity * info->slot_stride);
		break;
	default:	/* a barrier's seq, or its state and follows */
		w = (void *)(region + info->claims_off +
			     (rnd >> 8) % info->nr_claims *
			     sizeof(struct lfq_seq_barrier) +
			     (rnd >> 7 & 1) * 8);
		break;
	}
	if (((rnd >> 2) & 7) == 3)	/* a bit gone wrong: a state, whom it follows */
		*w ^= (__u64)1 << ((rnd >> 16) % 64);
	else
		garble_word(w, (rnd >> 2) & 7, rnd >> 5, x, info->capacity);
}

/*
 * A consumer of churn_for() on the ring r: it writes garbage into its
 * barrier (any state, any sequence near the top or not, whom it follows
 * in range or not) and looks at it through poll() and fdinfo.
 */
static void barrier_churn(void *r_, __u32 rec, int j, unsigned long long rnd,
			  unsigned long long *x)
{
	struct raw *r = r_;
	char text[8192];

	(void)x;
	raw_barrier(r, rec, (__u32)(rnd >> 8) % 4,
		    ld64(&r->hdr->head) + (__s64)((rnd >> 16) % 64) - 40,
		    rnd & 1 ? LFQ_SEQ_PRODUCER : (__u32)(rnd >> 32) % 80);
	poll_now(j);
	poll_now(r->m.fd);
	fdinfo(j, text, sizeof(text));
}

/*
 * A process writes garbage over a sequencer ring while another makes
 * consumers join with garbage barriers, poll and die, and kthreads
 * produce into it and consume from it; other kthreads use a second
 * ring. The kernel must survive, the jobs on the garbled ring end by
 * their deadline, it counted what it found, and the second ring stays
 * exact.
 */
FIXTURE(scribbled) {
	struct raw r[2];
};

FIXTURE_VARIANT(scribbled) {
	unsigned int policy, producers;
};

FIXTURE_VARIANT_ADD(scribbled, single) {
	.policy = LFQ_SEQ_SINGLE, .producers = 1,
};

FIXTURE_VARIANT_ADD(scribbled, multi) {
	.policy = LFQ_SEQ_MULTI, .producers = 2,
};

FIXTURE_SETUP(scribbled)
{
}

FIXTURE_TEARDOWN(scribbled)
{
	raw_close(&self->r[0]);
	raw_close(&self->r[1]);
}

TEST_F_TIMEOUT(scribbled, garbled_ring_cannot_hurt_the_kernel_or_other_rings, 40)
{
	const int scribble_ms = 1500, deadline_ms = scribble_ms + 1500;
	const unsigned long long items = 10000;
	static const char *const what[] = {
		"garbled ring, consumers", "garbled ring, producers",
		"other ring, consumer", "other ring, producer", NULL,
	};
	struct lfq_test_result res[4];
	struct raw *r = self->r;
	struct lfq_test_job j;
	long long start;
	int job[4], i;

	REQUIRE_PEER();
	ASSERT_EQ(0, raw_open(&r[0], variant->policy, 8, ELEM));
	ASSERT_EQ(0, raw_open(&r[1], LFQ_SEQ_SINGLE, 8, ELEM));

	/* ring 0: garbled; its kthreads carry on to the deadline */
	j = kconsumer(r[0].m.fd, variant->producers, 1 << 20, LFQ_SEQ_PRODUCER);
	j.threads = 2;
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = j.deadline_ms = deadline_ms;
	start = now_ms();
	job[0] = job_start(&j);
	j = job_params(r[0].m.fd, LFQ_TEST_PRODUCE, variant->producers, 0, 1 << 20, 4);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = j.deadline_ms = deadline_ms;
	job[1] = job_start(&j);
	/* ring 1: exact, paced to last about as long as the scribbling */
	j = kconsumer(r[1].m.fd, 1, items, LFQ_SEQ_PRODUCER);
	job[2] = job_start(&j);
	j = job_params(r[1].m.fd, LFQ_TEST_PRODUCE, 1, 0, items, 4);
	j.pause_every = 1000;
	j.pause_us = 20000;
	job[3] = job_start(&j);
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, job[i]);

	garble_ring(_metadata, &r[0].m, scribble_ms, seq_garble, barrier_churn,
		    &r[0]);
	wait_garbled_jobs(_metadata, job, res, what, 2, r[0].m.desc, start,
			  deadline_ms);
	EXPECT_LT(0, r[0].m.desc->errors);
	EXPECT_EXACT(res[2], items);
	EXPECT_EQ(0, res[3].error);
	EXPECT_EQ(items, res[3].moved);
	EXPECT_EQ(0, r[1].m.desc->errors);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		filter_tests(argc - 1, argv + 1);
	return test_harness_run(argc, argv);
}
