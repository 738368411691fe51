/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lfq.ko internals: the ring object and the wait/wake core, twin of
 * user/internal.h. The ring files (kmod/<ring>.c) see only this.
 */
#ifndef _LFQ_INTERNAL_H
#define _LFQ_INTERNAL_H

#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "lfq.h"

/* Wait directions: index into ring->wait[], bit (1 << dir) in LFQ_WAKE_*. */
enum {
	LFQ_NOT_EMPTY,
	LFQ_NOT_FULL,
	LFQ_NR_WAIT,
};

/* A try operation gives up after this many lost races or stale positions. */
#define LFQ_TRY_RETRIES		64
/* A blocking operation retries this many times before it sleeps. */
#define LFQ_SPIN_LIMIT		128

struct lfq_ring {
	/* Read by every operation: geometry (trusted copies) and shared words. */
	void *hdr;			/* ring region: struct lfq_<type>_hdr */
	u8 *slots;			/* slot 0 */
	u64 mask;			/* capacity - 1 */
	u32 stride;			/* bytes per slot */
	u32 elem_size;
	u32 capacity;
	u32 order;			/* log2(capacity) */
	struct lfq_wait *wait[LFQ_NR_WAIT];

	/* The object. */
	struct lfq_desc *desc;		/* read-only for userspace */
	wait_queue_head_t wq[LFQ_NR_WAIT];
	struct irq_work nmi_wake;	/* wakes wq[] for a waker in NMI */
	struct kref ref;
	struct lfq_info info;		/* what LFQ_IOC_INFO returns */
	struct page **pages;
	unsigned int nr_pages;
	void *area;			/* vmap of pages: desc page, ring region */

	/* Claim records of participants, and the repair of dead ones. */
	struct lfq_claim *claims;	/* shared: info.nr_claims records */
	struct lfq_rec *recs;		/* kernel's view of each record */
	struct mutex claim_lock;	/* recs */
	struct delayed_work repair;
	unsigned long repair_delay;	/* jiffies, doubles while waiting */
	unsigned int repair_tries;	/* passes without progress; parked
					 * at LFQ_REPAIR_TRIES until kicked */
};

/* Passes of the repair without progress before it parks: about 5 min. */
#define LFQ_REPAIR_TRIES	300

/* Kernel state of claim record i, under claim_lock. */
enum {
	LFQ_REC_FREE,			/* no fd owns it */
	LFQ_REC_LIVE,			/* owned by a joined ring fd */
	LFQ_REC_DEAD,			/* fd gone, its ticket still to repair */
};

struct lfq_rec {
	u64 pos;			/* DEAD: the ticket, copied at release */
	u32 claim;			/* DEAD: LFQ_CLAIM_PUSH or LFQ_CLAIM_POP */
	u32 slots;			/* DEAD: lfq_claim.slots, copied too */
	u32 state;			/* LFQ_REC_* */
};

/* A ring fd: the ring, and the claim record it owns if it joined. */
struct lfq_file {
	struct lfq_ring *ring;
	int rec;			/* index into claims[], or -1 */
};

static inline void *lfq_slot(const struct lfq_ring *ring, u64 pos)
{
	return ring->slots + (pos & ring->mask) * ring->stride;
}

/*
 * Positions between tail and head, clamped to 0..capacity: the size of a
 * queue whose header starts with head and tail.
 */
static inline u64 lfq_span(const struct lfq_ring *ring, const __u64 *head,
			   const __u64 *tail)
{
	/*
	 * S: tail before head (no partner: both only grow), so the
	 * difference never undercounts; the clamp bounds the overcount.
	 */
	u64 t = smp_load_acquire(tail);
	s64 n = (s64)(READ_ONCE(*head) - t);

	if (n < 0)
		return 0;
	return (u64)n > ring->capacity ? ring->capacity : (u64)n;
}

typedef int (*lfq_try_fn)(struct lfq_ring *ring, void *arg);

int __lfq_wait(struct lfq_ring *ring, unsigned int dir, lfq_try_fn try_op,
	       void *arg, long timeout);
int __lfq_spin(struct lfq_ring *ring, lfq_try_fn try_op, void *arg,
	       long timeout, bool yielding);
void lfq_wake(struct lfq_ring *ring, unsigned int dir);
void lfq_wake_wq(struct lfq_ring *ring, unsigned int dir);
void lfq_wake_all(struct lfq_ring *ring);
void lfq_wake_at(struct lfq_ring *ring, unsigned int dir, const __u64 *at,
		 u64 pos);
int lfq_ring_corrupt(struct lfq_ring *ring);
void lfq_ring_count(struct lfq_ring *ring, u64 *counter);
__poll_t lfq_ring_poll_mask(struct lfq_ring *ring, int rec);
void lfq_ring_show(struct seq_file *m, struct lfq_ring *ring);
int lfq_ring_join(struct lfq_ring *ring);
void lfq_ring_leave(struct lfq_ring *ring, unsigned int rec);
void lfq_ring_kick_repair(struct lfq_ring *ring);

/* A participant sleeps or wakes on the ring: restart a parked repair. */
static inline void lfq_ring_touch_repair(struct lfq_ring *ring)
{
	if (unlikely(READ_ONCE(ring->repair_tries) >= LFQ_REPAIR_TRIES)) {
		mutex_lock(&ring->claim_lock);
		lfq_ring_kick_repair(ring);
		mutex_unlock(&ring->claim_lock);
	}
}

/* Per-type hooks for ring.c. */
void lfq_vyukov_init(struct lfq_ring *ring);
__poll_t lfq_vyukov_poll(struct lfq_ring *ring, int rec);
void lfq_vyukov_show(struct seq_file *m, struct lfq_ring *ring);
__poll_t lfq_turn_poll(struct lfq_ring *ring, int rec);
void lfq_turn_show(struct seq_file *m, struct lfq_ring *ring);
int lfq_turn_repair(struct lfq_ring *ring, unsigned int id);
void lfq_mpsc_init(struct lfq_ring *ring);
__poll_t lfq_mpsc_poll(struct lfq_ring *ring, int rec);
void lfq_mpsc_show(struct seq_file *m, struct lfq_ring *ring);
int lfq_mpsc_repair(struct lfq_ring *ring, unsigned int id);
void lfq_seq_init(struct lfq_ring *ring);
__poll_t lfq_seq_poll(struct lfq_ring *ring, int rec);
void lfq_seq_show(struct seq_file *m, struct lfq_ring *ring);
void lfq_seq_leave_rec(struct lfq_ring *ring, unsigned int id);
__poll_t lfq_wsdeque_poll(struct lfq_ring *ring, int rec);
void lfq_wsdeque_show(struct seq_file *m, struct lfq_ring *ring);

/* The ring fd (dev.c). */
extern const struct file_operations lfq_ring_fops;

#endif /* _LFQ_INTERNAL_H */
