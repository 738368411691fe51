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
 * caller and memfd rings, in LFQ_IOC_WAIT on the ring fd for /dev/lfq
 * rings, so that a kernel peer can wake them. A timeout_ms of -1 waits forever, 0 never
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
 * Participants of a /dev/lfq ring whose type has claim records
 * (LFQ_RING_TURN, LFQ_RING_MPSC): lfq_ring_join() gives this handle a claim record and
 * an fd of its own, so that if the process dies while it holds a ticket,
 * the module repairs the ticket and the others go on. A joined handle
 * is one participant: use it from one thread at a time (each thread can
 * lfq_ring_attach() its own handle and join), and holds one ticket at a
 * time: taking another before the commit fails with -EBUSY. A child of
 * fork() gets its copies of joined handles unjoined. -EOPNOTSUPP for
 * other rings and memory, -EALREADY, -EBUSY when every record is taken.
 *
 * lfq_ring_repairs() reads the module's counts of what it repaired
 * (struct lfq_desc): all 0 without the module.
 */
struct lfq_repairs {
	uint64_t skipped;	/* dead producers' tickets, skipped */
	uint64_t dropped;	/* items of dead consumers, released unread */
	uint64_t unresolved;	/* deaths inside a claim: nothing repaired */
};

int lfq_ring_join(struct lfq_ring *ring);
int lfq_ring_repairs(const struct lfq_ring *ring, struct lfq_repairs *r);

/*
 * For event loops that sleep on lfq_ring_poll_fd() themselves (poll,
 * epoll) on a /dev/lfq ring: wakers skip the wake-up while nobody has
 * announced a sleep (the need-wakeup flag), so announce first and sleep
 * only if nothing is ready yet:
 *
 *	if (lfq_ring_wait_begin(ring, POLLIN) == 0)
 *		epoll_wait(...);
 *	lfq_ring_wait_end(ring, POLLIN);
 *
 * events: POLLIN (items), POLLOUT (space). wait_begin returns the events
 * already ready, or -EINVAL. lfq_ring_poll_fd() is the fd to watch: the
 * handle's joined fd if it joined, whose readiness is this participant's
 * (a sequencer consumer's POLLIN says that its own next sequence is
 * there, not any consumer's), else lfq_ring_fd(). Not an fd to share.
 */
int lfq_ring_poll_fd(const struct lfq_ring *ring);
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

/*
 * Turn bounded MPMC queue (user/turn.c). push and pop take a ticket and
 * wait for its turn: they never fail on a correct ring (-EIO on a corrupt
 * one) and have no timeout; use the try_ forms with lfq_ring_wait_begin()
 * to wait with one. The _reserve forms hand out the slot to write or read
 * in place, given back with the matching _commit.
 */
struct lfq_turn_ref {
	void *elem;		/* the element in the slot */
	uint64_t ticket;	/* the ticket that reserved it */
};

int lfq_turn_try_push(struct lfq_ring *ring, const void *elem);
int lfq_turn_push(struct lfq_ring *ring, const void *elem);
int lfq_turn_try_pop(struct lfq_ring *ring, void *elem);
int lfq_turn_pop(struct lfq_ring *ring, void *elem);
int lfq_turn_try_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_push_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_push_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref);
int lfq_turn_try_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_pop_reserve(struct lfq_ring *ring, struct lfq_turn_ref *ref);
int lfq_turn_pop_commit(struct lfq_ring *ring, const struct lfq_turn_ref *ref);
uint64_t lfq_turn_size(const struct lfq_ring *ring);
bool lfq_turn_empty(const struct lfq_ring *ring);
bool lfq_turn_full(const struct lfq_ring *ring);

/*
 * MPSC log ring (user/mpsc_log.c): producers reserve a record of 1..
 * lfq_mpsc_max_len() bytes, write it in place and commit it; one
 * consumer reads records in place (peek, then release of the last one
 * it wants freed) or copies them out (pop, returning the length). What
 * a full ring does is its policy (struct lfq_create.policy): DISCARD
 * fails and counts, BLOCK lets reserve/push wait, OVERWRITE drops the
 * oldest records. A joined handle (lfq_ring_join()) holds one
 * reservation, or one batch of taken records, at a time.
 */
struct lfq_mpsc_res {
	void *data;		/* the payload, len contiguous bytes */
	uint32_t len;		/* payload bytes */
	uint32_t slots;		/* positions the record takes */
	uint64_t pos;		/* its first position */
};

struct lfq_mpsc_stats {
	uint64_t dropped;	/* records refused: the ring was full */
	uint64_t overwritten;	/* records freed unread to make room */
};

uint32_t lfq_mpsc_max_len(const struct lfq_ring *ring);
int lfq_mpsc_try_reserve(struct lfq_ring *ring, uint32_t len,
			 struct lfq_mpsc_res *res);
int lfq_mpsc_reserve(struct lfq_ring *ring, uint32_t len,
		     struct lfq_mpsc_res *res, int timeout_ms);
int lfq_mpsc_commit(struct lfq_ring *ring, const struct lfq_mpsc_res *res);
int lfq_mpsc_try_push(struct lfq_ring *ring, const void *data, uint32_t len);
int lfq_mpsc_push(struct lfq_ring *ring, const void *data, uint32_t len,
		  int timeout_ms);
int lfq_mpsc_peek(struct lfq_ring *ring, struct lfq_mpsc_res *res);
int lfq_mpsc_peek_burst(struct lfq_ring *ring, struct lfq_mpsc_res *res,
			unsigned int n);
int lfq_mpsc_release(struct lfq_ring *ring, const struct lfq_mpsc_res *res);
int lfq_mpsc_try_pop(struct lfq_ring *ring, void *buf, size_t size);
int lfq_mpsc_pop(struct lfq_ring *ring, void *buf, size_t size,
		 int timeout_ms);
uint64_t lfq_mpsc_size(const struct lfq_ring *ring);
int lfq_mpsc_stats(const struct lfq_ring *ring, struct lfq_mpsc_stats *stats);

/*
 * Sequencer (user/sequencer.c), Disruptor style: producers claim
 * sequences, write their slots in place (lfq_seq_elem()) and publish
 * them; every consumer sees every item. A consumer joins with a barrier
 * (lfq_seq_join()), waits for a sequence and gets the last one
 * available, reads the batch in place, and finishes it with
 * lfq_seq_done(), which lets the producers reuse the slots. A consumer
 * may follow another's barrier instead of the producers (a pipeline).
 * LFQ_SEQ_SINGLE rings have one producer, whose publish(s) publishes
 * every claimed sequence up to s; LFQ_SEQ_MULTI producers claim by CAS
 * and publish their own sequences. On a /dev/lfq ring a consumer joins
 * through its handle's claim record (lfq_ring_join(): one consumer per
 * handle), and the module frees its barrier when the process ends.
 */
enum {
	LFQ_SEQ_WAIT_SPIN,	/* spin on the CPU */
	LFQ_SEQ_WAIT_YIELD,	/* spin a little, then yield between looks */
	LFQ_SEQ_WAIT_BLOCK,	/* spin a little, then sleep until woken */
};

struct lfq_seq_consumer {
	struct lfq_ring *ring;
	uint64_t seq;		/* the last sequence finished: the barrier */
	uint64_t avail;		/* the last sequence a wait found available */
	uint32_t id;		/* its barrier, for others to follow */
	uint32_t follows;	/* LFQ_SEQ_PRODUCER or the barrier followed */
	uint32_t follows_gen;	/* its generation when this one joined */
	uint32_t wait;		/* LFQ_SEQ_WAIT_* */
};

int lfq_seq_try_claim_one(struct lfq_ring *ring, uint64_t *seq);
int lfq_seq_claim_one(struct lfq_ring *ring, uint64_t *seq, int timeout_ms);
int lfq_seq_try_claim_up_to(struct lfq_ring *ring, uint32_t n,
			    uint64_t *first);
int lfq_seq_claim_up_to(struct lfq_ring *ring, uint32_t n, uint64_t *first,
			int timeout_ms);
void *lfq_seq_elem(const struct lfq_ring *ring, uint64_t seq);
int lfq_seq_publish(struct lfq_ring *ring, uint64_t seq);
int lfq_seq_publish_range(struct lfq_ring *ring, uint64_t first,
			  uint64_t last);
int lfq_seq_join(struct lfq_ring *ring, uint32_t follows, uint32_t wait,
		 struct lfq_seq_consumer *c);
void lfq_seq_leave(struct lfq_seq_consumer *c);
int lfq_seq_try_wait(struct lfq_seq_consumer *c, uint64_t seq,
		     uint64_t *avail);
int lfq_seq_wait(struct lfq_seq_consumer *c, uint64_t seq, uint64_t *avail,
		 int timeout_ms);
int lfq_seq_done(struct lfq_seq_consumer *c, uint64_t seq);

/*
 * Bounded Chase-Lev work-stealing deque (user/wsdeque.c): the owner
 * pushes and pops at the bottom (LIFO) through its Worker handle, any
 * number of thieves steal at the top (FIFO) through Stealer handles.
 * Each call is one bounded attempt and never sleeps: push -ENOSPC when
 * full, pop -EAGAIN when empty, steal -EAGAIN when empty or -EBUSY when
 * it lost a race (try again). steal_batch takes up to n, at most half.
 */
struct lfq_wsdeque_worker {
	struct lfq_ring *ring;
};

struct lfq_wsdeque_stealer {
	struct lfq_ring *ring;
};

int lfq_wsdeque_worker(struct lfq_ring *ring, struct lfq_wsdeque_worker *w);
int lfq_wsdeque_stealer(struct lfq_ring *ring, struct lfq_wsdeque_stealer *s);
int lfq_wsdeque_push(struct lfq_wsdeque_worker *w, const void *elem);
int lfq_wsdeque_pop(struct lfq_wsdeque_worker *w, void *elem);
int lfq_wsdeque_steal(struct lfq_wsdeque_stealer *s, void *elem);
int lfq_wsdeque_steal_batch(struct lfq_wsdeque_stealer *s, void *elems,
			    unsigned int n);
uint64_t lfq_wsdeque_len(const struct lfq_ring *ring);

/*
 * A work-stealing thread pool on the deque (user/sched.c): threads
 * workers, each with a deque of capacity tasks, and an injector queue of
 * capacity tasks for spawns from outside the pool. lfq_pool_spawn() runs
 * fn(arg) as part of group g: on the spawning worker's deque, or through
 * the injector from other threads (waiting while it is full). A worker
 * whose deque is full runs the task at once. lfq_group_wait() returns
 * once every task of g has finished; a worker keeps running tasks while
 * it waits, so tasks may spawn and wait for tasks of their own (fork/
 * join). Destroy the pool once its groups are done: tasks still queued
 * are not run.
 */
#define LFQ_POOL_MAX_THREADS	256

struct lfq_pool;

struct lfq_group {
	uint32_t pending;	/* tasks spawned, not finished */
};

int lfq_pool_create(struct lfq_pool **poolp, unsigned int threads,
		    unsigned int capacity);
void lfq_pool_destroy(struct lfq_pool *pool);
void lfq_group_init(struct lfq_group *g);
int lfq_pool_spawn(struct lfq_pool *pool, struct lfq_group *g,
		   void (*fn)(void *arg), void *arg);
void lfq_group_wait(struct lfq_pool *pool, struct lfq_group *g);

#ifdef __cplusplus
}
#endif

#endif /* LFQ_H */
