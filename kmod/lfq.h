/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq in-kernel API. Symbols are exported GPL-only in namespace LFQ:
 * users say MODULE_IMPORT_NS(LFQ). See Documentation/index.rst.
 *
 * A ring is either created by kernel code (lfq_ring_create()) or attached
 * from a ring fd that userspace created on /dev/lfq (lfq_ring_get_fd());
 * either way the caller holds a reference and drops it with lfq_ring_put().
 * Ring memory that userspace maps is untrusted: every operation is bounded
 * and returns -EIO when the shared words are corrupt.
 */
#ifndef _LFQ_H
#define _LFQ_H

#include <linux/types.h>
#include <uapi/linux/lfq.h>

struct lfq_ring;

/**
 * struct lfq_turn_ref - a slot reserved to write or read in place
 * @elem:	the element in the slot
 * @ticket:	the ticket that reserved it
 */
struct lfq_turn_ref {
	void *elem;
	u64 ticket;
};

struct lfq_ring *lfq_ring_create(const struct lfq_create *params);
struct lfq_ring *lfq_ring_get_fd(int fd);
struct lfq_ring *lfq_ring_get(struct lfq_ring *ring);
void lfq_ring_put(struct lfq_ring *ring);
const struct lfq_info *lfq_ring_info(const struct lfq_ring *ring);
u64 lfq_ring_errors(const struct lfq_ring *ring);

int lfq_vyukov_try_push(struct lfq_ring *ring, const void *elem);
int lfq_vyukov_push(struct lfq_ring *ring, const void *elem, long timeout);
int lfq_vyukov_try_pop(struct lfq_ring *ring, void *elem);
int lfq_vyukov_pop(struct lfq_ring *ring, void *elem, long timeout);
int lfq_vyukov_try_push_burst(struct lfq_ring *ring, const void *elems,
			      unsigned int n);
int lfq_vyukov_push_burst(struct lfq_ring *ring, const void *elems,
			  unsigned int n, long timeout);
int lfq_vyukov_try_pop_burst(struct lfq_ring *ring, void *elems,
			     unsigned int n);
int lfq_vyukov_pop_burst(struct lfq_ring *ring, void *elems, unsigned int n,
			 long timeout);
u64 lfq_vyukov_size(const struct lfq_ring *ring);
bool lfq_vyukov_empty(const struct lfq_ring *ring);
bool lfq_vyukov_full(const struct lfq_ring *ring);
long lfq_vyukov_drain(struct lfq_ring *ring,
		      void (*fn)(void *elem, void *arg), void *arg);

int lfq_turn_try_push(struct lfq_ring *ring, const void *elem);
int lfq_turn_push(struct lfq_ring *ring, const void *elem, long timeout);
int lfq_turn_try_pop(struct lfq_ring *ring, void *elem);
int lfq_turn_pop(struct lfq_ring *ring, void *elem, long timeout);
int lfq_turn_try_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref,
			  long timeout);
int lfq_turn_push_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref);
int lfq_turn_try_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref,
			 long timeout);
int lfq_turn_pop_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref);
u64 lfq_turn_size(const struct lfq_ring *ring);
bool lfq_turn_empty(const struct lfq_ring *ring);
bool lfq_turn_full(const struct lfq_ring *ring);

#endif /* _LFQ_H */
