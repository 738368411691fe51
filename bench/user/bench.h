/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq_bench: the userspace benchmark of the lfq rings against DPDK's
 * rte_ring, Concurrency Kit's ck_ring and a plain array ring, all compiled
 * with the same flags into this one program.
 *
 * A case is one (workload, impl, threads, capacity, elem, burst); a group
 * is the cases that differ only in impl, read against each other. A run
 * moves a fixed number of items and verifies them (count, checksum, and
 * per-producer order where the queue promises FIFO); a case whose run
 * fails verification is FAIL, whatever its speed.
 */
#ifndef LFQ_BENCH_H
#define LFQ_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_REPS_MAX	32

struct bench_case;

/*
 * One run of a case: ops is what it moved (the unit of Mops/s), ns the
 * time it took; false when the run failed to verify what it moved (it
 * says why on stderr first).
 */
typedef bool (*bench_fn)(const struct bench_case *c, uint64_t *ops, double *ns);

struct bench_case {
	const char *workload;	/* "st", "spsc", "mpmc", "seq", ... */
	const char *impl;	/* "lfq vyukov", "rte mp/mc", ... */
	unsigned int producers;	/* or owner/worker threads */
	unsigned int consumers;	/* or thieves */
	unsigned int threads;	/* as printed */
	unsigned int capacity;
	unsigned int elem;	/* bytes */
	unsigned int burst;
	uint64_t items;		/* per run */
	int kind;		/* which queue, for the queue workloads */
	bench_fn run;
	/* results */
	unsigned int reps;
	double mops[BENCH_REPS_MAX];
	double ns_per_op[BENCH_REPS_MAX];
	bool failed;
	bool limited;		/* a rep reached the time limit */
};

/* The queue adapters (queue.c). */
enum bench_queue {
	Q_LFQ_VYUKOV,
	Q_LFQ_TURN,
	Q_LFQ_MPSC,
	Q_RTE_MPMC,
	Q_RTE_HTS,
	Q_RTE_RTS,
	Q_RTE_SPSC,
	Q_CK_SPSC,
	Q_CK_MPMC,
	Q_ARRAY,		/* single-threaded array ring: the reference */
	Q_NR,
};

struct bench_queue_info {
	const char *name;
	bool lfq;
	bool multi_producer;
	bool multi_consumer;
	bool threads;		/* false: one thread only (the array) */
};

extern const struct bench_queue_info bench_queues[Q_NR];

bool bench_queue_run(const struct bench_case *c, uint64_t *ops, double *ns);
/* The single-threaded push+pop loop under callgrind (lfq_bench --instr). */
bool bench_queue_instr(int kind, unsigned int capacity, unsigned int elem,
		       unsigned int burst, uint64_t items);

/* The other workloads. */
bool bench_seq_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_fanout_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_seq_single_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_deque_owner_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_stack_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_deque_steal_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_pool_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_serial_sort_run(const struct bench_case *c, uint64_t *ops, double *ns);
bool bench_pingpong_run(const struct bench_case *c, uint64_t *ops, double *ns);

/* Helpers (main.c). */
static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void bench_relax(void)
{
	__builtin_ia32_pause();
}

/* A spinning thread that found nothing: pause, and let others run often. */
void bench_backoff(unsigned int *fails);
/* Pin the calling thread to CPU i mod the CPUs we may use. */
void bench_pin(unsigned int i);
/* A hash for checksums, so that a lost item and a doubled one do not cancel. */
static inline uint64_t bench_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * Threads of a run: start them, release them together, time from the
 * release to the last one's end.
 */
struct bench_threads {
	unsigned int n;
	void *(*fn)(void *arg);
	void *args;		/* n args of size arg_size */
	size_t arg_size;
};

double bench_run_threads(const struct bench_threads *t);
/*
 * Set once a run has taken longer than its limit (0.8 s, quick 0.1 s):
 * queue producers stop early (queue.c says why).
 */
extern _Atomic bool bench_stop;
/* Threads wait here for the release; returns once released. */
void bench_wait_start(void);

#endif /* LFQ_BENCH_H */
