/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the /dev/lfq kselftests (lfq_dev_test.c, turn_dev_test.c,
 * mpsc_dev_test.c) share, as static functions and macros on top of
 * kselftest_harness.h: the device checks, raw ring fds and claim
 * records, the kernel peer's jobs (/dev/lfq_test) and their results,
 * stop markers, passing an fd over a unix socket, the scribblers' random
 * numbers, waits on shared words and on other processes, kill -9, and
 * the end of the holders that vm-check.sh starts. The includer defines
 * _GNU_SOURCE.
 */
#ifndef LFQ_DEV_UTIL_H
#define LFQ_DEV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
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

#endif /* LFQ_DEV_UTIL_H */
