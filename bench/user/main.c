// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_bench: runs the cases of every workload, rep 1 of every impl of a
 * group, then rep 2, and so on (so that slow drifts of the machine hit
 * every impl alike), and prints the median, min and max of the reps as a
 * text table (stdout and BENCH_DIR/user.txt) and a CSV (BENCH_DIR/user.csv).
 * Exits 1 if any run failed to verify what it moved.
 *
 *   lfq_bench [-q] [-o DIR] [-f WORKLOAD]
 *                             the benchmark; -q (or LFQ_BENCH_QUICK=1) a
 *                             quick pass with few items, to try it; -f
 *                             only the groups of one workload ("mpmc")
 *   lfq_bench --instr KIND CAP ELEM BURST ITEMS
 *                             one single-threaded push+pop loop, between
 *                             callgrind's start and stop (instr.sh)
 *   lfq_bench --instr-deque 0|1 ITEMS
 *                             the deque owner's push+pop pairs (0), or the
 *                             array stack's (1), the same way
 *   lfq_bench --instr-seq BURST ITEMS
 *                             the sequencer's claim, publish, wait and
 *                             done in one thread, bursts of BURST
 *   lfq_bench --list          the kinds for instr.sh, "kind name" per line:
 *                             queues by index, w0 and w1 the deque and the
 *                             stack, s0 the sequencer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define REPS		5
#define CASES_MAX	512
#define HANG_S		10	/* after the time limit: a run that hangs */

static struct bench_case cases[CASES_MAX];
static unsigned int groups[CASES_MAX];	/* first case of each group */
static unsigned int nr_cases, nr_groups;
static double pingpong_ns;

/* ---- helpers for the workloads ---- */

static _Atomic bool bench_abort;

void bench_backoff(unsigned int *fails)
{
	/* two CPUs, up to eight threads: a spinner must let the others run */
	if (++*fails < 64) {
		bench_relax();
		return;
	}
	/* a run that hangs (a lost item) ends as a failed one */
	if (atomic_load_explicit(&bench_abort, memory_order_relaxed))
		pthread_exit(NULL);
	sched_yield();
}

void bench_pin(unsigned int i)
{
	cpu_set_t allowed, one;
	unsigned int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	i %= CPU_COUNT(&allowed);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		if (n++ == i)
			break;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
}

static _Atomic unsigned int ready, running;
static _Atomic bool go;
_Atomic bool bench_stop;
static sem_t all_done;
static double limit_ns = 8e8;
static bool timed_out;		/* the last run reached limit_ns */

void bench_wait_start(void)
{
	atomic_fetch_add(&ready, 1);
	while (!atomic_load_explicit(&go, memory_order_acquire))
		bench_relax();
}

struct thread_start {
	const struct bench_threads *t;
	unsigned int i;
};

static void *thread_main(void *p)
{
	struct thread_start *s = p;

	void *ret;

	bench_pin(s->i);
	ret = s->t->fn((char *)s->t->args + s->i * s->t->arg_size);
	if (atomic_fetch_sub(&running, 1) == 1)
		sem_post(&all_done);
	return ret;
}

/*
 * Thread i runs on CPU i mod the CPUs: the workloads order their threads
 * so that the two ends of a pair land on different CPUs. Every thread
 * calls bench_wait_start() once its setup is done.
 */
double bench_run_threads(const struct bench_threads *t)
{
	struct thread_start s[16];
	pthread_t tid[16];
	struct timespec deadline;
	unsigned int i;
	double t0;

	atomic_store(&ready, 0);
	atomic_store(&running, t->n);
	atomic_store(&go, false);
	atomic_store(&bench_stop, false);
	atomic_store(&bench_abort, false);
	for (i = 0; i < t->n; i++) {
		s[i].t = t;
		s[i].i = i;
		if (pthread_create(&tid[i], NULL, thread_main, &s[i])) {
			fprintf(stderr, "lfq_bench: pthread_create failed\n");
			exit(1);
		}
	}
	while (atomic_load(&ready) < t->n)
		sched_yield();
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (long)limit_ns % 1000000000;
	deadline.tv_sec += (long)(limit_ns / 1e9) + deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	t0 = bench_now_ns();
	atomic_store_explicit(&go, true, memory_order_release);
	while (sem_timedwait(&all_done, &deadline))
		if (errno != EINTR) {
			timed_out = true;
			break;
		}
	atomic_store(&bench_stop, true);
	if (timed_out) {
		deadline.tv_sec += HANG_S;
		while (sem_timedwait(&all_done, &deadline))
			if (errno != EINTR) {
				fprintf(stderr, "lfq_bench: a run still going %d s after its"
					" time limit: stopping its threads\n", HANG_S);
				atomic_store(&bench_abort, true);
				break;
			}
	}
	for (i = 0; i < t->n; i++)
		pthread_join(tid[i], NULL);
	/* the post of a run that ended after its deadline */
	while (!sem_trywait(&all_done))
		;
	return bench_now_ns() - t0;
}

/* ---- the cases ---- */

static struct bench_case *add(const char *workload, const char *impl,
			      unsigned int p, unsigned int c, unsigned int cap,
			      unsigned int elem, unsigned int burst, uint64_t items,
			      bench_fn run)
{
	struct bench_case *bc;

	if (nr_cases == CASES_MAX) {
		fprintf(stderr, "lfq_bench: too many cases\n");
		exit(1);
	}
	bc = &cases[nr_cases++];
	bc->workload = workload;
	bc->impl = impl;
	bc->producers = p;
	bc->consumers = c;
	bc->threads = p + c;
	bc->capacity = cap;
	bc->elem = elem;
	bc->burst = burst;
	bc->items = items;
	bc->run = run;
	return bc;
}

static const char *only;	/* -f: the workload to run */

static void new_group(void)
{
	/* a group of another workload than -f's is dropped when the next starts */
	if (only && nr_groups && strcmp(cases[groups[nr_groups - 1]].workload, only))
		nr_cases = groups[--nr_groups];
	groups[nr_groups++] = nr_cases;
}

static void add_queue(const char *workload, int k, unsigned int p, unsigned int c,
		      unsigned int cap, unsigned int elem, unsigned int burst,
		      uint64_t items)
{
	const struct bench_queue_info *q = &bench_queues[k];

	if ((c && !q->threads) || (p > 1 && !q->multi_producer) ||
	    (c > 1 && !q->multi_consumer))
		return;
	add(workload, q->name, p, c, cap, elem, burst, items, bench_queue_run)->kind = k;
}

/* Every queue whose shape fits p producers and c consumers (c 0: one thread). */
static void add_queue_group(const char *workload, unsigned int p, unsigned int c,
			    unsigned int cap, unsigned int elem, unsigned int burst,
			    uint64_t items)
{
	int k;

	new_group();
	/*
	 * The lfq rings first (the ratios are against the first), then the
	 * peers, the array (one thread only, the physical reference) last.
	 */
	for (k = 0; k < Q_NR; k++)
		if (bench_queues[k].lfq)
			add_queue(workload, k, p, c, cap, elem, burst, items);
	for (k = 0; k < Q_NR; k++)
		if (!bench_queues[k].lfq)
			add_queue(workload, k, p, c, cap, elem, burst, items);
}

static void build_cases(bool quick)
{
	/* items per run: about 0.1-0.4 s each on the 2-CPU VM */
	uint64_t m = quick ? 1 << 14 : 1 << 19;
	static const unsigned int caps[] = { 1024, 65536 }, elems[] = { 8, 64 },
		bursts[] = { 1, 32 };
	static const struct {
		const char *name;
		unsigned int p, c, scale;
	} sweep[] = {
		{ "st", 1, 0, 4 }, { "spsc", 1, 1, 2 }, { "mpsc", 2, 1, 2 },
		{ "mpmc", 2, 2, 1 },
	};
	unsigned int i, j, k, s, n;

	new_group();
	add("pingpong", "cache line", 1, 1, 0, 64, 1, m, bench_pingpong_run);

	/* throughput against threads: capacity 1024, 8-byte items, no burst */
	add_queue_group("st", 1, 0, 1024, 8, 1, 4 * m);
	add_queue_group("spsc", 1, 1, 1024, 8, 1, 2 * m);
	for (n = 2; n <= 4; n *= 2) {
		add_queue_group("mpsc", n, 1, 1024, 8, 1, 2 * m);
		add_queue_group("spmc", 1, n, 1024, 8, 1, 2 * m);
		add_queue_group("mpmc", n, n, 1024, 8, 1, m * n);
	}

	/* against capacity, element size and burst */
	for (s = 0; s < sizeof(sweep) / sizeof(sweep[0]); s++)
		for (i = 0; i < 2; i++)
			for (j = 0; j < 2; j++)
				for (k = 0; k < 2; k++) {
					if (!i && !j && !k)
						continue;	/* in the sweep above */
					add_queue_group(sweep[s].name, sweep[s].p,
							sweep[s].c, caps[i], elems[j],
							bursts[k], sweep[s].scale * m);
				}

	/* the sequencer against 1P x NC broadcast over N SPSC rte_rings */
	for (n = 1; n <= 3; n++)
		for (k = 0; k < 2; k++) {
			new_group();
			add("broadcast", "lfq seq", 1, n, 1024, 8, bursts[k], 2 * m,
			    bench_seq_run);
			add("broadcast", "rte sp/sc fan-out", 1, n, 1024, 8,
			    bursts[k], 2 * m, bench_fanout_run);
		}

	/* the deque: owner alone against an array stack, then with thieves */
	new_group();
	add("deque owner", "lfq wsdeque", 1, 0, 1024, 8, 1, 4 * m,
	    bench_deque_owner_run);
	add("deque owner", "array stack", 1, 0, 1024, 8, 1, 4 * m, bench_stack_run);
	for (n = 1; n <= 2; n++) {
		new_group();
		add("deque steal", "lfq wsdeque", 1, n, 1024, 8, 1, 2 * m,
		    bench_deque_steal_run);
	}

	/* the pool: fork/join mergesort against the same sort in one thread */
	new_group();
	add("forkjoin sort", "lfq pool", 1, 0, 0, 4, 1, 2 * m, bench_pool_run);
	add("forkjoin sort", "lfq pool", 2, 0, 0, 4, 1, 2 * m, bench_pool_run);
	add("forkjoin sort", "serial", 1, 0, 0, 4, 1, 2 * m, bench_serial_sort_run);
	new_group();
	nr_groups--;
}

/* ---- statistics and output ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	double s[BENCH_REPS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double vmin(const double *v, unsigned int n)
{
	double m = v[0];

	while (n--)
		m = v[n] < m ? v[n] : m;
	return m;
}

static double vmax(const double *v, unsigned int n)
{
	double m = v[0];

	while (n--)
		m = v[n] > m ? v[n] : m;
	return m;
}

static const char *shape(const struct bench_case *c, char *buf, size_t size)
{
	if (c->consumers && strcmp(c->workload, "pingpong"))
		snprintf(buf, size, "%ux%u", c->producers, c->consumers);
	else
		snprintf(buf, size, "%u", c->threads);
	return buf;
}

static void print_table(FILE *f, const char *machine)
{
	unsigned int g, i;
	char sh[16];

	fprintf(f, "lfq userspace benchmark: Mops/s = million items moved per second"
		" (a push and its pop), median/min/max of %u interleaved reps\n", REPS);
	fprintf(f, "%s", machine);
	fprintf(f, "threads are pinned round-robin (thread i on the i-th allowed CPU, modulo"
		" their count; producer and consumer of a pair on different CPUs);\n"
		"two-thread numbers on a VM depend on where the host places the"
		" vCPUs, and more threads than CPUs measure preemption as much as the queue:\n"
		"rte_ring MP/MC and ck_ring MPMC spin, without yielding, until a preempted"
		" thread ahead of them moves the tail (DPDK: not for preemptible threads).\n");
	if (pingpong_ns)
		fprintf(f, "cache-line round trip between two CPUs: %.0f ns\n", pingpong_ns);
	fprintf(f, "burst: rte_ring and lfq vyukov native, lfq mpsc pops with peek_burst"
		" (pushes loop), others loop over single calls.\n"
		"broadcast: ops are items published, each seen by every consumer.\n"
		"rte_ring and ck_ring hold capacity - 1 items, lfq rings capacity.\n"
		"ratio: the median against the group's first row.\n"
		"(t): some reps reached the time limit of a run (%.1f s) and moved fewer items.\n\n",
		limit_ns / 1e9);
	fprintf(f, "%-14s %-22s %5s %6s %4s %5s %9s %9s %9s %8s %6s %s\n",
		"workload", "impl", "thr", "cap", "elem", "burst", "Mops/s", "min", "max",
		"ns/op", "ratio", "ok");
	for (g = 0; g < nr_groups; g++) {
		double ref = median(cases[groups[g]].mops, cases[groups[g]].reps);
		char impl[32], ratio[16];

		for (i = groups[g]; i < groups[g + 1]; i++) {
			struct bench_case *c = &cases[i];
			double med = median(c->mops, c->reps);

			snprintf(impl, sizeof(impl), "%s%s", c->impl, c->limited ? " (t)" : "");
			if (ref > 0)
				snprintf(ratio, sizeof(ratio), "%.2f", med / ref);
			else
				snprintf(ratio, sizeof(ratio), "-");
			fprintf(f, "%-14s %-22s %5s %6u %4u %5u %9.2f %9.2f %9.2f %8.1f %6s %s\n",
				c->workload, impl, shape(c, sh, sizeof(sh)),
				c->capacity, c->elem, c->burst, med,
				vmin(c->mops, c->reps), vmax(c->mops, c->reps),
				median(c->ns_per_op, c->reps), ratio,
				c->failed ? "FAIL" : "ok");
		}
		if (pingpong_ns && cases[groups[g]].threads == 2 &&
		    strcmp(cases[groups[g]].workload, "pingpong"))
			fprintf(f, "%-14s (two threads: cache-line round trip %.0f ns;"
				" depends on vCPU placement)\n", "", pingpong_ns);
		fprintf(f, "\n");
	}
}

static void write_csv(FILE *f)
{
	unsigned int i;

	fprintf(f, "workload,impl,threads,capacity,elem_size,burst,reps,mops_median,"
		"mops_min,mops_max,ns_per_op_median,verified\n");
	for (i = 0; i < nr_cases; i++) {
		struct bench_case *c = &cases[i];

		fprintf(f, "%s,%s,%u,%u,%u,%u,%u,%.3f,%.3f,%.3f,%.2f,%s\n",
			c->workload, c->impl, c->threads, c->capacity, c->elem, c->burst,
			c->reps, median(c->mops, c->reps), vmin(c->mops, c->reps),
			vmax(c->mops, c->reps), median(c->ns_per_op, c->reps),
			c->failed ? "FAIL" : "ok");
	}
}

static void machine_summary(char *buf, size_t size)
{
	char model[128] = "unknown CPU", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			snprintf(model, sizeof(model), "%s", p + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	snprintf(buf, size, "machine: %s, %ld CPUs online\n", model,
		 sysconf(_SC_NPROCESSORS_ONLN));
}

static void run_all(void)
{
	unsigned int total = 0, done = 0, g, rep, i;
	bool tty = isatty(2);
	char sh[16];

	for (g = 0; g < nr_groups; g++)
		total += (groups[g + 1] - groups[g]) * REPS;
	for (g = 0; g < nr_groups; g++) {
		for (rep = 0; rep < REPS; rep++) {
			for (i = groups[g]; i < groups[g + 1]; i++) {
				struct bench_case *c = &cases[i];
				uint64_t ops;
				double ns;

				done++;
				if (tty || (rep == 0 && i == groups[g]))
					fprintf(stderr, "%s[%4u/%u] %s %s cap %u elem %u burst %u: %s rep %u/%u%s",
						tty ? "\r\033[K" : "", done, total,
						c->workload, shape(c, sh, sizeof(sh)),
						c->capacity, c->elem, c->burst, c->impl,
						rep + 1, REPS, tty ? "" : "\n");
				timed_out = false;
				if (!c->run(c, &ops, &ns))
					c->failed = true;
				/* only the queue runs stop at the limit; the others go on */
				c->limited |= timed_out && c->run == bench_queue_run;
				c->mops[c->reps] = ops / ns * 1e3;
				c->ns_per_op[c->reps] = ns / ops;
				c->reps++;
			}
		}
		if (!strcmp(cases[groups[g]].workload, "pingpong"))
			pingpong_ns = median(cases[groups[g]].ns_per_op, REPS);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "lfq_bench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("BENCH_DIR"), *q = getenv("LFQ_BENCH_QUICK");
	bool quick = q && *q && strcmp(q, "0");
	char machine[256];
	unsigned int i;
	bool failed = false;
	FILE *f;
	int opt;

	if (argc == 7 && !strcmp(argv[1], "--instr"))
		return !bench_queue_instr(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
					  atoi(argv[5]), strtoull(argv[6], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "--instr-deque")) {
		struct bench_case c = {
			.capacity = 1024, .elem = 8, .burst = 1,
			.items = strtoull(argv[3], NULL, 0),
		};
		uint64_t ops;
		double ns;

		return atoi(argv[2]) ? !bench_stack_run(&c, &ops, &ns) :
			!bench_deque_owner_run(&c, &ops, &ns);
	}
	if (argc == 4 && !strcmp(argv[1], "--instr-seq")) {
		struct bench_case c = {
			.capacity = 1024, .elem = 8, .burst = atoi(argv[2]),
			.items = strtoull(argv[3], NULL, 0),
		};
		uint64_t ops;
		double ns;

		return c.burst < 1 || !bench_seq_single_run(&c, &ops, &ns);
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < Q_NR; i++)
			printf("%u %s\n", i, bench_queues[i].name);
		printf("w0 lfq wsdeque\nw1 array stack\ns0 lfq seq\n");
		return 0;
	}
	while ((opt = getopt(argc, argv, "qo:f:")) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'f':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-q] [-o DIR] [-f WORKLOAD] | --instr KIND CAP ELEM BURST ITEMS"
				" | --list\n", argv[0]);
			return 2;
		}
	}
	sem_init(&all_done, 0, 0);
	if (quick)
		limit_ns = 1e8;
	build_cases(quick);
	machine_summary(machine, sizeof(machine));
	run_all();
	print_table(stdout, machine);
	if (dir) {
		f = open_out(dir, "user.txt");
		print_table(f, machine);
		fclose(f);
		f = open_out(dir, "user.csv");
		write_csv(f);
		fclose(f);
	}
	for (i = 0; i < nr_cases; i++)
		failed |= cases[i].failed;
	if (failed)
		fprintf(stderr, "lfq_bench: FAIL: some runs did not verify\n");
	return failed;
}
