/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the /dev/lfq kselftests (lfq_dev_test.c, turn_dev_test.c,
 * mpsc_dev_test.c, seq_dev_test.c) share, as static functions and macros
 * on top of kselftest_harness.h: the device checks, the checks of a new
 * ring's layout, raw ring fds, their mappings and claim records, the
 * kernel peer's jobs (/dev/lfq_test) and their results, stop markers,
 * passing an fd over a unix socket, waits on shared words and on other
 * processes, kill -9, the end of the holders that vm-check.sh starts,
 * and the scribblers that garble a ring. The includer defines
 * _GNU_SOURCE.
 */
#ifndef LFQ_DEV_UTIL_H
#define LFQ_DEV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"

#define ITEM		((unsigned int)sizeof(struct lfq_test_item))
/* A push or pop that waits this long has lost a wake-up. */
#define WAIT_MS		10000

#define REQUIRE_DEV() do {						\
	if (access("/dev/lfq", F_OK))					\
		SKIP(return, "/dev/lfq absent: lfq.ko not loaded");	\
} while (0)

#define REQUIRE_PEER() do {						\
	REQUIRE_DEV();							\
	if (access("/dev/lfq_test", F_OK))				\
		SKIP(return, "/dev/lfq_test absent: lfq_test.ko not loaded"); \
} while (0)

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline int dev_open(void)
{
	return open("/dev/lfq", O_RDWR | O_CLOEXEC);
}

/* LFQ_IOC_CREATE on /dev/lfq: the ring fd, or -errno. */
static inline int raw_create(const struct lfq_create *c)
{
	int dev = dev_open(), fd;

	if (dev < 0)
		return -errno;
	fd = ioctl(dev, LFQ_IOC_CREATE, c);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

/* A ring that LFQ_IOC_CREATE must refuse, and with what. */
struct bad_create {
	const char *what;
	struct lfq_create c;
	int err;
};

/* Each of bad is refused with its error; each of good is created. */
static inline void expect_creates(struct __test_metadata *_metadata,
				  const struct bad_create *bad, size_t nbad,
				  const struct lfq_create *good, size_t ngood)
{
	unsigned int i;
	int fd;

	for (i = 0; i < nbad; i++) {
		fd = raw_create(&bad[i].c);
		if (fd >= 0)
			close(fd);
		EXPECT_EQ(bad[i].err, fd)
			TH_LOG("%s", bad[i].what);
	}
	for (i = 0; i < ngood; i++) {
		fd = raw_create(&good[i]);
		EXPECT_LE(0, fd)
			TH_LOG("good ring %u: %d", i, fd);
		if (fd >= 0)
			close(fd);
	}
}

/* The LFQ_IOC_CREATE parameters of a ring. */
static inline struct lfq_create raw_params(__u32 type, __u32 policy,
					   __u32 capacity, __u32 elem_size)
{
	struct lfq_create c = {
		.type = type,
		.capacity = capacity,
		.elem_size = elem_size,
		.policy = policy,
	};

	return c;
}

/*
 * A ring of type made with each policy below npolicies keeps it, through
 * LFQ_IOC_CREATE and through liblfq; liblfq refuses policy npolicies on
 * /dev/lfq and on the heap alike.
 */
static inline void expect_policies(struct __test_metadata *_metadata,
				   __u32 type, __u32 npolicies,
				   __u32 elem_size)
{
	struct lfq_create c;
	struct lfq_ring *ring;
	struct lfq_info info;
	__u32 policy;
	int fd;

	for (policy = 0; policy < npolicies; policy++) {
		c = raw_params(type, policy, 8, elem_size);
		fd = raw_create(&c);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
		EXPECT_EQ(type, info.type);
		EXPECT_EQ(policy, info.policy);
		close(fd);
		ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
		EXPECT_EQ(policy, lfq_ring_info(ring)->policy);
		lfq_ring_destroy(ring);
	}
	c.policy = npolicies;
	EXPECT_EQ(-EINVAL, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	EXPECT_EQ(-EINVAL, lfq_ring_create(&ring, &c, LFQ_MEM_HEAP));
}

/*
 * LFQ_IOC_INFO of the ring fd made with c, into *info, as the uapi header
 * lays out a ring with claim records: c's parameters, a page of
 * descriptor, slots of stride bytes from slots_off in the ring region,
 * then LFQ_CLAIMS records of claim_size bytes, the region in whole
 * pages; the reserved fields zero.
 */
static inline void expect_info(struct __test_metadata *_metadata, int fd,
			       const struct lfq_create *c, __u64 slots_off,
			       __u64 stride, size_t claim_size,
			       struct lfq_info *info)
{
	__u64 psz = getpagesize(), claims = slots_off + c->capacity * stride;

	memset(info, 0xa5, sizeof(*info));
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, info));
	EXPECT_EQ(LFQ_MAGIC, info->magic);
	EXPECT_EQ(LFQ_ABI_VERSION, info->abi_version);
	EXPECT_EQ(c->type, info->type);
	EXPECT_EQ(0, info->flags);
	EXPECT_EQ(c->capacity, info->capacity);
	EXPECT_EQ(c->elem_size, info->elem_size);
	EXPECT_EQ(c->policy, info->policy);
	EXPECT_EQ(stride, info->slot_stride);
	EXPECT_EQ(LFQ_OFF_DESC, info->desc_off);
	EXPECT_EQ(psz, info->desc_size);
	EXPECT_EQ(LFQ_OFF_RING, info->ring_off);
	EXPECT_EQ(slots_off, info->slots_off);
	EXPECT_EQ(claims, info->claims_off);
	EXPECT_EQ(LFQ_CLAIMS, info->nr_claims);
	EXPECT_EQ((claims + LFQ_CLAIMS * claim_size + psz - 1) & ~(psz - 1),
		  info->ring_size);
	EXPECT_EQ(0, info->__pad | info->__resv[0]);
}

/*
 * liblfq lays out ring c on the heap as the module does on /dev/lfq: the
 * rings made on each, dev and heap, have the same geometry.
 */
static inline void expect_same_layout(struct __test_metadata *_metadata,
				      const struct lfq_create *c,
				      const struct lfq_ring *dev,
				      const struct lfq_ring *heap)
{
	const struct lfq_info *a = lfq_ring_info(dev), *b = lfq_ring_info(heap);

	EXPECT_EQ(a->slot_stride, b->slot_stride);
	EXPECT_EQ(a->slots_off, b->slots_off);
	EXPECT_EQ(a->claims_off, b->claims_off);
	EXPECT_EQ(a->nr_claims, b->nr_claims);
	EXPECT_EQ(a->ring_size, b->ring_size);
	EXPECT_EQ(a->desc_size, b->desc_size);
	EXPECT_EQ((ssize_t)(a->desc_size + a->ring_size),
		  lfq_ring_mem_size(c));
}

/* ---- a ring through the raw ABI ----------------------------------------- */

/*
 * A ring seen through the raw ABI, whatever its type: its fd, what
 * LFQ_IOC_INFO says, the descriptor (read-only) and the ring region. A
 * test file's struct raw holds one, and typed pointers into the region.
 */
struct lfq_raw_map {
	int fd;
	struct lfq_info info;
	const struct lfq_desc *desc;
	unsigned char *region;
};

static inline void lfq_raw_unmap(struct lfq_raw_map *m)
{
	if (m->desc)
		munmap((void *)m->desc, m->info.desc_size);
	if (m->region)
		munmap(m->region, m->info.ring_size);
	if (m->fd > 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
}

/*
 * Map the ring behind fd, which m owns from now on: 0, or -errno with
 * fd closed and nothing mapped. A negative fd is the -errno of a
 * raw_create() that failed, returned as it is.
 */
static inline int lfq_raw_map_fd(struct lfq_raw_map *m, int fd)
{
	void *p;

	memset(m, 0, sizeof(*m));
	if (fd < 0)
		return fd;
	m->fd = fd;
	if (ioctl(fd, LFQ_IOC_INFO, &m->info))
		goto fail;
	p = mmap(NULL, m->info.desc_size, PROT_READ, MAP_SHARED, fd,
		 (off_t)m->info.desc_off);
	if (p == MAP_FAILED)
		goto fail;
	m->desc = p;
	p = mmap(NULL, m->info.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, (off_t)m->info.ring_off);
	if (p == MAP_FAILED)
		goto fail;
	m->region = p;
	return 0;
fail:
	fd = -errno;
	lfq_raw_unmap(m);
	return fd;
}

/* The claim records (a sequencer's barriers), NULL if nothing is mapped. */
static inline void *lfq_raw_claims(const struct lfq_raw_map *m)
{
	return m->region ? m->region + m->info.claims_off : NULL;
}

/* The slot of position pos: its header (turn, marker, record), then more. */
static inline void *lfq_raw_slot(const struct lfq_raw_map *m, __u64 pos)
{
	return m->region + m->info.slots_off +
	       (pos & (m->info.capacity - 1)) * m->info.slot_stride;
}

/* ---- kernel jobs of the peer, lfq_test.ko ------------------------------- */

static inline struct lfq_test_job job_params(int ring_fd, unsigned int role,
					     unsigned int threads,
					     unsigned int producers,
					     unsigned long long items,
					     unsigned int burst)
{
	struct lfq_test_job j = {
		.ring_fd = ring_fd, .role = role, .threads = threads,
		.producers = producers, .items = items, .burst = burst,
		.timeout_ms = WAIT_MS, .deadline_ms = 60000,
	};

	return j;
}

/* Start a kernel job: the job fd, or -errno. */
static inline int job_start(const struct lfq_test_job *j)
{
	int dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -errno;
	fd = ioctl(dev, LFQ_TEST_IOC_START, j);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

static inline int job_run(int ring_fd, unsigned int role,
			  unsigned int threads, unsigned int producers,
			  unsigned long long items, unsigned int burst)
{
	struct lfq_test_job j = job_params(ring_fd, role, threads, producers,
					   items, burst);

	return job_start(&j);
}

/* Wait for the job's end and close it: 0 or -errno. */
static inline int job_wait(int job, struct lfq_test_result *r)
{
	int ret = ioctl(job, LFQ_TEST_IOC_RESULT, r) ? -errno : 0;

	close(job);
	return ret;
}

#define LOG_RESULT(what, r)						\
	TH_LOG("%s: moved %llu in %llu ms, error %d, malformed %llu, dup %llu, order %llu, missing %llu, ring errors %llu, EIO %llu", \
	       what, (unsigned long long)(r).moved,			\
	       (unsigned long long)(r).nsecs / 1000000, (r).error,	\
	       (unsigned long long)(r).malformed,			\
	       (unsigned long long)(r).duplicates,			\
	       (unsigned long long)(r).misordered,			\
	       (unsigned long long)(r).missing,				\
	       (unsigned long long)(r).ring_errors,			\
	       (unsigned long long)(r).io_errors)

/* A kernel job that moved total items and saw nothing wrong. */
#define EXPECT_EXACT(r, total) do {					\
	EXPECT_EQ(0, (r).error);					\
	EXPECT_EQ((unsigned long long)(total), (r).moved);		\
	EXPECT_EQ(0ULL, (r).malformed);					\
	EXPECT_EQ(0ULL, (r).duplicates);				\
	EXPECT_EQ(0ULL, (r).misordered);				\
	EXPECT_EQ(0ULL, (r).missing);					\
	EXPECT_EQ(0ULL, (r).ring_errors);				\
	EXPECT_EQ(0ULL, (r).io_errors);					\
} while (0)

/*
 * The end of the kernel jobs of a scribbler test: wait for those on the
 * garbled ring, job[0..garbled-1], which must end by deadline_ms after
 * start (plus scheduling slack under emulation), then for the others on
 * a second ring; log each result in res under its name in what (which
 * ends with NULL), and the counters of the garbled ring's descriptor.
 */
static inline void wait_garbled_jobs(struct __test_metadata *_metadata,
				     const int *job, struct lfq_test_result *res,
				     const char *const *what, int garbled,
				     const struct lfq_desc *desc,
				     long long start, int deadline_ms)
{
	long long took;
	int i;

	for (i = 0; i < garbled; i++)
		ASSERT_EQ(0, job_wait(job[i], &res[i]));
	took = now_ms() - start;
	for (; what[i]; i++)
		ASSERT_EQ(0, job_wait(job[i], &res[i]));
	for (i = 0; what[i]; i++)
		LOG_RESULT(what[i], res[i]);
	TH_LOG("the garbled ring's jobs ended after %lld ms (deadline %d ms); its descriptor: %llu errors, %llu skipped, %llu dropped, %llu unresolved",
	       took, deadline_ms, (unsigned long long)desc->errors,
	       (unsigned long long)desc->skipped,
	       (unsigned long long)desc->dropped,
	       (unsigned long long)desc->unresolved);
	EXPECT_GT(deadline_ms + 3000, took);
}

/* ---- stop markers ------------------------------------------------------- */

/* Another consumer's stop marker; each consumer exits on one. */
static inline void make_stop(void *elem, unsigned int size)
{
	struct lfq_test_item it = {
		.magic = ~LFQ_TEST_MAGIC, .producer = ~0U,
	};

	memset(elem, 0, size);
	memcpy(elem, &it, sizeof(it));
}

static inline bool is_stop(const void *elem)
{
	struct lfq_test_item it = lfq_test_item_get(elem);

	return it.magic == ~LFQ_TEST_MAGIC && it.producer == ~0U;
}

/* ---- processes ---------------------------------------------------------- */

static inline int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static inline int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The scribblers' random numbers. */
static inline unsigned long long xorshift(unsigned long long *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * The end of a holder for vm-check.sh, once it holds what it must: create
 * file, then sleep until killed. 1 if file cannot be created.
 */
static inline int hold_until_killed(const char *file)
{
	int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (out < 0)
		return 1;
	close(out);
	for (;;)
		pause();
}

static inline __u64 ld64(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline __u32 ld32(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st64(__u64 *p, __u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void st32(__u32 *p, __u32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline int raw_join(int fd, __u32 *rec)
{
	int j = ioctl(fd, LFQ_IOC_JOIN, rec);

	return j < 0 ? -errno : j;
}

static inline int participant(struct lfq_ring **h, int fd)
{
	int ret = lfq_ring_attach(h, fd);

	if (ret)
		return ret;
	ret = lfq_ring_join(*h);
	if (ret)
		lfq_ring_destroy(*h);
	return ret;
}

static inline int wait_u64(const __u64 *p, __u64 want, int ms)
{
	long long end = now_ms() + ms;

	while (ld64(p) != want) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return 0;
}

static inline int wait_u64_ge(const __u64 *p, __u64 want, int ms)
{
	long long end = now_ms() + ms;

	while ((__s64)(ld64(p) - want) < 0) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return 0;
}

static inline int wait_u32(const __u32 *p, __u32 want, int ms)
{
	long long end = now_ms() + ms;

	while (ld32(p) != want) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return 0;
}

static inline int wait_u32_nonzero(const __u32 *p, int ms)
{
	long long end = now_ms() + ms;

	while (!ld32(p)) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return 0;
}

/*
 * Wait until record rec of the ring behind fd is free again (its repair
 * is done): JOIN hands out the lowest free record, so join until it is
 * rec, closing what we get. 0, or -ETIMEDOUT.
 */
static inline int wait_record_free(int fd, __u32 rec, int ms)
{
	long long end = now_ms() + ms;
	__u32 got;
	int j;

	for (;;) {
		j = raw_join(fd, &got);
		if (j >= 0) {
			close(j);
			if (got == rec)
				return 0;
		}
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

static inline char proc_state(const char *path)
{
	char buf[512], *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static inline int wait_asleep(pid_t pid, pid_t tid, int ms)
{
	long long end = now_ms() + ms;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	while (proc_state(path) != 'S') {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(500);
	}
	return 0;
}

static inline pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline void fdinfo(int fd, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	text[0] = 0;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return;
	n = read(f, text, size - 1);
	text[n > 0 ? n : 0] = 0;
	close(f);
}

static inline int read_within(int fd, void *buf, size_t n, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long end = now_ms() + ms;
	size_t got = 0;
	ssize_t k;
	int left;

	while (got < n) {
		left = (int)(end - now_ms());
		if (left <= 0 || poll(&pfd, 1, left) == 0)
			return -ETIMEDOUT;
		k = read(fd, (char *)buf + got, n - got);
		if (k == 0)
			return -EPIPE;
		if (k < 0 && errno != EINTR)
			return -errno;
		if (k > 0)
			got += k;
	}
	return 0;
}

static inline void kill9(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/*
 * Keep only the tests whose name (or fixture.variant.name) contains one
 * of names: the 6.1 harness runs every test it has.
 */
static inline void filter_tests(int n, char **names)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t, *keep, **tail;
	struct __fixture_variant_metadata *v;
	char full[256];
	int i;
	bool hit;

	for (f = __fixture_list; f; f = f->next) {
		keep = NULL;
		tail = &keep;
		for (t = f->tests; t; t = t->next) {
			hit = false;
			for (v = f->variant; !hit && v; v = v->next) {
				snprintf(full, sizeof(full), "%s.%s.%s", f->name,
					 v->name, t->name);
				for (i = 0; i < n && !hit; i++)
					hit = strstr(full, names[i]);
			}
			snprintf(full, sizeof(full), "%s.%s", f->name, t->name);
			for (i = 0; i < n && !hit; i++)
				hit = strstr(full, names[i]);
			if (hit) {
				*tail = t;
				tail = &t->next;
			}
		}
		*tail = NULL;
		f->tests = keep;
	}
}

/* poll() of fd right now: the events of POLLIN | POLLOUT. */
static inline short poll_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&pfd, 1, 0) == 1 ? pfd.revents : 0;
}

/* An epoll instance watching fd for events: its fd, or -1. */
static inline int epoll_on(int fd, __u32 events)
{
	struct epoll_event ev = { .events = events };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

static inline int epoll_wait1(int ep, int ms)
{
	struct epoll_event ev;

	return epoll_wait(ep, &ev, 1, ms);
}

/* ---- scribblers --------------------------------------------------------- */

/*
 * Garbage in the word w of a ring of capacity slots, as kind says: 0
 * anything (the next of x), 1 and 2 a lap ahead and behind, any other
 * close to what it was (near & 7, less 3). Scribblers that know kinds of
 * their own write those first.
 */
static inline void garble_word(volatile __u64 *w, unsigned int kind,
			       unsigned long long near, unsigned long long *x,
			       __u64 capacity)
{
	switch (kind) {
	case 0:		/* anything */
		*w = xorshift(x);
		break;
	case 1:		/* a lap away */
		*w += capacity;
		break;
	case 2:
		*w -= capacity;
		break;
	default:	/* close to right */
		*w += (long long)(near & 7) - 3;
		break;
	}
}

/*
 * A ring's scribbler writes one piece of garbage over its region, as the
 * random rnd says, with x for more random numbers.
 */
typedef void garble_fn(unsigned char *region, const struct lfq_info *info,
		       unsigned long long rnd, unsigned long long *x);

/*
 * A ring's churner, a participant that joined and owns claim record rec
 * through the fd j, writes something there (garbage, or not) before it
 * dies; arg is its ring.
 */
typedef void churn_fn(void *arg, __u32 rec, int j, unsigned long long rnd,
		      unsigned long long *x);

/* Write garbage over a ring region for ms, as fast as it goes. */
static inline void scribble_for(unsigned char *region,
				const struct lfq_info *info, int ms,
				garble_fn *garble)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL ^ getpid();
	long long end = now_ms() + ms;
	unsigned int n;

	for (n = 0;; n++) {
		if (!(n & 1023) && now_ms() >= end)
			break;
		garble(region, info, xorshift(&x), &x);
		if (!(n & 4095))
			sched_yield();
	}
}

/* Participants that join the ring behind fd, churn and die, for ms. */
static inline void churn_for(int fd, int ms, churn_fn *churn, void *arg)
{
	unsigned long long x = 0x2545f4914f6cdd1dULL ^ getpid();
	long long end = now_ms() + ms;
	__u32 rec;
	int j;

	while (now_ms() < end) {
		j = raw_join(fd, &rec);
		if (j < 0) {
			usleep(200);
			continue;
		}
		churn(arg, rec, j, xorshift(&x), &x);
		close(j);
	}
}

/*
 * Garble the ring of m from two processes at once, for ms: one scribbles
 * over its region, the other makes participants join and churn (arg is
 * the ring for churn). Both must exit 0.
 */
static inline void garble_ring(struct __test_metadata *_metadata,
			       const struct lfq_raw_map *m, int ms,
			       garble_fn *garble, churn_fn *churn, void *arg)
{
	pid_t pid[2];
	int status, i;

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			alarm(20);
			if (i == 0)
				scribble_for(m->region, &m->info, ms, garble);
			else
				churn_for(m->fd, ms, churn, arg);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_EQ(0, status);
	}
}

#endif /* LFQ_DEV_UTIL_H */
