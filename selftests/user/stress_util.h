/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What every stress test needs, whatever its body: the clock, the
 * environment (LFQ_TEST_BACKENDS, the scale), the backends and a test on
 * each, random numbers, and the record of failures that threads of
 * either process share.
 */
#ifndef LFQ_STRESS_UTIL_H
#define LFQ_STRESS_UTIL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lfq.h"

static double stress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double stress_env_double(const char *name, double def)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	v = strtod(s, &end);
	return (*end || v <= 0) ? def : v;
}

/* Is backend name in LFQ_TEST_BACKENDS (default: every backend)? */
static bool stress_backend_enabled(const char *name)
{
	const char *s = getenv("LFQ_TEST_BACKENDS");
	size_t len = strlen(name);

	if (!s || !*s)
		return true;
	while (*s) {
		size_t n = strcspn(s, ",");

		if (n == len && !strncmp(s, name, len))
			return true;
		s += n;
		if (*s == ',')
			s++;
	}
	return false;
}

/* The memory a stress test's ring lives in. */
enum stress_backend {
	STRESS_HEAP,
	STRESS_MEMFD,
	STRESS_DEV,
};

static const char *const stress_backend_names[] = {
	[STRESS_HEAP] = "heap",
	[STRESS_MEMFD] = "memfd",
	[STRESS_DEV] = "dev",
};

static const enum lfq_mem stress_backend_mem[] = {
	[STRESS_HEAP] = LFQ_MEM_HEAP,
	[STRESS_MEMFD] = LFQ_MEM_MEMFD,
	[STRESS_DEV] = LFQ_MEM_DEV,
};

/* The harness's own timeout, a backstop behind the watchdog (slow VMs). */
#define STRESS_HARNESS_TIMEOUT	900

/*
 * The tests heap, memfd and dev of fixture fix (with its variants, if it
 * has any), each calling run(_metadata, args..., backend); args may name
 * the test's variant.
 */
#define STRESS_BACKEND_TESTS(fix, run, ...)				\
	TEST_F_TIMEOUT(fix, heap, STRESS_HARNESS_TIMEOUT)		\
	{								\
		run(_metadata, ##__VA_ARGS__, STRESS_HEAP);		\
	}								\
	TEST_F_TIMEOUT(fix, memfd, STRESS_HARNESS_TIMEOUT)		\
	{								\
		run(_metadata, ##__VA_ARGS__, STRESS_MEMFD);		\
	}								\
	TEST_F_TIMEOUT(fix, dev, STRESS_HARNESS_TIMEOUT)		\
	{								\
		run(_metadata, ##__VA_ARGS__, STRESS_DEV);		\
	}

static uint32_t stress_rand(uint64_t *x)
{
	/* xorshift64*: cheap, per thread */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (uint32_t)((*x * 0x2545f4914f6cdd1dULL) >> 32);
}

/*
 * The failures of a run, from any thread of either process (in memory
 * both see): how many, and what the first one was.
 */
struct stress_failures {
	_Atomic unsigned int n;
	_Atomic int once;
	char first[256];
};

static void stress_failed(struct stress_failures *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void stress_failed(struct stress_failures *f, const char *fmt, ...)
{
	va_list ap;
	int zero = 0;

	atomic_fetch_add(&f->n, 1);
	if (!atomic_compare_exchange_strong(&f->once, &zero, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(f->first, sizeof(f->first), fmt, ap);
	va_end(ap);
}

/* Record a failure in the run state st, whatever its type. */
#define stress_fail(st, ...)	stress_failed(&(st)->failures, __VA_ARGS__)

#endif /* LFQ_STRESS_UTIL_H */
