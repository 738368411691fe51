// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Stress of the sequencer on every backend: producers and consumers are
 * threads of one process (heap), or the consumers are threads of a
 * forked child that attach the inherited ring fd, each its own handle,
 * and report through shared memory and their exit status (memfd, and
 * dev: a /dev/lfq ring, skipped when there is no device). It checks
 * invariants, never timing.
 *
 * Producers write each element of sequence s in full: word 0 the tag
 * (producer << 48 | the producer's item number), every other word a
 * function of s and the tag. Every consumer sees every item
 * (multicast) and checks:
 *
 *   content    every word of every element it reads, against s: a slot
 *              a producer wrote again before the consumer finished it,
 *              or not yet, or in part, fails; now and then it yields
 *              and reads the whole batch again before its done
 *   order      SINGLE: the item number is s; MULTI: each producer's
 *              items come in order, with no gap and no repeat
 *   count      it sees every sequence from its start to the last one
 *              produced, each once, in order (consumed == total - start),
 *              and (MULTI) every item of every producer
 *   ring       no corruption counted (lfq_ring_errors()), and at the
 *              end a new consumer starts after the last sequence
 *
 * Shapes: flat (every consumer follows the producers from the start),
 * pipeline (consumer i follows consumer i - 1: each stage XORs a stamp
 * of its own into every word before its done, and checks that the
 * stamps of every stage before it are there, proving that it only
 * sees what they finished), and late (consumer 0 from the start, the
 * others join one by one while the producers run, when consumer 0 has
 * passed a threshold, and check a gap-free suffix starting after the
 * top they joined at, within two rings of the threshold).
 *
 * Producers claim 1..batch sequences with every claim form, and publish
 * them in one call or one by one (MULTI: in any order); a SINGLE
 * producer sometimes claims again before publishing, and publishes both
 * claims with one call. Consumers use each wait strategy (the variant's
 * letters: s spin, y yield, b block), try_wait now and then, and finish
 * batches whole or in two steps.
 *
 * Under ThreadSanitizer, runs across processes whose order goes through
 * the other process (several producers, whose writes to a slot are
 * ordered through the consumers; pipeline stages, whose writes are
 * ordered through the producer) are skipped: TSan cannot see it.
 *
 * Environment, as for the other stress tests (stress_impl.h):
 *   LFQ_STRESS_SCALE    float, default 1: scales every item count
 *   LFQ_STRESS_TIMEOUT  seconds, default 10: fail a run in which nothing
 *                       moved for that long
 *   LFQ_TEST_BACKENDS   comma list of heap,memfd,dev; default all
 *
 * Test names are seq_stress.<variant>.<backend>, with variant names
 * <shape>_<policy>_<producers>x<consumers>_<waits>_c<capacity>_e<elem size>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "stress_util.h"

/* sanitized builds run slower: fewer items, in about the same time */
#if defined(__SANITIZE_THREAD__)
#define SANITIZER	"tsan"
#define SANITIZER_DIV	4.0
#elif defined(__SANITIZE_ADDRESS__)
#define SANITIZER	"asan"
#define SANITIZER_DIV	2.0
#else
#define SANITIZER	"native"
#define SANITIZER_DIV	1.0
#endif

#define MAX_PRODUCERS	4
#define MAX_CONSUMERS	4
#define ELEM_MAX	256

enum shape {
	FLAT,		/* every consumer follows the producers, from the start */
	PIPELINE,	/* consumer i follows consumer i - 1 */
	LATE,		/* consumer 0 from the start, the others midway */
};

struct seq_cfg {
	uint32_t policy;
	unsigned int producers;
	const char *waits;	/* a letter per consumer: s, y or b */
	enum shape shape;
	uint32_t capacity;
	uint32_t elem_size;	/* a multiple of 8; MULTI: 16 at least */
	uint32_t batch;		/* producers claim 1..batch at a time */
	uint64_t items;		/* in all, natively at scale 1 */
};

/* A counter on its own cache line. */
struct count {
	_Atomic uint64_t n;
} __attribute__((aligned(64)));

/*
 * Everything both processes see: in a MAP_SHARED anonymous mapping, so
 * that the consumers of the memfd and dev backends report through it.
 */
struct seq_state {
	const struct seq_cfg *cfg;
	unsigned int consumers;
	uint64_t per_producer;		/* items of each producer */
	uint64_t total;			/* sequences 0..total - 1 */

	_Atomic unsigned int joined;	/* consumers that have joined */
	_Atomic unsigned int finished;	/* consumers done reading */
	_Atomic unsigned int producers_done;
	_Atomic unsigned int late_turn;	/* LATE: the joiner whose turn it is */
	_Atomic uint32_t ids[MAX_CONSUMERS];	/* each one's barrier */
	_Atomic uint64_t start[MAX_CONSUMERS];	/* each one's first sequence */

	struct stress_failures failures;

	struct count produced[MAX_PRODUCERS];
	struct count consumed[MAX_CONSUMERS];
};

struct worker {
	struct seq_state *st;
	struct lfq_ring *ring;	/* heap: the ring; NULL: attach fd */
	int fd;
	unsigned int id;
	pthread_t tid;
};

static bool failed(struct seq_state *st)
{
	return atomic_load_explicit(&st->failures.n, memory_order_relaxed);
}

/* Yield until *v reaches want, or anybody failed: whether it did. */
static bool await(struct seq_state *st, _Atomic unsigned int *v,
		  unsigned int want)
{
	while (atomic_load(v) < want) {
		if (failed(st))
			return false;
		sched_yield();
	}
	return true;
}

/* splitmix64's finalizer: the words of an element. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ---- elements ----------------------------------------------------------- */

static uint64_t tag_of(unsigned int producer, uint64_t n)
{
	return (uint64_t)producer << 48 | n;
}

static uint64_t word_of(uint64_t s, unsigned int i, uint64_t tag)
{
	return i ? mix(s * 64 + i) ^ tag : tag;
}

/* What pipeline stage k XORs into every word. */
static uint64_t stamp_of(unsigned int k)
{
	return mix(~(uint64_t)k);
}

static void elem_write(uint64_t *e, unsigned int words, uint64_t s,
		       uint64_t tag)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		e[i] = word_of(s, i, tag);
}

static void elem_stamp(uint64_t *e, unsigned int words, uint64_t stamp)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		e[i] ^= stamp;
}

/*
 * Read the element of s, every word XORed with mask (the stamps of the
 * pipeline stages before): its tag if every word is what the producer
 * of that tag wrote for s, else ~0.
 */
static uint64_t elem_read(const uint64_t *e, unsigned int words, uint64_t s,
			  uint64_t mask)
{
	uint64_t tag = e[0] ^ mask;
	unsigned int i;

	for (i = 1; i < words; i++)
		if ((e[i] ^ mask) != word_of(s, i, tag))
			return ~0ULL;
	return tag;
}

/* ---- producers ---------------------------------------------------------- */

/* Claim 1..want sequences in one of the four forms: how many, or -errno. */
static int claim(struct lfq_ring *ring, unsigned int form, uint32_t want,
		 uint64_t *first)
{
	int ret;

	switch (form) {
	case 0:
		return lfq_seq_claim_up_to(ring, want, first, -1);
	case 1:
		return lfq_seq_try_claim_up_to(ring, want, first);
	case 2:
		ret = lfq_seq_claim_one(ring, first, -1);
		return ret ? ret : 1;
	default:
		ret = lfq_seq_try_claim_one(ring, first);
		return ret ? ret : 1;
	}
}

/*
 * Publish first..last: with publish(last) (SINGLE: it publishes them
 * all) or publish_range(), or one by one, ascending or (MULTI only)
 * descending.
 */
static int publish(struct lfq_ring *ring, bool multi, uint64_t first,
		   uint64_t last, uint64_t *x)
{
	uint64_t s;
	int ret = 0;

	switch (stress_rand(x) % 3) {
	case 0:
		return multi ? lfq_seq_publish_range(ring, first, last) :
			       lfq_seq_publish(ring, last);
	case 1:
		for (s = first; !ret && s != last + 1; s++)
			ret = lfq_seq_publish(ring, s);
		return ret;
	default:
		if (!multi)
			return lfq_seq_publish_range(ring, first, last);
		for (s = last; !ret && s != first - 1; s--)
			ret = lfq_seq_publish(ring, s);
		return ret;
	}
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct seq_state *st = w->st;
	const struct seq_cfg *cfg = st->cfg;
	bool multi = cfg->policy == LFQ_SEQ_MULTI, held = false;
	unsigned int words = cfg->elem_size / 8, form;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (w->id + 1), n = 0;
	uint64_t first, s, held_first = 0, held_last = 0;
	uint32_t want;
	int got, ret;

	while (n < st->per_producer && !failed(st)) {
		want = 1 + stress_rand(&x) % cfg->batch;
		if (want > st->per_producer - n)
			want = (uint32_t)(st->per_producer - n);
		form = stress_rand(&x) % 4;
		if (want > 1 && form >= 2)
			form -= 2;
		/* the consumers wait for what we hold: never wait holding it */
		if (held)
			form = 1;
		got = claim(w->ring, form, want, &first);
		if (got == -ENOSPC && (form == 1 || form == 3)) {
			ret = held ? lfq_seq_publish(w->ring, held_last) : 0;
			if (ret)
				stress_fail(st, "producer %u: publish up to %" PRIu64
					    " returned %d", w->id, held_last, ret);
			held = false;
			sched_yield();
			continue;
		}
		if (got <= 0 || (uint32_t)got > want) {
			stress_fail(st, "producer %u: claim form %u of %u returned %d",
				    w->id, form, want, got);
			break;
		}
		for (s = first; s != first + (uint32_t)got; s++)
			elem_write(lfq_seq_elem(w->ring, s), words, s,
				   tag_of(w->id, n + (s - first)));
		n += (uint32_t)got;
		/* SINGLE: now and then claim again first, and publish both */
		if (!multi && !held && n < st->per_producer &&
		    !(stress_rand(&x) % 4)) {
			held = true;
			held_first = first;
			held_last = first + (uint32_t)got - 1;
			continue;
		}
		ret = publish(w->ring, multi, held ? held_first : first,
			      first + (uint32_t)got - 1, &x);
		held = false;
		if (ret) {
			stress_fail(st, "producer %u: publish up to %" PRIu64
				    " returned %d", w->id, first + got - 1, ret);
			break;
		}
		atomic_store_explicit(&st->produced[w->id].n, n,
				      memory_order_relaxed);
	}
	atomic_fetch_add(&st->producers_done, 1);
	return NULL;
}

/* ---- consumers ---------------------------------------------------------- */

static const uint32_t wait_of[128] = {
	['s'] = LFQ_SEQ_WAIT_SPIN, ['y'] = LFQ_SEQ_WAIT_YIELD,
	['b'] = LFQ_SEQ_WAIT_BLOCK,
};

/* LATE: the sequence consumer 0 passes before joiner k may join. */
static uint64_t late_threshold(const struct seq_state *st, unsigned int k)
{
	return st->total * k / st->consumers;
}

/* What one consumer keeps while it reads. */
struct reader {
	struct seq_state *st;
	struct lfq_seq_consumer c;
	unsigned int id, words;
	bool multi;
	uint64_t mask;			/* the stamps of the stages before */
	uint64_t stamp;			/* ours, 0 unless a pipeline stage */
	int64_t next[MAX_PRODUCERS];	/* each producer's next item, -1: any */
};

/*
 * Check the element of s (after the stages before us, with mask) and
 * note its item; false after a failure.
 */
static bool read_one(struct reader *r, uint64_t s, uint64_t mask, bool again)
{
	uint64_t *e = lfq_seq_elem(r->c.ring, s);
	uint64_t tag = elem_read(e, r->words, s, mask);
	unsigned int p = (unsigned int)(tag >> 48);
	int64_t n = (int64_t)(tag & ((1ULL << 48) - 1));

	if (tag == ~0ULL || p >= r->st->cfg->producers ||
	    (!r->multi && (uint64_t)n != s)) {
		stress_fail(r->st, "consumer %u: the element of sequence %" PRIu64
			    " is not the one published there%s (tag %#" PRIx64 ")",
			    r->id, s, again ? ", read again before done" : "",
			    e[0] ^ mask);
		return false;
	}
	if (again)
		return true;
	if (r->next[p] >= 0 && n != r->next[p]) {
		stress_fail(r->st, "consumer %u: item %" PRId64 " of producer %u "
			    "at sequence %" PRIu64 ", expected item %" PRId64,
			    r->id, n, p, s, r->next[p]);
		return false;
	}
	r->next[p] = n + 1;
	return true;
}

/* Read first..last, stamp them if we are a stage, sometimes twice. */
static bool read_batch(struct reader *r, uint64_t first, uint64_t last,
		       uint64_t *x)
{
	uint64_t s;

	for (s = first; s != last + 1; s++) {
		if (!read_one(r, s, r->mask, false))
			return false;
		if (r->stamp)
			elem_stamp(lfq_seq_elem(r->c.ring, s), r->words,
				   r->stamp);
	}
	if (stress_rand(x) % 16)
		return true;
	/* let the producers run: they must not touch what we hold */
	sched_yield();
	for (s = first; s != last + 1; s++)
		if (!read_one(r, s, r->mask ^ r->stamp, true))
			return false;
	return true;
}

/* Join as the shape says: who to follow, and when. */
static int reader_join(struct reader *r, struct lfq_ring *ring)
{
	struct seq_state *st = r->st;
	const struct seq_cfg *cfg = st->cfg;
	uint32_t follows = LFQ_SEQ_PRODUCER;
	unsigned int k;
	int ret;

	if (cfg->shape == PIPELINE && r->id) {
		if (!await(st, &st->joined, r->id))
			return -ECANCELED;
		follows = atomic_load(&st->ids[r->id - 1]);
		for (k = 0; k < r->id; k++)
			r->mask ^= stamp_of(k);
	}
	if (cfg->shape == PIPELINE)
		r->stamp = stamp_of(r->id);
	if (cfg->shape == LATE && r->id &&
	    !await(st, &st->late_turn, r->id))
		return -ECANCELED;
	ret = lfq_seq_join(ring, follows, wait_of[(int)cfg->waits[r->id]],
			   &r->c);
	if (ret)
		return ret;
	atomic_store(&st->ids[r->id], r->c.id);
	atomic_store(&st->start[r->id], r->c.seq + 1);
	atomic_fetch_add(&st->joined, 1);
	return 0;
}

/* LATE, consumer 0 past a threshold: let the next joiner in, wait for it. */
static void let_joiners_in(struct reader *r, uint64_t finished)
{
	struct seq_state *st = r->st;
	unsigned int k = atomic_load(&st->late_turn);

	while (k + 1 < st->consumers && finished >= late_threshold(st, k + 1)) {
		atomic_store(&st->late_turn, ++k);
		if (!await(st, &st->joined, k + 1))
			return;
	}
}

/* What a consumer checks once it has read everything. */
static void reader_verify(struct reader *r)
{
	struct seq_state *st = r->st;
	uint64_t thr, seq0 = atomic_load(&st->start[r->id]) - 1;
	unsigned int p;

	for (p = 0; r->multi && p < st->cfg->producers; p++) {
		/* a late joiner may have started after a producer's last */
		if (r->next[p] < 0 && st->cfg->shape == LATE && r->id)
			continue;
		if ((uint64_t)r->next[p] != st->per_producer)
			stress_fail(st, "consumer %u: saw producer %u up to item %"
				    PRId64 " of %" PRIu64, r->id, p,
				    r->next[p] - 1, st->per_producer);
	}
	if (st->cfg->shape != LATE || !r->id)
		return;
	/* it joined while consumer 0 waited for it past the threshold */
	thr = late_threshold(st, r->id);
	if ((int64_t)(seq0 - thr) < 0 ||
	    seq0 > thr + 2ULL * st->cfg->capacity)
		stress_fail(st, "consumer %u: joined after sequence %" PRId64
			    ", not within two rings after %" PRIu64, r->id,
			    (int64_t)seq0, thr);
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct seq_state *st = w->st;
	struct lfq_ring *ring = w->ring;
	struct reader r = {
		.st = st,
		.id = w->id,
		.words = st->cfg->elem_size / 8,
		.multi = st->cfg->policy == LFQ_SEQ_MULTI,
	};
	uint64_t x = 0xbf58476d1ce4e5b9ULL * (w->id + 1), s, avail, mid;
	bool joined = false;
	unsigned int p;
	int ret;

	for (p = 0; p < MAX_PRODUCERS; p++)
		r.next[p] = st->cfg->shape == LATE && w->id ? -1 : 0;
	if (!ring) {
		ret = lfq_ring_attach(&ring, w->fd);
		if (ret) {
			stress_fail(st, "consumer %u: attach: %d", w->id, ret);
			goto out;
		}
	}
	ret = reader_join(&r, ring);
	if (ret) {
		if (ret != -ECANCELED)
			stress_fail(st, "consumer %u: join: %d", w->id, ret);
		goto out;
	}
	joined = true;
	for (s = r.c.seq + 1; s != st->total && !failed(st); s = avail + 1) {
		/* a try now and then; a wait otherwise, or if it found nothing */
		ret = stress_rand(&x) % 4 ? -EAGAIN :
					     lfq_seq_try_wait(&r.c, s, &avail);
		if (ret == -EAGAIN)
			ret = lfq_seq_wait(&r.c, s, &avail, -1);
		if (ret || (int64_t)(avail - s) < 0 || avail >= st->total) {
			stress_fail(st, "consumer %u: wait for %" PRIu64 " returned "
				    "%d, available up to %" PRIu64, w->id, s, ret,
				    avail);
			break;
		}
		if (!read_batch(&r, s, avail, &x))
			break;
		mid = s + (avail - s) / 2;
		if ((mid != avail && !(stress_rand(&x) % 4) &&
		     lfq_seq_done(&r.c, mid)) || lfq_seq_done(&r.c, avail)) {
			stress_fail(st, "consumer %u: done up to %" PRIu64
				    " refused", w->id, avail);
			break;
		}
		atomic_fetch_add_explicit(&st->consumed[w->id].n,
					  avail - s + 1, memory_order_relaxed);
		if (st->cfg->shape == LATE && !w->id)
			let_joiners_in(&r, avail);
	}
	if (!failed(st))
		reader_verify(&r);
	if (lfq_ring_errors(ring))
		stress_fail(st, "consumer %u: %" PRIu64 " ring errors", w->id,
			    lfq_ring_errors(ring));
out:
	/* stages stay until their followers are done: no -EPIPE for them */
	atomic_fetch_add(&st->finished, 1);
	await(st, &st->finished, st->consumers);
	if (joined)
		lfq_seq_leave(&r.c);
	if (ring != w->ring)
		lfq_ring_destroy(ring);
	return NULL;
}

/* Start the consumers, each with ring, or attaching fd if ring is NULL. */
static int start_consumers(struct seq_state *st, struct worker *w,
			   struct lfq_ring *ring, int fd)
{
	unsigned int i;

	for (i = 0; i < st->consumers; i++) {
		w[i] = (struct worker){ .st = st, .ring = ring, .fd = fd, .id = i };
		if (pthread_create(&w[i].tid, NULL, consumer, &w[i]))
			return -1;
	}
	return 0;
}

/*
 * The consumer process of the memfd and dev backends: its threads attach
 * the inherited fd; exit status 0, or 1 after a failure.
 */
static void __attribute__((noreturn))
consumer_process(struct seq_state *st, int fd)
{
	struct worker w[MAX_CONSUMERS];
	unsigned int i;

	/* the parent's watchdog may kill it, its death must not leave us */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (start_consumers(st, w, NULL, fd)) {
		stress_fail(st, "consumer process: pthread_create");
		_exit(1);
	}
	for (i = 0; i < st->consumers; i++)
		pthread_join(w[i].tid, NULL);
	_exit(failed(st) ? 1 : 0);
}

/* ---- the run ------------------------------------------------------------ */

static uint64_t progress(struct seq_state *st)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < st->cfg->producers; i++)
		sum += atomic_load(&st->produced[i].n);
	for (i = 0; i < st->consumers; i++)
		sum += atomic_load(&st->consumed[i].n);
	return sum;
}

/*
 * A hang or a dead consumer process: say where everything stood and end
 * the test child now (threads may still sit in the ring).
 */
static void __attribute__((noreturn))
abort_run(struct __test_metadata *_metadata, struct seq_state *st,
	  pid_t child, const char *why)
{
	unsigned int i;

	TH_LOG("%s", why);
	for (i = 0; i < st->cfg->producers; i++)
		TH_LOG("producer %u produced %" PRIu64 " of %" PRIu64, i,
		       atomic_load(&st->produced[i].n), st->per_producer);
	for (i = 0; i < st->consumers; i++)
		TH_LOG("consumer %u consumed %" PRIu64 " from %" PRIu64, i,
		       atomic_load(&st->consumed[i].n),
		       atomic_load(&st->start[i]));
	if (failed(st))
		TH_LOG("%u failures, first: %s", atomic_load(&st->failures.n),
		       st->failures.first);
	if (child > 0)
		kill(child, SIGKILL);
	fflush(stdout);
	fflush(stderr);
	_exit(KSFT_FAIL);
}

/* The consumers that join before the producers start have. */
static bool first_joined(struct seq_state *st)
{
	unsigned int want = st->cfg->shape == LATE ? 1 : st->consumers;

	return atomic_load(&st->joined) >= want;
}

static bool all_done(struct seq_state *st)
{
	return atomic_load(&st->producers_done) == st->cfg->producers &&
	       atomic_load(&st->finished) == st->consumers;
}

/*
 * Until cond holds, and with reap until the consumer process has exited
 * too, as long as things move and that process lives or exits with 0.
 */
static void watch(struct __test_metadata *_metadata, struct seq_state *st,
		  pid_t *child, bool (*cond)(struct seq_state *st), bool reap)
{
	double stall = stress_env_double("LFQ_STRESS_TIMEOUT", 10.0);
	double last = stress_now(), grace = 0;
	uint64_t moved, seen = progress(st);
	int status;

	while (!cond(st) || (reap && *child > 0)) {
		if (*child > 0 && waitpid(*child, &status, WNOHANG) == *child) {
			*child = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				abort_run(_metadata, st, 0,
					  "the consumer process failed");
		}
		moved = progress(st);
		if (moved != seen) {
			seen = moved;
			last = stress_now();
			alarm((unsigned int)stall + 30);
		}
		if (stress_now() - last > stall)
			abort_run(_metadata, st, *child, "watchdog: nothing "
				  "moved for LFQ_STRESS_TIMEOUT seconds");
		if (failed(st)) {
			if (!grace)
				grace = stress_now() + 1.0;
			else if (stress_now() > grace)
				abort_run(_metadata, st, *child,
					  "a thread failed, the run cannot end");
		}
		usleep(1000);
	}
}

/*
 * After the run: every barrier is free again (the consumers left, or
 * their process ended), and a consumer joining now starts after the
 * last sequence and finds nothing more. On /dev/lfq rings each joiner
 * needs a handle of its own.
 */
static void expect_settled(struct __test_metadata *_metadata,
			   struct seq_state *st, struct lfq_ring *ring,
			   enum stress_backend b)
{
	static struct lfq_seq_consumer c[LFQ_CLAIMS];
	static struct lfq_ring *h[LFQ_CLAIMS];
	unsigned int i, n;
	uint64_t avail;

	for (n = 0; n < LFQ_CLAIMS; n++) {
		h[n] = ring;
		if (b == STRESS_DEV)
			ASSERT_EQ(0, lfq_ring_attach(&h[n], lfq_ring_fd(ring)));
		if (lfq_seq_join(h[n], LFQ_SEQ_PRODUCER, LFQ_SEQ_WAIT_SPIN,
				 &c[n]))
			break;
		EXPECT_EQ(st->total - 1, c[n].seq);
		EXPECT_EQ(-EAGAIN, lfq_seq_try_wait(&c[n], st->total, &avail));
	}
	EXPECT_EQ(LFQ_CLAIMS, n) TH_LOG("barriers left taken after the run");
	for (i = 0; i <= n && i < LFQ_CLAIMS; i++) {
		if (i < n)
			lfq_seq_leave(&c[i]);
		if (b == STRESS_DEV)
			lfq_ring_destroy(h[i]);
	}
}

static void seq_run(struct __test_metadata *_metadata,
		    const struct seq_cfg *cfg, enum stress_backend b)
{
	struct lfq_create p = {
		.type = LFQ_RING_SEQ,
		.capacity = cfg->capacity,
		.elem_size = cfg->elem_size,
		.policy = cfg->policy,
	};
	struct worker prod[MAX_PRODUCERS], cons[MAX_CONSUMERS];
	const char *bname = stress_backend_names[b];
	struct lfq_ring *ring = NULL;
	struct seq_state *st;
	uint64_t consumed, start;
	double scale, t0, secs;
	unsigned int i;
	pid_t child = 0;
	int ret;

	if (!stress_backend_enabled(bname))
		SKIP(return, "%s: not in LFQ_TEST_BACKENDS", bname);
	if (b != STRESS_HEAP && !strcmp(SANITIZER, "tsan") &&
	    (cfg->producers > 1 || cfg->shape == PIPELINE))
		SKIP(return, "%s: TSan cannot see the order of slot writes, "
		     "which goes through the other process", bname);
	ASSERT_LE(cfg->producers, MAX_PRODUCERS);
	ASSERT_TRUE(cfg->policy == LFQ_SEQ_MULTI || cfg->producers == 1);
	ASSERT_LE(strlen(cfg->waits), MAX_CONSUMERS);
	ASSERT_EQ(strlen(cfg->waits), strspn(cfg->waits, "syb"));
	ASSERT_EQ(0, cfg->elem_size % 8);
	ASSERT_LE(cfg->elem_size, ELEM_MAX);
	ASSERT_LE(cfg->policy == LFQ_SEQ_MULTI ? 16 : 8, cfg->elem_size);
	ASSERT_LE(cfg->batch, cfg->capacity);

	ret = lfq_ring_create(&ring, &p, stress_backend_mem[b]);
	if (b == STRESS_DEV && (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO))
		SKIP(return, "dev: no /dev/lfq (%s)", strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("create on %s: %s", bname, strerror(-ret));

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	scale = stress_env_double("LFQ_STRESS_SCALE", 1.0) / SANITIZER_DIV;
	st->cfg = cfg;
	st->consumers = (unsigned int)strlen(cfg->waits);
	st->per_producer = (uint64_t)((double)cfg->items * scale /
				      cfg->producers + 0.5);
	/* late joiners need room past their thresholds */
	if (st->per_producer < 16ULL * cfg->capacity)
		st->per_producer = 16ULL * cfg->capacity;
	st->total = st->per_producer * cfg->producers;

	alarm((unsigned int)stress_env_double("LFQ_STRESS_TIMEOUT", 10.0) + 30);
	t0 = stress_now();
	if (b == STRESS_HEAP) {
		ASSERT_EQ(0, start_consumers(st, cons, ring, -1));
	} else {
		fflush(stdout);
		fflush(stderr);
		child = fork();
		ASSERT_LE(0, child);
		if (!child)
			consumer_process(st, lfq_ring_fd(ring));
	}
	/* join before the first publish, to see every item */
	watch(_metadata, st, &child, first_joined, false);
	for (i = 0; i < cfg->producers; i++) {
		prod[i] = (struct worker){ .st = st, .ring = ring, .id = i };
		ASSERT_EQ(0, pthread_create(&prod[i].tid, NULL, producer,
					    &prod[i]));
	}
	watch(_metadata, st, &child, all_done, true);
	secs = stress_now() - t0;
	alarm(0);
	for (i = 0; i < cfg->producers; i++)
		pthread_join(prod[i].tid, NULL);
	for (i = 0; b == STRESS_HEAP && i < st->consumers; i++)
		pthread_join(cons[i].tid, NULL);

	EXPECT_EQ(0, atomic_load(&st->failures.n))
		TH_LOG("first failure: %s", st->failures.first);
	for (i = 0; i < cfg->producers; i++)
		EXPECT_EQ(st->per_producer, atomic_load(&st->produced[i].n));
	/* each consumer saw every sequence from its start, once */
	for (i = 0, consumed = 0; i < st->consumers; i++) {
		start = atomic_load(&st->start[i]);
		EXPECT_EQ(st->total - start, atomic_load(&st->consumed[i].n))
			TH_LOG("consumer %u from sequence %" PRIu64, i, start);
		if (cfg->shape != LATE)
			EXPECT_EQ(0, start);
		consumed += atomic_load(&st->consumed[i].n);
	}
	EXPECT_EQ(0, lfq_ring_errors(ring));
	expect_settled(_metadata, st, ring, b);

	printf("# %s/%s %ux%u cap %u elem %u [%s]: %" PRIu64 " sequences, %"
	       PRIu64 " reads in %.3f s\n", bname,
	       cfg->policy == LFQ_SEQ_MULTI ? "multi" : "single",
	       cfg->producers, st->consumers, cfg->capacity, cfg->elem_size,
	       SANITIZER, st->total, consumed, secs);
	fflush(stdout);
	munmap(st, sizeof(*st));
	lfq_ring_destroy(ring);
}

FIXTURE(seq_stress) {
	int unused;
};

FIXTURE_VARIANT(seq_stress) {
	struct seq_cfg cfg;
};

FIXTURE_SETUP(seq_stress) {}
FIXTURE_TEARDOWN(seq_stress) {}

STRESS_BACKEND_TESTS(seq_stress, seq_run, &variant->cfg)

#define K	1024ULL

#define VARIANT(name, shape_, policy_, p, w, cap, es, b, n)		\
	FIXTURE_VARIANT_ADD(seq_stress, name) {				\
		.cfg = {						\
			.policy = LFQ_SEQ_##policy_, .producers = (p),	\
			.waits = (w), .shape = (shape_),		\
			.capacity = (cap), .elem_size = (es),		\
			.batch = (b), .items = (n),			\
		},							\
	}

/* one producer, each strategy, claims of one and of many */
VARIANT(flat_single_1x1_s_c64_e8,	FLAT, SINGLE, 1, "s", 64, 8, 16, 64 * K);
VARIANT(flat_single_1x1_y_c2_e72,	FLAT, SINGLE, 1, "y", 2, 72, 2, 32 * K);
VARIANT(flat_single_1x1_b_c4_e8,	FLAT, SINGLE, 1, "b", 4, 8, 1, 64 * K);
VARIANT(flat_single_1x2_yb_c16_e72,	FLAT, SINGLE, 1, "yb", 16, 72, 4, 64 * K);
VARIANT(flat_single_1x4_bybb_c8_e8,	FLAT, SINGLE, 1, "bybb", 8, 8, 8, 32 * K);
/* several producers */
VARIANT(flat_multi_4x2_yb_c16_e72,	FLAT, MULTI, 4, "yb", 16, 72, 4, 64 * K);
VARIANT(flat_multi_4x2_bb_c4_e16,	FLAT, MULTI, 4, "bb", 4, 16, 1, 32 * K);
VARIANT(flat_multi_2x2_sb_c64_e16,	FLAT, MULTI, 2, "sb", 64, 16, 32, 64 * K);
/* pipelines: stage i follows stage i - 1 */
VARIANT(pipeline_single_1x2_bb_c8_e72,	PIPELINE, SINGLE, 1, "bb", 8, 72, 4, 32 * K);
VARIANT(pipeline_single_1x3_yby_c4_e8,	PIPELINE, SINGLE, 1, "yby", 4, 8, 2, 32 * K);
VARIANT(pipeline_multi_4x2_yb_c16_e16,	PIPELINE, MULTI, 4, "yb", 16, 16, 4, 64 * K);
/* late joiners */
VARIANT(late_single_1x3_byb_c8_e8,	LATE, SINGLE, 1, "byb", 8, 8, 4, 64 * K);
VARIANT(late_multi_2x4_bbyb_c16_e72,	LATE, MULTI, 2, "bbyb", 16, 72, 4, 64 * K);

TEST_HARNESS_MAIN
