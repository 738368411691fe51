/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Kernel memory-model words in C11, so user/X.c reads like kmod/X.c.
 *
 * Every macro is an atomic_*_explicit() on an _Atomic cast of a plain
 * object, as liburing's barrier.h does: no per-arch assembly, and
 * ThreadSanitizer sees every access. The objects live in struct layouts
 * from <linux/lfq.h> that the kernel shares, so they cannot be declared
 * _Atomic themselves.
 */
#ifndef LFQ_USER_BARRIER_H
#define LFQ_USER_BARRIER_H

#include <stdatomic.h>

#define __lfq_atomic(p)		((_Atomic __typeof__(*(p)) *)(p))

#define READ_ONCE(x) \
	atomic_load_explicit(__lfq_atomic(&(x)), memory_order_relaxed)
#define WRITE_ONCE(x, v) \
	atomic_store_explicit(__lfq_atomic(&(x)), (v), memory_order_relaxed)

#define smp_load_acquire(p) \
	atomic_load_explicit(__lfq_atomic(p), memory_order_acquire)
#define smp_store_release(p, v) \
	atomic_store_explicit(__lfq_atomic(p), (v), memory_order_release)

/* A full barrier: orders earlier stores against later loads too. */
#ifndef __SANITIZE_THREAD__
#define smp_mb()		atomic_thread_fence(memory_order_seq_cst)
#else
/*
 * ThreadSanitizer does not model fences, and its own is no barrier on
 * the machine (GCC's -Wtsan rejects it): under it, the machine's fence,
 * in one out-of-line function of user/ring.c.
 */
void lfq_tsan_mb(void);
#define smp_mb()		lfq_tsan_mb()
#endif

/*
 * Like the kernel's try_cmpxchg_relaxed(): on failure *oldp is updated to
 * the current value. Relaxed: the callers order their data through other
 * words and say so.
 */
#define try_cmpxchg_relaxed(p, oldp, new)				\
	atomic_compare_exchange_strong_explicit(__lfq_atomic(p), (oldp),	\
						(new), memory_order_relaxed,	\
						memory_order_relaxed)

/* Like the kernel's try_cmpxchg(): fully ordered on success. */
#define try_cmpxchg(p, oldp, new)					\
	atomic_compare_exchange_strong_explicit(__lfq_atomic(p), (oldp),	\
						(new), memory_order_seq_cst,	\
						memory_order_relaxed)

/* Like try_cmpxchg_acquire(): acquire on success, relaxed on failure. */
#define try_cmpxchg_acquire(p, oldp, new)				\
	atomic_compare_exchange_strong_explicit(__lfq_atomic(p), (oldp),	\
						(new), memory_order_acquire,	\
						memory_order_relaxed)

/* Like try_cmpxchg_release(): release on success, relaxed on failure. */
#define try_cmpxchg_release(p, oldp, new)				\
	atomic_compare_exchange_strong_explicit(__lfq_atomic(p), (oldp),	\
						(new), memory_order_release,	\
						memory_order_relaxed)

/* Like the kernel's atomic64_fetch_add_relaxed(): returns the old value. */
#define fetch_add_relaxed(p, v) \
	atomic_fetch_add_explicit(__lfq_atomic(p), (v), memory_order_relaxed)

/* Orders memory accesses against this thread only: the compiler's barrier(). */
#define barrier()		atomic_signal_fence(memory_order_seq_cst)

/* Fully ordered counters, as the kernel's atomic_inc()/atomic_dec() + smp_mb. */
#define atomic_add_u32(p, v) \
	atomic_fetch_add_explicit(__lfq_atomic(p), (v), memory_order_seq_cst)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax()		__builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax()		__asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax()		atomic_signal_fence(memory_order_seq_cst)
#endif

#endif /* LFQ_USER_BARRIER_H */
