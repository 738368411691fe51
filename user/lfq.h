/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * liblfq: the userspace twin of lfq.ko.
 *
 * The same rings, on the same memory layout (<linux/lfq.h>), on three kinds
 * of memory:
 *
 *   LFQ_MEM_HEAP   private memory of this process (threads only)
 *   LFQ_MEM_MEMFD  a memfd, shared with other processes by passing or
 *                  inheriting lfq_ring_fd() and calling lfq_ring_attach()
 *   LFQ_MEM_DEV    a /dev/lfq ring fd: shared with the kernel and with
 *                  other processes the same way
 *
 * plus caller memory (lfq_ring_create_mem()). Every function returns 0 or a
 * count on success and a negative errno value on failure; errno is not
 * used to report errors.
 *
 * Waiting: blocking calls spin a little, then sleep: on a futex for heap,
 * caller and memfd rings, in poll() on the ring fd for /dev/lfq rings, so a
 * kernel peer can wake them. A timeout_ms of -1 waits forever, 0 never
 * sleeps.
 */
#ifndef LFQ_H
#define LFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/lfq.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lfq_ring;

enum lfq_mem {
	LFQ_MEM_HEAP,
	LFQ_MEM_MEMFD,
	LFQ_MEM_DEV,
};

/* Rings: create, share, attach, destroy (user/ring.c). */
int lfq_ring_create(struct lfq_ring **ringp, const struct lfq_create *params,
		    enum lfq_mem mem);
ssize_t lfq_ring_mem_size(const struct lfq_create *params);
int lfq_ring_create_mem(struct lfq_ring **ringp,
			const struct lfq_create *params, void *mem,
			size_t size);
int lfq_ring_attach(struct lfq_ring **ringp, int fd);
int lfq_ring_fd(const struct lfq_ring *ring);
const struct lfq_info *lfq_ring_info(const struct lfq_ring *ring);
uint64_t lfq_ring_errors(const struct lfq_ring *ring);
void lfq_ring_destroy(struct lfq_ring *ring);

/*
 * For event loops that sleep on lfq_ring_fd() themselves (poll, epoll) on
 * a /dev/lfq ring: wakers skip the wake-up while nobody has announced a
 * sleep (the need-wakeup flag), so announce first and sleep only if
 * nothing is ready yet:
 *
 *	if (lfq_ring_wait_begin(ring, POLLIN) == 0)
 *		epoll_wait(...);
 *	lfq_ring_wait_end(ring, POLLIN);
 *
 * events: POLLIN (items), POLLOUT (space). wait_begin returns the events
 * already ready, or -EINVAL.
 */
int lfq_ring_wait_begin(struct lfq_ring *ring, short events);
void lfq_ring_wait_end(struct lfq_ring *ring, short events);

/* Vyukov bounded MPMC queue (user/vyukov.c). */
int lfq_vyukov_try_push(struct lfq_ring *ring, const void *elem);
int lfq_vyukov_push(struct lfq_ring *ring, const void *elem, int timeout_ms);
int lfq_vyukov_try_pop(struct lfq_ring *ring, void *elem);
int lfq_vyukov_pop(struct lfq_ring *ring, void *elem, int timeout_ms);
int lfq_vyukov_try_push_burst(struct lfq_ring *ring, const void *elems,
			      unsigned int n);
int lfq_vyukov_push_burst(struct lfq_ring *ring, const void *elems,
			  unsigned int n, int timeout_ms);
int lfq_vyukov_try_pop_burst(struct lfq_ring *ring, void *elems,
			     unsigned int n);
int lfq_vyukov_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n,
			 int timeout_ms);
uint64_t lfq_vyukov_size(const struct lfq_ring *ring);
bool lfq_vyukov_empty(const struct lfq_ring *ring);
bool lfq_vyukov_full(const struct lfq_ring *ring);
long lfq_vyukov_drain(struct lfq_ring *ring,
		      void (*fn)(void *elem, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* LFQ_H */
