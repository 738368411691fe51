// SPDX-License-Identifier: GPL-2.0
/*
 * lfq ring objects: layout, creation, references, teardown, and the
 * wait/wake core. Twin of user/ring.c.
 *
 * Memory: one page for the descriptor (mapped read-only) followed by the
 * ring region, all zeroed pages charged to the creator's memory cgroup
 * (__GFP_ACCOUNT), vmap()ed with VM_USERMAP so that the ring fd can map
 * them with remap_vmalloc_range(). A ring lives until the last reference
 * is gone: each ring fd holds one (so each mapping does, through its
 * file), and so does each kernel user.
 */
#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "internal.h"

static unsigned long max_ring_bytes = 64UL << 20;
module_param(max_ring_bytes, ulong, 0644);
MODULE_PARM_DESC(max_ring_bytes,
		 "Largest ring, descriptor and ring region, in bytes (default 64 MiB)");

/* What differs between ring types, for layout, waiting, poll and repair. */
struct lfq_type {
	u32 slot_hdr;			/* bytes before the element in a slot */
	u32 slots_off;			/* slot 0, from the ring region start */
	u32 wait_off[LFQ_NR_WAIT];	/* struct lfq_wait in the header */
	u32 nr_policies;		/* valid policies are 0..nr_policies-1 */
	u32 nr_claims;			/* claim records after the slots */
	const char *name;
	void (*init)(struct lfq_ring *ring);	/* none: zeroed memory will do */
	/* rec: the claim record of the fd polled, or -1 */
	__poll_t (*poll)(struct lfq_ring *ring, int rec);
	void (*show)(struct seq_file *m, struct lfq_ring *ring);
	/* The owner of claim record id is gone: instead of a repair. */
	void (*leave)(struct lfq_ring *ring, unsigned int id);
	/*
	 * Repair what the dead owner of claim record id held (recs[id]):
	 * 0 repaired or nothing to do, -EAGAIN not yet, -EIO corrupt.
	 */
	int (*repair)(struct lfq_ring *ring, unsigned int id);
};

static const struct lfq_type lfq_types[] = {
	[LFQ_RING_VYUKOV] = {
		.slot_hdr	= LFQ_VYUKOV_SLOT_HDR,
		.slots_off	= LFQ_VYUKOV_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_vyukov_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_vyukov_hdr, not_full),
		},
		.nr_policies	= 1,
		.name		= "vyukov",
		.init		= lfq_vyukov_init,
		.poll		= lfq_vyukov_poll,
		.show		= lfq_vyukov_show,
	},
	[LFQ_RING_TURN] = {
		.slot_hdr	= LFQ_TURN_SLOT_HDR,
		.slots_off	= LFQ_TURN_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_turn_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_turn_hdr, not_full),
		},
		.nr_policies	= 1,
		.nr_claims	= LFQ_CLAIMS,
		.name		= "turn",
		.poll		= lfq_turn_poll,
		.show		= lfq_turn_show,
		.repair		= lfq_turn_repair,
	},
	[LFQ_RING_MPSC] = {
		.slot_hdr	= LFQ_MPSC_SLOT_HDR,
		.slots_off	= LFQ_MPSC_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_mpsc_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_mpsc_hdr, not_full),
		},
		.nr_policies	= 3,
		.nr_claims	= LFQ_CLAIMS,
		.name		= "mpsc",
		.init		= lfq_mpsc_init,
		.poll		= lfq_mpsc_poll,
		.show		= lfq_mpsc_show,
		.repair		= lfq_mpsc_repair,
	},
	[LFQ_RING_SEQ] = {
		.slot_hdr	= LFQ_SEQ_SLOT_HDR,
		.slots_off	= LFQ_SEQ_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_seq_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_seq_hdr, not_full),
		},
		.nr_policies	= 2,
		.nr_claims	= LFQ_CLAIMS,
		.name		= "sequencer",
		.init		= lfq_seq_init,
		.poll		= lfq_seq_poll,
		.show		= lfq_seq_show,
		.leave		= lfq_seq_leave_rec,
	},
	[LFQ_RING_WSDEQUE] = {
		.slot_hdr	= LFQ_WSDEQUE_SLOT_HDR,
		.slots_off	= LFQ_WSDEQUE_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_wsdeque_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_wsdeque_hdr, not_full),
		},
		.nr_policies	= 1,
		.name		= "wsdeque",
		.poll		= lfq_wsdeque_poll,
		.show		= lfq_wsdeque_show,
	},
};

static const struct lfq_type *lfq_type(u32 type)
{
	if (type >= ARRAY_SIZE(lfq_types) || !lfq_types[type].name)
		return NULL;
	return &lfq_types[type];
}

/* ABI pins: the same offsets are _Static_assert()ed in user/ring.c. */
static void __maybe_unused lfq_abi_pins(void)
{
	BUILD_BUG_ON(sizeof(struct lfq_create) != 48);
	BUILD_BUG_ON(sizeof(struct lfq_info) != 96);
	BUILD_BUG_ON(offsetof(struct lfq_info, desc_off) != 32);
	BUILD_BUG_ON(offsetof(struct lfq_info, slots_off) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_info, claims_off) != 72);
	BUILD_BUG_ON(offsetof(struct lfq_info, nr_claims) != 80);
	BUILD_BUG_ON(offsetof(struct lfq_desc, skipped) != 96);
	BUILD_BUG_ON(offsetof(struct lfq_desc, unresolved) != 112);
	BUILD_BUG_ON(offsetof(struct lfq_desc, errors) != 128);
	BUILD_BUG_ON(sizeof(struct lfq_desc) != 192);
	BUILD_BUG_ON(sizeof(struct lfq_desc) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct lfq_wait) != LFQ_CACHELINE);
	BUILD_BUG_ON(offsetof(struct lfq_vyukov_hdr, tail) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_vyukov_hdr, not_empty) != 128);
	BUILD_BUG_ON(offsetof(struct lfq_vyukov_hdr, not_full) != 192);
	BUILD_BUG_ON(sizeof(struct lfq_vyukov_hdr) != LFQ_VYUKOV_SLOTS_OFF);
	BUILD_BUG_ON(offsetof(struct lfq_turn_hdr, tail) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_turn_hdr, not_empty) != 128);
	BUILD_BUG_ON(offsetof(struct lfq_turn_hdr, not_full) != 192);
	BUILD_BUG_ON(sizeof(struct lfq_turn_hdr) != LFQ_TURN_SLOTS_OFF);
	BUILD_BUG_ON(offsetof(struct lfq_mpsc_hdr, tail) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_mpsc_hdr, not_empty) != 128);
	BUILD_BUG_ON(offsetof(struct lfq_mpsc_hdr, not_full) != 192);
	BUILD_BUG_ON(offsetof(struct lfq_mpsc_hdr, dropped) != 256);
	BUILD_BUG_ON(sizeof(struct lfq_mpsc_hdr) != LFQ_MPSC_SLOTS_OFF);
	BUILD_BUG_ON(sizeof(struct lfq_mpsc_rec) != LFQ_MPSC_SLOT_HDR);
	BUILD_BUG_ON(offsetof(struct lfq_seq_hdr, head) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_seq_hdr, gate) != 72);
	BUILD_BUG_ON(offsetof(struct lfq_seq_hdr, not_empty) != 128);
	BUILD_BUG_ON(offsetof(struct lfq_seq_hdr, not_full) != 192);
	BUILD_BUG_ON(sizeof(struct lfq_seq_hdr) != LFQ_SEQ_SLOTS_OFF);
	BUILD_BUG_ON(sizeof(struct lfq_seq_barrier) != sizeof(struct lfq_claim));
	BUILD_BUG_ON(offsetof(struct lfq_seq_barrier, state) !=
		     offsetof(struct lfq_claim, state));
	BUILD_BUG_ON(offsetof(struct lfq_seq_barrier, gen) != 16);
	BUILD_BUG_ON(offsetof(struct lfq_wsdeque_hdr, bottom) != 64);
	BUILD_BUG_ON(offsetof(struct lfq_wsdeque_hdr, not_empty) != 128);
	BUILD_BUG_ON(sizeof(struct lfq_wsdeque_hdr) != LFQ_WSDEQUE_SLOTS_OFF);
	BUILD_BUG_ON(sizeof(struct lfq_claim) != LFQ_CACHELINE);
	BUILD_BUG_ON(offsetof(struct lfq_claim, slots) != 12);
	BUILD_BUG_ON(sizeof(struct lfq_wait_req) != 16);
	BUILD_BUG_ON(sizeof(atomic_t) != sizeof(u32));
}

/*
 * Check creation parameters and compute the geometry, exactly as
 * lfq_layout() in user/ring.c does with the process's page size.
 */
static int lfq_layout(const struct lfq_create *p, struct lfq_info *info)
{
	const struct lfq_type *t = lfq_type(p->type);
	u64 stride;

	if (!t || p->flags & ~LFQ_F_ALL || p->__pad || p->__resv[0] ||
	    p->__resv[1] || p->__resv[2] || p->policy >= t->nr_policies)
		return -EINVAL;
	if (p->capacity < 2 || p->capacity > LFQ_CAPACITY_MAX ||
	    !is_power_of_2(p->capacity))
		return -EINVAL;
	if (p->elem_size < 1 || p->elem_size > LFQ_ELEM_MAX)
		return -EINVAL;

	stride = LFQ_STRIDE(t->slot_hdr, p->elem_size);
	memset(info, 0, sizeof(*info));
	info->magic = LFQ_MAGIC;
	info->abi_version = LFQ_ABI_VERSION;
	info->type = p->type;
	info->flags = p->flags;
	info->capacity = p->capacity;
	info->elem_size = p->elem_size;
	info->slot_stride = (u32)stride;
	info->policy = p->policy;
	info->desc_off = LFQ_OFF_DESC;
	info->desc_size = PAGE_SIZE;
	info->ring_off = LFQ_OFF_RING;
	info->slots_off = t->slots_off;
	/* no overflow: stride <= 65600 and capacity <= 2^30 */
	info->nr_claims = t->nr_claims;
	if (t->nr_claims)
		info->claims_off = t->slots_off + stride * p->capacity;
	info->ring_size = PAGE_ALIGN(t->slots_off + stride * p->capacity +
				     (u64)t->nr_claims * sizeof(struct lfq_claim));
	if (info->desc_size + info->ring_size > max_ring_bytes)
		return -E2BIG;
	return 0;
}

static void lfq_ring_free_pages(struct lfq_ring *ring)
{
	unsigned int i;

	for (i = 0; i < ring->nr_pages; i++)
		if (ring->pages[i])
			__free_page(ring->pages[i]);
	kvfree(ring->pages);
}

static int lfq_ring_alloc_area(struct lfq_ring *ring, u64 size)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN;
	unsigned int i;

	ring->nr_pages = size >> PAGE_SHIFT;
	ring->pages = kvcalloc(ring->nr_pages, sizeof(*ring->pages),
			       GFP_KERNEL_ACCOUNT);
	if (!ring->pages)
		return -ENOMEM;
	for (i = 0; i < ring->nr_pages; i++) {
		ring->pages[i] = alloc_page(gfp);
		if (!ring->pages[i])
			goto err_free_pages;
		if (fatal_signal_pending(current))
			goto err_free_pages;
		cond_resched();
	}
	ring->area = vmap(ring->pages, ring->nr_pages, VM_MAP | VM_USERMAP,
			  PAGE_KERNEL);
	if (!ring->area)
		goto err_free_pages;
	return 0;

err_free_pages:
	lfq_ring_free_pages(ring);
	return -ENOMEM;
}

/*
 * Claim records, in the spirit of robust futex lists: a participant
 * joins (LFQ_IOC_JOIN) and gets a record in the ring region plus an fd
 * of its own. It writes the record around each claim (struct lfq_claim);
 * when that fd is released, however the participant ended, the kernel
 * reads the record and repairs a ticket left held, so that the other
 * participants go on. The record is shared memory and may be garbage:
 * the kernel copies it once, checks it, and works on the copy.
 */

/* Take a free record for a new participant: its index, or -errno. */
int lfq_ring_join(struct lfq_ring *ring)
{
	unsigned int i;
	int ret = -EBUSY;

	if (!ring->info.nr_claims)
		return -EOPNOTSUPP;
	mutex_lock(&ring->claim_lock);
	for (i = 0; i < ring->info.nr_claims; i++) {
		if (ring->recs[i].state != LFQ_REC_FREE)
			continue;
		ring->recs[i].state = LFQ_REC_LIVE;
		WRITE_ONCE(ring->claims[i].pos, 0);
		WRITE_ONCE(ring->claims[i].slots, 0);
		WRITE_ONCE(ring->claims[i].state, LFQ_CLAIM_IDLE);
		ret = i;
		break;
	}
	mutex_unlock(&ring->claim_lock);
	return ret;
}

/*
 * Repair every dead record whose slot has come round; try again later
 * for the others (a dead producer's slot may still hold the previous
 * lap's item), backing off to once a second while the ring stands
 * still, and parking after LFQ_REPAIR_TRIES passes without progress:
 * then only lfq_ring_kick_repair() (a sleeper or waker on the ring fd,
 * another participant leaving) starts it again, so that a ring left
 * alone costs no periodic work.
 */
static void lfq_repair_work(struct work_struct *work)
{
	struct lfq_ring *ring = container_of(to_delayed_work(work),
					     struct lfq_ring, repair);
	const struct lfq_type *t = lfq_type(ring->info.type);
	bool again = false, done = false;
	unsigned int i;

	mutex_lock(&ring->claim_lock);
	for (i = 0; i < ring->info.nr_claims; i++) {
		struct lfq_rec *rec = &ring->recs[i];

		if (rec->state != LFQ_REC_DEAD)
			continue;
		if (t->repair(ring, i) == -EAGAIN) {
			again = true;
		} else {
			rec->state = LFQ_REC_FREE;
			done = true;
		}
	}
	/* read locklessly by lfq_ring_touch_repair(): parked at the limit */
	if (done)
		WRITE_ONCE(ring->repair_tries, 0);
	if (again)
		WRITE_ONCE(ring->repair_tries, ring->repair_tries + 1);
	if (again && ring->repair_tries < LFQ_REPAIR_TRIES) {
		ring->repair_delay = min_t(unsigned long, ring->repair_delay * 2, HZ);
		schedule_delayed_work(&ring->repair, ring->repair_delay);
	}
	mutex_unlock(&ring->claim_lock);
}

/* Start the repair over, at once: something may have moved on the ring. */
void lfq_ring_kick_repair(struct lfq_ring *ring)
{
	lockdep_assert_held(&ring->claim_lock);
	WRITE_ONCE(ring->repair_tries, 0);
	ring->repair_delay = 1;
	mod_delayed_work(system_wq, &ring->repair, 0);
}

/* The fd that owned record rec is gone: repair what its owner held. */
void lfq_ring_leave(struct lfq_ring *ring, unsigned int rec)
{
	const struct lfq_type *t = lfq_type(ring->info.type);
	struct lfq_claim *c = &ring->claims[rec];
	struct lfq_rec *r = &ring->recs[rec];
	u32 claim;

	mutex_lock(&ring->claim_lock);
	if (t->leave) {
		t->leave(ring, rec);
		r->state = LFQ_REC_FREE;
		mutex_unlock(&ring->claim_lock);
		return;
	}
	/* the owner is gone: these words no longer change, unless scribbled */
	r->pos = READ_ONCE(c->pos);
	r->slots = READ_ONCE(c->slots);
	claim = READ_ONCE(c->state);
	switch (claim) {
	case LFQ_CLAIM_IDLE:
		r->state = LFQ_REC_FREE;
		break;
	case LFQ_CLAIM_PUSH_PENDING:
	case LFQ_CLAIM_POP_PENDING:
		lfq_ring_count(ring, &ring->desc->unresolved);
		r->state = LFQ_REC_FREE;
		break;
	case LFQ_CLAIM_PUSH:
	case LFQ_CLAIM_POP:
		r->claim = claim;
		r->state = LFQ_REC_DEAD;
		lfq_ring_kick_repair(ring);
		break;
	default:
		lfq_ring_corrupt(ring);
		r->state = LFQ_REC_FREE;
		break;
	}
	mutex_unlock(&ring->claim_lock);
}

/*
 * Wake every sleeper on wq[dir], with the direction's poll key: an epoll
 * watcher of the other direction alone is neither woken nor marked ready
 * (a consumer's own frees would otherwise wake its epoll for POLLIN).
 * Sleepers in __lfq_wait() and LFQ_IOC_WAIT ignore the key.
 */
void lfq_wake_wq(struct lfq_ring *ring, unsigned int dir)
{
	static const __poll_t key[LFQ_NR_WAIT] = {
		[LFQ_NOT_EMPTY]	= EPOLLIN | EPOLLRDNORM,
		[LFQ_NOT_FULL]	= EPOLLOUT | EPOLLWRNORM,
	};

	__wake_up(&ring->wq[dir], TASK_INTERRUPTIBLE, 0, poll_to_key(key[dir]));
}

/* A waker in NMI cannot take the wait queues' locks: it queues this. */
static void lfq_nmi_wake(struct irq_work *work)
{
	struct lfq_ring *ring = container_of(work, struct lfq_ring, nmi_wake);
	unsigned int dir;

	for (dir = 0; dir < LFQ_NR_WAIT; dir++)
		lfq_wake_wq(ring, dir);
}

/**
 * lfq_ring_create() - create a ring for kernel use
 * @params: ring type, capacity, element size, flags and policy, exactly as
 *	    userspace passes them to LFQ_IOC_CREATE
 *
 * The memory is zeroed and charged to the current task's memory cgroup.
 * /dev/lfq creates its rings with this function too.
 *
 * Context: process context; may sleep.
 * Return: a ring holding one reference, to drop with lfq_ring_put(), or
 * ERR_PTR(-EINVAL) for bad parameters, ERR_PTR(-E2BIG) if the ring would
 * exceed the max_ring_bytes module parameter, ERR_PTR(-ENOMEM).
 */
struct lfq_ring *lfq_ring_create(const struct lfq_create *params)
{
	const struct lfq_type *t;
	struct lfq_ring *ring;
	struct lfq_info info;
	unsigned int dir;
	int ret;

	ret = lfq_layout(params, &info);
	if (ret)
		return ERR_PTR(ret);
	t = lfq_type(info.type);

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return ERR_PTR(-ENOMEM);
	ring->recs = kcalloc(t->nr_claims, sizeof(*ring->recs),
			     GFP_KERNEL_ACCOUNT);
	if (t->nr_claims && !ring->recs) {
		kfree(ring);
		return ERR_PTR(-ENOMEM);
	}
	ret = lfq_ring_alloc_area(ring, info.desc_size + info.ring_size);
	if (ret) {
		kfree(ring->recs);
		kfree(ring);
		return ERR_PTR(ret);
	}
	kref_init(&ring->ref);
	ring->info = info;
	ring->desc = ring->area;
	ring->desc->info = info;
	ring->hdr = ring->area + info.desc_size;
	ring->slots = ring->hdr + info.slots_off;
	ring->mask = info.capacity - 1;
	ring->stride = info.slot_stride;
	ring->elem_size = info.elem_size;
	ring->capacity = info.capacity;
	ring->order = ilog2(info.capacity);
	ring->claims = ring->hdr + info.claims_off;
	mutex_init(&ring->claim_lock);
	INIT_DELAYED_WORK(&ring->repair, lfq_repair_work);
	init_irq_work(&ring->nmi_wake, lfq_nmi_wake);
	for (dir = 0; dir < LFQ_NR_WAIT; dir++) {
		ring->wait[dir] = ring->hdr + t->wait_off[dir];
		init_waitqueue_head(&ring->wq[dir]);
	}
	if (t->init)
		t->init(ring);
	return ring;
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_create, LFQ);

static void lfq_ring_release(struct kref *ref)
{
	struct lfq_ring *ring = container_of(ref, struct lfq_ring, ref);

	/* nobody is left to wait for a repair or a wake-up */
	cancel_delayed_work_sync(&ring->repair);
	irq_work_sync(&ring->nmi_wake);
	vunmap(ring->area);
	lfq_ring_free_pages(ring);
	kfree(ring->recs);
	kfree(ring);
}

/**
 * lfq_ring_get() - take another reference to a ring
 * @ring: a ring the caller holds a reference to
 *
 * For kernel code that hands a ring to a second user, each dropping its
 * own reference with lfq_ring_put().
 *
 * Context: any context.
 * Return: @ring.
 */
struct lfq_ring *lfq_ring_get(struct lfq_ring *ring)
{
	kref_get(&ring->ref);
	return ring;
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_get, LFQ);

/**
 * lfq_ring_put() - drop a reference to a ring
 * @ring: a ring from lfq_ring_create() or lfq_ring_get_fd()
 *
 * The ring is destroyed when its last reference goes: the last ring fd,
 * mapping or kernel user. Nothing may sleep in the ring or be about to
 * wake it when the caller drops its last reference.
 *
 * Context: process context; may sleep.
 */
void lfq_ring_put(struct lfq_ring *ring)
{
	kref_put(&ring->ref, lfq_ring_release);
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_put, LFQ);

/**
 * lfq_ring_get_fd() - take a reference to the ring behind a ring fd
 * @fd: a file descriptor of the current task, from LFQ_IOC_CREATE
 *
 * Lets kernel code attach to a ring that userspace created and maps. The
 * ring stays alive until lfq_ring_put(), even if userspace closes the fd.
 *
 * Context: process context of the task that owns @fd.
 * Return: the ring, ERR_PTR(-EBADF) if @fd is not open, ERR_PTR(-EINVAL)
 * if it is not an lfq ring fd.
 */
struct lfq_ring *lfq_ring_get_fd(int fd)
{
	struct lfq_ring *ring;
	struct fd f = fdget(fd);

	if (!f.file)
		return ERR_PTR(-EBADF);
	if (f.file->f_op != &lfq_ring_fops) {
		fdput(f);
		return ERR_PTR(-EINVAL);
	}
	ring = ((struct lfq_file *)f.file->private_data)->ring;
	kref_get(&ring->ref);
	fdput(f);
	return ring;
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_get_fd, LFQ);

/**
 * lfq_ring_info() - geometry of a ring
 * @ring: the ring
 *
 * Context: any context.
 * Return: the kernel's own copy of the ring's geometry, as LFQ_IOC_INFO
 * reports it; userspace cannot change it.
 */
const struct lfq_info *lfq_ring_info(const struct lfq_ring *ring)
{
	return &ring->info;
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_info, LFQ);

/**
 * lfq_ring_errors() - how often the kernel found the ring corrupt
 * @ring: the ring
 *
 * Context: any context.
 * Return: the error counter, also visible to userspace in the descriptor
 * (struct lfq_desc.errors) and in fdinfo.
 */
u64 lfq_ring_errors(const struct lfq_ring *ring)
{
	return atomic64_read((atomic64_t *)&ring->desc->errors);
}
EXPORT_SYMBOL_NS_GPL(lfq_ring_errors, LFQ);

/* Bump one of the descriptor's counters; userspace only reads them. */
void lfq_ring_count(struct lfq_ring *ring, u64 *counter)
{
	atomic64_inc((atomic64_t *)counter);
}

/* The ring's words hold values no correct ring can hold. */
int lfq_ring_corrupt(struct lfq_ring *ring)
{
	lfq_ring_count(ring, &ring->desc->errors);
	return -EIO;
}

__poll_t lfq_ring_poll_mask(struct lfq_ring *ring, int rec)
{
	return lfq_type(ring->info.type)->poll(ring, rec);
}

void lfq_ring_show(struct seq_file *m, struct lfq_ring *ring)
{
	const struct lfq_type *t = lfq_type(ring->info.type);

	seq_printf(m, "lfq-type:\t%s\n", t->name);
	seq_printf(m, "lfq-capacity:\t%u\n", ring->capacity);
	seq_printf(m, "lfq-elem-size:\t%u\n", ring->elem_size);
	seq_printf(m, "lfq-slot-stride:\t%u\n", ring->stride);
	t->show(m, ring);
	seq_printf(m, "lfq-waiters:\t%u %u\n",
		   READ_ONCE(ring->wait[LFQ_NOT_EMPTY]->waiters),
		   READ_ONCE(ring->wait[LFQ_NOT_FULL]->waiters));
	seq_printf(m, "lfq-errors:\t%llu\n", lfq_ring_errors(ring));
	if (t->nr_claims)
		seq_printf(m, "lfq-repaired:\t%llu skipped %llu dropped %llu unresolved\n",
			   READ_ONCE(ring->desc->skipped),
			   READ_ONCE(ring->desc->dropped),
			   READ_ONCE(ring->desc->unresolved));
}

static bool lfq_would_block(int ret)
{
	return ret == -ENOSPC || ret == -EAGAIN;
}

/* A signal, or kthread_stop() for a kernel thread, ends a wait early. */
static bool lfq_wait_interrupted(void)
{
	if (signal_pending(current))
		return true;
	return (current->flags & PF_KTHREAD) && kthread_should_stop();
}

/*
 * The blocking core: call try_op until it stops reporting full/empty
 * (-ENOSPC/-EAGAIN) or lost races (-EBUSY). Spin LFQ_SPIN_LIMIT times,
 * then announce ourselves in wait[dir].waiters (the need-wakeup flag),
 * try once more and sleep on wq[dir]. Lost races never wait for a wake-up:
 * another thread made progress, so we give up the CPU for one jiffy and
 * retry (userspace could make us lose forever). Userspace owns the
 * words: every pass is bounded, and a waker that never comes costs at
 * most the caller's timeout, never an unkillable sleep.
 */
int __lfq_wait(struct lfq_ring *ring, unsigned int dir, lfq_try_fn try_op,
	       void *arg, long timeout)
{
	struct lfq_wait *w = ring->wait[dir];
	unsigned long end = jiffies + timeout;
	unsigned int spins = 0;
	DEFINE_WAIT(wait);
	int ret;

	for (;;) {
		ret = try_op(ring, arg);
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
		if (spins < LFQ_SPIN_LIMIT) {
			spins++;
			cpu_relax();
			continue;
		}
		if (!timeout)
			return -ETIMEDOUT;
		if (lfq_wait_interrupted())
			return -EINTR;
		if (ret == -EBUSY) {
			/* naps may oversleep: count time, not naps */
			schedule_timeout_interruptible(1);
			if (timeout != MAX_SCHEDULE_TIMEOUT)
				timeout = time_after(jiffies, end) ? 0 : end - jiffies;
			continue;
		}

		atomic_inc((atomic_t *)&w->waiters);
		prepare_to_wait(&ring->wq[dir], &wait, TASK_INTERRUPTIBLE);
		/* W1: pairs with W2 in lfq_wake(), kmod/ring.c and user/ring.c */
		smp_mb();
		ret = try_op(ring, arg);
		if (lfq_would_block(ret) && !lfq_wait_interrupted())
			timeout = schedule_timeout(timeout);
		finish_wait(&ring->wq[dir], &wait);
		atomic_dec((atomic_t *)&w->waiters);
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
	}
}

/*
 * The spinning core, for consumers that would rather keep a CPU than
 * sleep: call try_op until it stops reporting full/empty or lost races,
 * relaxing the CPU between looks, or, yielding, giving it up once
 * LFQ_SPIN_LIMIT looks have failed. Every LFQ_SPIN_LIMIT looks it checks
 * the timeout and signals, and lets the scheduler in, so that a spinner
 * never locks up a CPU.
 */
int __lfq_spin(struct lfq_ring *ring, lfq_try_fn try_op, void *arg,
	       long timeout, bool yielding)
{
	unsigned long end = jiffies + timeout;
	unsigned int spins;
	int ret;

	for (spins = 1;; spins++) {
		ret = try_op(ring, arg);
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
		if (yielding && spins >= LFQ_SPIN_LIMIT)
			yield();
		else
			cpu_relax();
		if (spins % LFQ_SPIN_LIMIT)
			continue;
		if (timeout != MAX_SCHEDULE_TIMEOUT && time_after_eq(jiffies, end))
			return -ETIMEDOUT;
		if (lfq_wait_interrupted())
			return -EINTR;
		cond_resched();
	}
}

/*
 * Wake the sleepers of wait[dir]: kernel waiters, user waiters in
 * LFQ_IOC_WAIT (whose word we bump first) and in poll() on the ring fd.
 * The caller has issued W2. Safe in any context: in NMI the wait queues
 * are woken from irq_work.
 */
static void lfq_wake_sleepers(struct lfq_ring *ring, unsigned int dir)
{
	if (likely(!READ_ONCE(ring->wait[dir]->waiters)))
		return;
	/* F: pairs with the acquire load of futex in user/ring.c */
	atomic_inc((atomic_t *)&ring->wait[dir]->futex);
	if (in_nmi())
		irq_work_queue(&ring->nmi_wake);
	else
		lfq_wake_wq(ring, dir);
}

/*
 * Wake the sleepers of wait[dir] after making progress in that direction.
 * Costs one full barrier and one load when nobody sleeps.
 */
void lfq_wake(struct lfq_ring *ring, unsigned int dir)
{
	/* W2: pairs with W1 in __lfq_wait(), kmod/ring.c and user/ring.c */
	smp_mb();
	lfq_wake_sleepers(ring, dir);
}

/* lfq_wake() for both directions, with one barrier. */
void lfq_wake_all(struct lfq_ring *ring)
{
	unsigned int dir;

	/* W2: pairs with W1 in __lfq_wait(), kmod/ring.c and user/ring.c */
	smp_mb();
	for (dir = 0; dir < LFQ_NR_WAIT; dir++)
		lfq_wake_sleepers(ring, dir);
}

/*
 * lfq_wake() for a ring whose sleepers of wait[dir] all wait at one
 * position, *at: wake them only if that is pos, the position the caller
 * just made ready. Wake-ups are then self-paced: one per sleep, not one
 * per item.
 */
void lfq_wake_at(struct lfq_ring *ring, unsigned int dir, const __u64 *at,
		 u64 pos)
{
	/* W2: pairs with W1 in __lfq_wait(), kmod/ring.c and user/ring.c */
	smp_mb();
	/*
	 * The sleepers first, then where they sleep: a sleeper counts itself
	 * only after it has moved to where it sleeps, so if we count one, *at
	 * says where it sleeps, and a commit of a position the sleeper has
	 * left wakes nobody.
	 */
	if (likely(!smp_load_acquire(&ring->wait[dir]->waiters)))
		return;
	if (READ_ONCE(*at) == pos)
		lfq_wake_sleepers(ring, dir);
}
