// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * liblfq ring objects: layout, the heap/caller/memfd/dev backends, and the
 * wait/wake core. Twin of kmod/ring.c; the layout rules are the same and
 * are checked against each other in the VM tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* ABI pins: the same offsets are BUILD_BUG_ON()ed in kmod/ring.c. */
_Static_assert(sizeof(struct lfq_create) == 48, "lfq_create");
_Static_assert(sizeof(struct lfq_info) == 96, "lfq_info");
_Static_assert(offsetof(struct lfq_info, desc_off) == 32, "info.desc_off");
_Static_assert(offsetof(struct lfq_info, slots_off) == 64, "info.slots_off");
_Static_assert(offsetof(struct lfq_info, claims_off) == 72, "info.claims_off");
_Static_assert(offsetof(struct lfq_info, nr_claims) == 80, "info.nr_claims");
_Static_assert(offsetof(struct lfq_desc, skipped) == 96, "desc.skipped");
_Static_assert(offsetof(struct lfq_desc, unresolved) == 112, "desc.unresolved");
_Static_assert(offsetof(struct lfq_desc, errors) == 128, "desc.errors");
_Static_assert(sizeof(struct lfq_desc) == 192, "lfq_desc");
_Static_assert(sizeof(struct lfq_wait) == LFQ_CACHELINE, "lfq_wait");
_Static_assert(offsetof(struct lfq_vyukov_hdr, tail) == 64, "vyukov.tail");
_Static_assert(offsetof(struct lfq_vyukov_hdr, not_empty) == 128,
	       "vyukov.not_empty");
_Static_assert(offsetof(struct lfq_vyukov_hdr, not_full) == 192,
	       "vyukov.not_full");
_Static_assert(sizeof(struct lfq_vyukov_hdr) == LFQ_VYUKOV_SLOTS_OFF,
	       "vyukov slots follow the header");
_Static_assert(offsetof(struct lfq_turn_hdr, tail) == 64, "turn.tail");
_Static_assert(offsetof(struct lfq_turn_hdr, not_empty) == 128,
	       "turn.not_empty");
_Static_assert(offsetof(struct lfq_turn_hdr, not_full) == 192,
	       "turn.not_full");
_Static_assert(sizeof(struct lfq_turn_hdr) == LFQ_TURN_SLOTS_OFF,
	       "turn slots follow the header");
_Static_assert(offsetof(struct lfq_mpsc_hdr, tail) == 64, "mpsc.tail");
_Static_assert(offsetof(struct lfq_mpsc_hdr, not_empty) == 128,
	       "mpsc.not_empty");
_Static_assert(offsetof(struct lfq_mpsc_hdr, not_full) == 192,
	       "mpsc.not_full");
_Static_assert(offsetof(struct lfq_mpsc_hdr, dropped) == 256, "mpsc.dropped");
_Static_assert(sizeof(struct lfq_mpsc_hdr) == LFQ_MPSC_SLOTS_OFF,
	       "mpsc slots follow the header");
_Static_assert(sizeof(struct lfq_mpsc_rec) == LFQ_MPSC_SLOT_HDR, "mpsc rec");
_Static_assert(offsetof(struct lfq_seq_hdr, head) == 64, "seq head");
_Static_assert(offsetof(struct lfq_seq_hdr, gate) == 72, "seq gate");
_Static_assert(offsetof(struct lfq_seq_hdr, not_empty) == 128, "seq not_empty");
_Static_assert(offsetof(struct lfq_seq_hdr, not_full) == 192, "seq not_full");
_Static_assert(sizeof(struct lfq_seq_hdr) == LFQ_SEQ_SLOTS_OFF, "seq hdr");
_Static_assert(sizeof(struct lfq_seq_barrier) == sizeof(struct lfq_claim),
	       "seq barrier");
_Static_assert(offsetof(struct lfq_seq_barrier, state) ==
	       offsetof(struct lfq_claim, state), "seq barrier state");
_Static_assert(offsetof(struct lfq_seq_barrier, gen) == 16, "seq barrier gen");
_Static_assert(offsetof(struct lfq_wsdeque_hdr, bottom) == 64, "wsdeque bottom");
_Static_assert(offsetof(struct lfq_wsdeque_hdr, not_empty) == 128, "wsdeque not_empty");
_Static_assert(sizeof(struct lfq_wsdeque_hdr) == LFQ_WSDEQUE_SLOTS_OFF, "wsdeque hdr");
_Static_assert(sizeof(struct lfq_claim) == LFQ_CACHELINE, "lfq_claim");
_Static_assert(offsetof(struct lfq_claim, slots) == 12, "claim.slots");
_Static_assert(sizeof(struct lfq_wait_req) == 16, "lfq_wait_req");

/* What differs between ring types, for layout and waiting. */
struct lfq_type {
	u32 slot_hdr;			/* bytes before the element in a slot */
	u32 slots_off;			/* slot 0, from the ring region start */
	u32 wait_off[LFQ_NR_WAIT];	/* struct lfq_wait in the header */
	u32 nr_policies;		/* valid policies are 0..nr_policies-1 */
	u32 nr_claims;			/* claim records after the slots */
	void (*init)(struct lfq_ring *ring);	/* none: zeroed memory will do */
	short (*poll)(struct lfq_ring *ring);
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
		.init		= lfq_vyukov_init,
		.poll		= lfq_vyukov_poll,
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
		.poll		= lfq_turn_poll,
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
		.init		= lfq_mpsc_init,
		.poll		= lfq_mpsc_poll,
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
		.init		= lfq_seq_init,
		.poll		= lfq_seq_poll,
	},
	[LFQ_RING_WSDEQUE] = {
		.slot_hdr	= LFQ_WSDEQUE_SLOT_HDR,
		.slots_off	= LFQ_WSDEQUE_SLOTS_OFF,
		.wait_off	= {
			[LFQ_NOT_EMPTY]	= offsetof(struct lfq_wsdeque_hdr, not_empty),
			[LFQ_NOT_FULL]	= offsetof(struct lfq_wsdeque_hdr, not_full),
		},
		.nr_policies	= 1,
		.poll		= lfq_wsdeque_poll,
	},
};

static const struct lfq_type *lfq_type(u32 type)
{
	if (type >= sizeof(lfq_types) / sizeof(lfq_types[0]) ||
	    !lfq_types[type].poll)
		return NULL;
	return &lfq_types[type];
}

static u64 page_align(u64 n, u64 page)
{
	return (n + page - 1) & ~(page - 1);
}

/*
 * Check creation parameters and compute the geometry, exactly as
 * lfq_layout() in kmod/ring.c does with the kernel's PAGE_SIZE.
 */
static int lfq_layout(const struct lfq_create *p, struct lfq_info *info,
		      u64 page)
{
	const struct lfq_type *t = lfq_type(p->type);
	u64 stride;

	if (!t || p->flags & ~LFQ_F_ALL || p->__pad || p->__resv[0] ||
	    p->__resv[1] || p->__resv[2] || p->policy >= t->nr_policies)
		return -EINVAL;
	if (p->capacity < 2 || p->capacity > LFQ_CAPACITY_MAX ||
	    p->capacity & (p->capacity - 1))
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
	info->desc_size = page;
	info->slots_off = t->slots_off;
	info->nr_claims = t->nr_claims;
	if (t->nr_claims)
		info->claims_off = t->slots_off + stride * p->capacity;
	info->ring_size = page_align(t->slots_off + stride * p->capacity +
				     (u64)t->nr_claims * sizeof(struct lfq_claim),
				     page);
	return 0;
}

static u64 page_size(void)
{
	return (u64)sysconf(_SC_PAGESIZE);
}

/* Recompute the layout from what a peer says and insist that it agrees. */
static int lfq_check_info(const struct lfq_info *info, u64 page)
{
	struct lfq_create p = {
		.type = info->type, .flags = info->flags,
		.capacity = info->capacity, .elem_size = info->elem_size,
		.policy = info->policy,
	};
	struct lfq_info want;

	if (info->magic != LFQ_MAGIC || info->abi_version != LFQ_ABI_VERSION)
		return -EPROTO;
	if (lfq_layout(&p, &want, page))
		return -EPROTO;
	if (info->slot_stride != want.slot_stride ||
	    info->desc_size != want.desc_size ||
	    info->ring_size != want.ring_size ||
	    info->slots_off != want.slots_off ||
	    info->claims_off != want.claims_off ||
	    info->nr_claims != want.nr_claims)
		return -EPROTO;
	return 0;
}

/* Point the handle at a mapped descriptor and ring region. */
static struct lfq_ring *lfq_ring_alloc(const struct lfq_info *info,
				       void *ring_region, enum lfq_mem mem,
				       int fd)
{
	const struct lfq_type *t = lfq_type(info->type);
	struct lfq_ring *ring = calloc(1, sizeof(*ring));
	unsigned int dir;

	if (!ring)
		return NULL;
	ring->hdr = ring_region;
	ring->slots = (u8 *)ring_region + info->slots_off;
	ring->mask = info->capacity - 1;
	ring->stride = info->slot_stride;
	ring->elem_size = info->elem_size;
	ring->capacity = info->capacity;
	ring->order = (u32)__builtin_ctz(info->capacity);
	for (dir = 0; dir < LFQ_NR_WAIT; dir++)
		ring->wait[dir] = (struct lfq_wait *)((u8 *)ring_region +
						      t->wait_off[dir]);
	ring->mem = mem;
	ring->fd = fd;
	ring->claim_fd = -1;
	ring->futex_flags = mem == LFQ_MEM_HEAP ? FUTEX_PRIVATE_FLAG : 0;
	ring->info = *info;
	return ring;
}

/* Lay out a new ring in zeroed memory: descriptor, then ring region. */
static void lfq_ring_format(struct lfq_ring *ring, struct lfq_desc *desc)
{
	const struct lfq_type *t = lfq_type(ring->info.type);

	desc->info = ring->info;
	if (t->init)
		t->init(ring);
}

ssize_t lfq_ring_mem_size(const struct lfq_create *params)
{
	struct lfq_info info;
	int ret = lfq_layout(params, &info, page_size());

	if (ret)
		return ret;
	return (ssize_t)(info.desc_size + info.ring_size);
}

static int lfq_ring_create_heap(struct lfq_ring **ringp, struct lfq_info *info)
{
	size_t size = info->desc_size + info->ring_size;
	struct lfq_ring *ring;
	void *mem;

	if (posix_memalign(&mem, info->desc_size, size))
		return -ENOMEM;
	memset(mem, 0, size);
	info->ring_off = info->desc_size;
	ring = lfq_ring_alloc(info, (u8 *)mem + info->desc_size, LFQ_MEM_HEAP,
			      -1);
	if (!ring) {
		free(mem);
		return -ENOMEM;
	}
	ring->map = mem;
	ring->map_size = size;
	ring->free_map = true;
	lfq_ring_format(ring, mem);
	*ringp = ring;
	return 0;
}

/* Map a memfd ring: one shared mapping of descriptor + ring region. */
static int lfq_ring_map_memfd(struct lfq_ring **ringp,
			      const struct lfq_info *info, int fd)
{
	size_t size = info->desc_size + info->ring_size;
	struct lfq_ring *ring;
	void *mem;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	ring = lfq_ring_alloc(info, (u8 *)mem + info->desc_size,
			      LFQ_MEM_MEMFD, fd);
	if (!ring) {
		munmap(mem, size);
		return -ENOMEM;
	}
	ring->map = mem;
	ring->map_size = size;
	*ringp = ring;
	return 0;
}

static int lfq_ring_create_memfd(struct lfq_ring **ringp,
				 struct lfq_info *info)
{
	off_t size = (off_t)(info->desc_size + info->ring_size);
	int fd, ret;

	fd = memfd_create("lfq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* A fixed size: a peer cannot shrink it under our mapping (SIGBUS). */
	if (ftruncate(fd, size) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		ret = -errno;
		goto err_close_fd;
	}
	info->desc_off = 0;
	info->ring_off = info->desc_size;
	ret = lfq_ring_map_memfd(ringp, info, fd);
	if (ret)
		goto err_close_fd;
	lfq_ring_format(*ringp, (*ringp)->map);
	return 0;

err_close_fd:
	close(fd);
	return ret;
}

/* Map a /dev/lfq ring fd: the descriptor read-only, the ring read-write. */
static int lfq_ring_map_dev(struct lfq_ring **ringp,
			    const struct lfq_info *info, int fd)
{
	struct lfq_ring *ring;
	void *desc, *region;
	int ret;

	desc = mmap(NULL, info->desc_size, PROT_READ, MAP_SHARED, fd,
		    (off_t)info->desc_off);
	if (desc == MAP_FAILED)
		return -errno;
	region = mmap(NULL, info->ring_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, (off_t)info->ring_off);
	if (region == MAP_FAILED) {
		ret = -errno;
		goto err_unmap_desc;
	}
	ring = lfq_ring_alloc(info, region, LFQ_MEM_DEV, fd);
	if (!ring) {
		ret = -ENOMEM;
		goto err_unmap_ring;
	}
	ring->map = desc;
	ring->map_size = info->desc_size;
	ring->ring_map = region;
	*ringp = ring;
	return 0;

err_unmap_ring:
	munmap(region, info->ring_size);
err_unmap_desc:
	munmap(desc, info->desc_size);
	return ret;
}

/*
 * The descriptor of a memfd ring, checked against the file: a layout we
 * would compute ourselves, at the offsets a memfd ring has, in a file that
 * is long enough and sealed against shrinking (or a peer could truncate it
 * under our mapping: SIGBUS).
 */
static int lfq_read_memfd_info(int fd, struct lfq_info *info)
{
	struct stat st;
	int ret, seals;

	if (fstat(fd, &st))
		return -errno;
	if ((u64)st.st_size < sizeof(*info) ||
	    pread(fd, info, sizeof(*info), 0) != sizeof(*info))
		return -EPROTO;
	ret = lfq_check_info(info, page_size());
	if (ret)
		return ret;
	if (info->desc_off != 0 || info->ring_off != info->desc_size ||
	    (u64)st.st_size < info->desc_size + info->ring_size)
		return -EPROTO;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPROTO;
	return 0;
}

/* Attach to fd, which this function owns from now on. */
static int lfq_ring_attach_owned(struct lfq_ring **ringp, int fd)
{
	struct lfq_info info;
	int ret;

	if (ioctl(fd, LFQ_IOC_INFO, &info) == 0) {
		ret = lfq_check_info(&info, page_size());
		if (!ret)
			ret = lfq_ring_map_dev(ringp, &info, fd);
	} else if (errno == ENOTTY) {
		/* not a ring fd: a memfd ring, described by its first page */
		ret = lfq_read_memfd_info(fd, &info);
		if (!ret)
			ret = lfq_ring_map_memfd(ringp, &info, fd);
	} else {
		ret = -errno;
	}
	if (ret)
		close(fd);
	return ret;
}

int lfq_ring_create(struct lfq_ring **ringp, const struct lfq_create *params,
		    enum lfq_mem mem)
{
	struct lfq_info info;
	int ret, dev, fd;

	if (!ringp || !params)
		return -EINVAL;
	ret = lfq_layout(params, &info, page_size());
	if (ret)
		return ret;
	switch (mem) {
	case LFQ_MEM_HEAP:
		return lfq_ring_create_heap(ringp, &info);
	case LFQ_MEM_MEMFD:
		return lfq_ring_create_memfd(ringp, &info);
	case LFQ_MEM_DEV:
		dev = open("/dev/lfq", O_RDWR | O_CLOEXEC);
		if (dev < 0)
			return -errno;
		fd = ioctl(dev, LFQ_IOC_CREATE, params);
		ret = fd < 0 ? -errno : 0;
		close(dev);
		return ret ? ret : lfq_ring_attach_owned(ringp, fd);
	}
	return -EINVAL;
}

int lfq_ring_create_mem(struct lfq_ring **ringp,
			const struct lfq_create *params, void *mem, size_t size)
{
	struct lfq_ring *ring;
	struct lfq_info info;
	int ret;

	if (!ringp || !params || !mem || (uintptr_t)mem % LFQ_CACHELINE)
		return -EINVAL;
	ret = lfq_layout(params, &info, page_size());
	if (ret)
		return ret;
	if (size < info.desc_size + info.ring_size)
		return -ENOSPC;
	memset(mem, 0, info.desc_size + info.ring_size);
	info.ring_off = info.desc_size;
	/* caller memory may be shared: shared futexes, never private ones */
	ring = lfq_ring_alloc(&info, (u8 *)mem + info.desc_size, LFQ_MEM_HEAP,
			      -1);
	if (!ring)
		return -ENOMEM;
	ring->futex_flags = 0;
	ring->map = mem;
	lfq_ring_format(ring, mem);
	*ringp = ring;
	return 0;
}

int lfq_ring_attach(struct lfq_ring **ringp, int fd)
{
	int own;

	if (!ringp)
		return -EINVAL;
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return -errno;
	return lfq_ring_attach_owned(ringp, own);
}

int lfq_ring_fd(const struct lfq_ring *ring)
{
	return ring->fd;
}

int lfq_ring_poll_fd(const struct lfq_ring *ring)
{
	return ring->claim ? ring->claim_fd : ring->fd;
}

const struct lfq_info *lfq_ring_info(const struct lfq_ring *ring)
{
	return &ring->info;
}

uint64_t lfq_ring_errors(const struct lfq_ring *ring)
{
	const struct lfq_desc *desc = ring->map;
	u64 errors = atomic_load(&ring->errors);

	if (ring->mem == LFQ_MEM_DEV)
		errors += READ_ONCE(desc->errors);
	return errors;
}

int lfq_ring_repairs(const struct lfq_ring *ring, struct lfq_repairs *r)
{
	const struct lfq_desc *desc;

	if (!ring || !r)
		return -EINVAL;
	desc = ring->map;
	r->skipped = READ_ONCE(desc->skipped);
	r->dropped = READ_ONCE(desc->dropped);
	r->unresolved = READ_ONCE(desc->unresolved);
	return 0;
}

/*
 * A joined handle's claim fd must go with its participant: a child of
 * fork() that kept it would keep the record alive, and no repair would
 * happen while the child lives. In the child, every joined handle
 * closes its claim fd and becomes an ordinary handle. (posix_spawn()
 * and exec are covered by close-on-exec.)
 */
static pthread_mutex_t lfq_joined_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lfq_ring *lfq_joined;
static pthread_once_t lfq_atfork_once = PTHREAD_ONCE_INIT;

static void lfq_atfork_prepare(void)
{
	pthread_mutex_lock(&lfq_joined_lock);
}

static void lfq_atfork_parent(void)
{
	pthread_mutex_unlock(&lfq_joined_lock);
}

static void lfq_atfork_child(void)
{
	struct lfq_ring *ring;

	for (ring = lfq_joined; ring; ring = ring->joined_next) {
		close(ring->claim_fd);
		ring->claim_fd = -1;
		ring->claim = NULL;
	}
	lfq_joined = NULL;
	pthread_mutex_unlock(&lfq_joined_lock);
}

static void lfq_atfork_init(void)
{
	pthread_atfork(lfq_atfork_prepare, lfq_atfork_parent, lfq_atfork_child);
}

int lfq_ring_join(struct lfq_ring *ring)
{
	__u32 rec;
	int fd;

	if (!ring)
		return -EINVAL;
	if (ring->mem != LFQ_MEM_DEV || !ring->info.nr_claims)
		return -EOPNOTSUPP;
	if (ring->claim)
		return -EALREADY;
	fd = ioctl(ring->fd, LFQ_IOC_JOIN, &rec);
	if (fd < 0)
		return -errno;
	if (rec >= ring->info.nr_claims) {
		close(fd);
		return -EPROTO;
	}
	pthread_once(&lfq_atfork_once, lfq_atfork_init);
	pthread_mutex_lock(&lfq_joined_lock);
	ring->claim_fd = fd;
	ring->claim = (struct lfq_claim *)((u8 *)ring->hdr +
					   ring->info.claims_off) + rec;
	ring->joined_next = lfq_joined;
	lfq_joined = ring;
	pthread_mutex_unlock(&lfq_joined_lock);
	return 0;
}

void lfq_ring_unjoin(struct lfq_ring *ring)
{
	struct lfq_ring **p;

	pthread_mutex_lock(&lfq_joined_lock);
	for (p = &lfq_joined; *p; p = &(*p)->joined_next) {
		if (*p == ring) {
			*p = ring->joined_next;
			break;
		}
	}
	if (ring->claim_fd >= 0)
		close(ring->claim_fd);
	ring->claim_fd = -1;
	ring->claim = NULL;
	pthread_mutex_unlock(&lfq_joined_lock);
}

void lfq_ring_destroy(struct lfq_ring *ring)
{
	if (!ring)
		return;
	if (ring->claim)
		lfq_ring_unjoin(ring);
	switch (ring->mem) {
	case LFQ_MEM_HEAP:
		/* caller memory is the caller's to free */
		if (ring->free_map)
			free(ring->map);
		break;
	case LFQ_MEM_DEV:
		munmap(ring->ring_map, ring->info.ring_size);
		/* fall through */
	case LFQ_MEM_MEMFD:
		munmap(ring->map, ring->map_size);
		close(ring->fd);
		break;
	}
	free(ring);
}

#ifdef __SANITIZE_THREAD__
/*
 * ThreadSanitizer's own fence orders nothing on the machine: a Chase-Lev
 * pop through it loses items on x86. The hardware's fence, which TSan
 * does not see (it does not model fences anyway).
 */
__attribute__((noinline)) void lfq_tsan_mb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("mfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb ish" ::: "memory");
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}
#endif

/* The ring's words hold values no correct ring can hold. */
int lfq_ring_corrupt(struct lfq_ring *ring)
{
	atomic_fetch_add(&ring->errors, 1);
	return -EIO;
}

static long futex(u32 *uaddr, int op, u32 val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* A futex of this process only, for the pool's parking (user/sched.c). */
int lfq_futex_wait(u32 *word, u32 val)
{
	return futex(word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, NULL) ? -errno : 0;
}

void lfq_futex_wake(u32 *word, int n)
{
	futex(word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL);
}

/*
 * The time timeout_ms from now; without a timeout (negative) it is never
 * read, and neither is the clock, which may cost a system call (a VM's
 * clock source without a vDSO path).
 */
static void lfq_deadline(struct timespec *deadline, int timeout_ms)
{
	if (timeout_ms < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, deadline);
	if (timeout_ms > 0) {
		deadline->tv_sec += timeout_ms / 1000;
		deadline->tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (deadline->tv_nsec >= 1000000000L) {
			deadline->tv_sec++;
			deadline->tv_nsec -= 1000000000L;
		}
	}
}

/* Milliseconds left until deadline, 0 when passed; -1 without a deadline. */
static int time_left_ms(const struct timespec *deadline, int timeout_ms)
{
	struct timespec now;
	long long ns, ms;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (deadline->tv_sec - now.tv_sec) * 1000000000LL +
	     (deadline->tv_nsec - now.tv_nsec);
	/* round up: a sleep never ends before the deadline */
	ms = ns > 0 ? (ns + 999999) / 1000000 : 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Sleep until woken or timed out, while the futex word still holds seq:
 * on the futex itself, or on a /dev/lfq ring in LFQ_IOC_WAIT, its twin
 * in the module (which cannot FUTEX_WAKE a user address). 0 to try
 * again, or -ETIMEDOUT.
 */
static int lfq_sleep(struct lfq_ring *ring, unsigned int dir, u32 seq,
		     int left_ms)
{
	struct timespec ts = {
		.tv_sec = left_ms / 1000,
		.tv_nsec = (left_ms % 1000) * 1000000L,
	};
	long ret;

	if (ring->mem == LFQ_MEM_DEV) {
		struct lfq_wait_req req = {
			.dir = 1U << dir, .seq = seq, .timeout_ms = left_ms,
		};

		ret = ioctl(ring->fd, LFQ_IOC_WAIT, &req);
	} else {
		ret = futex(&ring->wait[dir]->futex,
			    FUTEX_WAIT | ring->futex_flags, seq,
			    left_ms < 0 ? NULL : &ts);
	}
	if (ret == 0 || errno == EAGAIN || errno == EINTR)
		return 0;	/* woken, value changed, or signal */
	if (errno == ETIMEDOUT)
		return -ETIMEDOUT;
	/*
	 * A sleep we cannot take (an lfq.ko without LFQ_IOC_WAIT, say) must
	 * not fail a caller that holds a ticket: yield, and let it try again
	 * until its deadline.
	 */
	sched_yield();
	return 0;
}

static bool lfq_would_block(int ret)
{
	return ret == -ENOSPC || ret == -EAGAIN;
}

/*
 * The blocking core: call try_op until it stops reporting full/empty
 * (-ENOSPC/-EAGAIN) or lost races (-EBUSY). Spin LFQ_SPIN_LIMIT times,
 * then announce ourselves in wait[dir].waiters (the need-wakeup flag),
 * try once more and sleep. Lost races never sleep: another thread made
 * progress, so we yield and retry. The timeout counts from the first
 * look that failed: a call that succeeds at once never reads the clock.
 */
int __lfq_wait(struct lfq_ring *ring, unsigned int dir, lfq_try_fn try_op,
	       void *arg, int timeout_ms)
{
	struct lfq_wait *w = ring->wait[dir];
	struct timespec deadline;
	unsigned int spins = 0;
	int ret, left, slept;
	u32 seq;

	for (;;) {
		ret = try_op(ring, arg);
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
		/* spins stops at LFQ_SPIN_LIMIT: 0 only after the first look */
		if (!spins)
			lfq_deadline(&deadline, timeout_ms);
		if (spins < LFQ_SPIN_LIMIT) {
			spins++;
			cpu_relax();
			continue;
		}
		left = time_left_ms(&deadline, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		if (ret == -EBUSY) {
			sched_yield();
			continue;
		}

		/* F: pairs with the futex increment in lfq_wake() */
		seq = smp_load_acquire(&w->futex);
		atomic_add_u32(&w->waiters, 1);
		/* W1: pairs with W2 in lfq_wake(), user/ring.c and kmod/ring.c */
		smp_mb();
		ret = try_op(ring, arg);
		slept = lfq_would_block(ret) ? lfq_sleep(ring, dir, seq, left) : 0;
		atomic_add_u32(&w->waiters, (u32)-1);
		if (slept)
			return slept;
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
	}
}

/*
 * The spinning core, for consumers that would rather keep a CPU than
 * sleep: call try_op until it stops reporting full/empty or lost races,
 * relaxing the CPU between looks, or, yielding, giving it up once
 * LFQ_SPIN_LIMIT looks have failed. Every LFQ_SPIN_LIMIT looks it checks
 * the timeout, which counts from the first look that failed.
 */
int __lfq_spin(struct lfq_ring *ring, lfq_try_fn try_op, void *arg,
	       int timeout_ms, bool yielding)
{
	struct timespec deadline;
	unsigned int spins;
	int ret;

	for (spins = 1;; spins++) {
		ret = try_op(ring, arg);
		if (!lfq_would_block(ret) && ret != -EBUSY)
			return ret;
		if (spins == 1)
			lfq_deadline(&deadline, timeout_ms);
		if (yielding && spins >= LFQ_SPIN_LIMIT)
			sched_yield();
		else
			cpu_relax();
		if (spins % LFQ_SPIN_LIMIT)
			continue;
		if (time_left_ms(&deadline, timeout_ms) == 0)
			return -ETIMEDOUT;
		/* from here on every LFQ_SPIN_LIMIT looks; never 1 again */
		spins = LFQ_SPIN_LIMIT;
	}
}

/*
 * Wake the sleepers of wait[dir]: futex, or LFQ_IOC_WAIT and poll() on
 * /dev/lfq rings. The caller has issued W2.
 */
static void lfq_wake_sleepers(struct lfq_ring *ring, unsigned int dir)
{
	struct lfq_wait *w = ring->wait[dir];

	if (likely(!READ_ONCE(w->waiters)))
		return;
	if (ring->mem == LFQ_MEM_DEV) {
		/* the module bumps futex and wakes its wait queue */
		ioctl(ring->fd, LFQ_IOC_WAKE, 1U << dir);
		return;
	}
	/* F: pairs with the acquire load of futex in __lfq_wait() */
	atomic_add_u32(&w->futex, 1);
	futex(&w->futex, FUTEX_WAKE | ring->futex_flags, INT_MAX, NULL);
}

/*
 * Wake the sleepers of wait[dir] after making progress in that direction.
 * Costs one full barrier and one load when nobody sleeps: no syscall.
 */
void lfq_wake(struct lfq_ring *ring, unsigned int dir)
{
	/* W2: pairs with W1 in __lfq_wait(), user/ring.c and kmod/ring.c */
	smp_mb();
	lfq_wake_sleepers(ring, dir);
}

/* lfq_wake() for both directions, with one barrier. */
void lfq_wake_all(struct lfq_ring *ring)
{
	unsigned int dir;

	/* W2: pairs with W1 in __lfq_wait(), user/ring.c and kmod/ring.c */
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
	/* W2: pairs with W1 in __lfq_wait(), user/ring.c and kmod/ring.c */
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

static int lfq_wait_dirs(short events)
{
	if (!events || events & ~(POLLIN | POLLOUT))
		return -EINVAL;
	return (events & POLLIN ? 1U << LFQ_NOT_EMPTY : 0) |
	       (events & POLLOUT ? 1U << LFQ_NOT_FULL : 0);
}

int lfq_ring_wait_begin(struct lfq_ring *ring, short events)
{
	int dirs = lfq_wait_dirs(events);
	unsigned int dir;

	if (dirs < 0)
		return dirs;
	for (dir = 0; dir < LFQ_NR_WAIT; dir++)
		if (dirs & (1U << dir))
			atomic_add_u32(&ring->wait[dir]->waiters, 1);
	/* W1: pairs with W2 in lfq_wake(), user/ring.c and kmod/ring.c */
	smp_mb();
	return lfq_type(ring->info.type)->poll(ring) & events;
}

void lfq_ring_wait_end(struct lfq_ring *ring, short events)
{
	int dirs = lfq_wait_dirs(events);
	unsigned int dir;

	for (dir = 0; dirs > 0 && dir < LFQ_NR_WAIT; dir++)
		if (dirs & (1U << dir))
			atomic_add_u32(&ring->wait[dir]->waiters, (u32)-1);
}
