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

/**
 * struct lfq_mpsc_res - a record of an MPSC ring, reserved or taken
 * @data:	its payload, @len contiguous bytes in the ring
 * @len:	payload bytes
 * @slots:	positions the record takes
 * @pos:	its first position
 *
 * Hand it back unchanged to lfq_mpsc_commit() or lfq_mpsc_release().
 */
struct lfq_mpsc_res {
	void *data;
	u32 len;
	u32 slots;
	u64 pos;
};

/**
 * struct lfq_mpsc_stats - records an MPSC ring lost to a full ring
 * @dropped:	refused (LFQ_MPSC_DISCARD, and OVERWRITE when it could not
 *		make room)
 * @overwritten: freed unread to make room (LFQ_MPSC_OVERWRITE)
 */
struct lfq_mpsc_stats {
	u64 dropped;
	u64 overwritten;
};

/* How a sequencer consumer waits (lfq_seq_join()). */
enum {
	LFQ_SEQ_WAIT_SPIN,	/* spin on the CPU */
	LFQ_SEQ_WAIT_YIELD,	/* spin a little, then yield between looks */
	LFQ_SEQ_WAIT_BLOCK,	/* spin a little, then sleep until woken */
};

/**
 * struct lfq_seq_consumer - a consumer of a sequencer ring
 * @ring:	the ring
 * @seq:	the last sequence it has finished: its barrier's value
 * @avail:	the last sequence a wait found available
 * @id:		index of its barrier, for others to follow
 * @follows:	LFQ_SEQ_PRODUCER, or the barrier it follows
 * @follows_gen: the generation of that barrier when it joined
 * @wait:	LFQ_SEQ_WAIT_*
 *
 * Filled in by lfq_seq_join(); one thread at a time uses a consumer.
 */
struct lfq_seq_consumer {
	struct lfq_ring *ring;
	u64 seq;
	u64 avail;
	u32 id;
	u32 follows;
	u32 follows_gen;
	u32 wait;
};

/**
 * struct lfq_wsdeque_worker - the owner's handle of a work-stealing deque
 * @ring:	the deque
 */
struct lfq_wsdeque_worker {
	struct lfq_ring *ring;
};

/**
 * struct lfq_wsdeque_stealer - a thief's handle of a work-stealing deque
 * @ring:	the deque
 */
struct lfq_wsdeque_stealer {
	struct lfq_ring *ring;
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

u32 lfq_mpsc_max_len(const struct lfq_ring *ring);
int lfq_mpsc_try_reserve(struct lfq_ring *ring, u32 len,
			 struct lfq_mpsc_res *res);
int lfq_mpsc_reserve(struct lfq_ring *ring, u32 len, struct lfq_mpsc_res *res,
		     long timeout);
int lfq_mpsc_commit(struct lfq_ring *ring, const struct lfq_mpsc_res *res);
int lfq_mpsc_try_push(struct lfq_ring *ring, const void *data, u32 len);
int lfq_mpsc_push(struct lfq_ring *ring, const void *data, u32 len,
		  long timeout);
int lfq_mpsc_peek(struct lfq_ring *ring, struct lfq_mpsc_res *res);
int lfq_mpsc_peek_burst(struct lfq_ring *ring, struct lfq_mpsc_res *res,
			unsigned int n);
int lfq_mpsc_release(struct lfq_ring *ring, const struct lfq_mpsc_res *res);
int lfq_mpsc_try_pop(struct lfq_ring *ring, void *buf, size_t size);
int lfq_mpsc_pop(struct lfq_ring *ring, void *buf, size_t size, long timeout);
u64 lfq_mpsc_size(const struct lfq_ring *ring);
void lfq_mpsc_stats(const struct lfq_ring *ring, struct lfq_mpsc_stats *stats);

int lfq_seq_try_claim_one(struct lfq_ring *ring, u64 *seq);
int lfq_seq_claim_one(struct lfq_ring *ring, u64 *seq, long timeout);
int lfq_seq_try_claim_up_to(struct lfq_ring *ring, u32 n, u64 *first);
int lfq_seq_claim_up_to(struct lfq_ring *ring, u32 n, u64 *first,
			long timeout);
void *lfq_seq_elem(const struct lfq_ring *ring, u64 seq);
int lfq_seq_publish(struct lfq_ring *ring, u64 seq);
int lfq_seq_publish_range(struct lfq_ring *ring, u64 first, u64 last);
int lfq_seq_join(struct lfq_ring *ring, u32 follows, u32 wait,
		 struct lfq_seq_consumer *c);
void lfq_seq_leave(struct lfq_seq_consumer *c);
int lfq_seq_try_wait(struct lfq_seq_consumer *c, u64 seq, u64 *avail);
int lfq_seq_wait(struct lfq_seq_consumer *c, u64 seq, u64 *avail,
		 long timeout);
int lfq_seq_done(struct lfq_seq_consumer *c, u64 seq);

int lfq_wsdeque_worker(struct lfq_ring *ring, struct lfq_wsdeque_worker *w);
int lfq_wsdeque_stealer(struct lfq_ring *ring, struct lfq_wsdeque_stealer *s);
int lfq_wsdeque_push(struct lfq_wsdeque_worker *w, const void *elem);
int lfq_wsdeque_pop(struct lfq_wsdeque_worker *w, void *elem);
int lfq_wsdeque_steal(struct lfq_wsdeque_stealer *s, void *elem);
int lfq_wsdeque_steal_batch(struct lfq_wsdeque_stealer *s, void *elems,
			    unsigned int n);
u64 lfq_wsdeque_len(const struct lfq_ring *ring);

#endif /* _LFQ_H */
