/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the /dev/lfq kselftests (lfq_dev_test.c, turn_dev_test.c) share,
 * as static functions and macros on top of kselftest_harness.h: the
 * device checks, raw ring fds, the kernel peer's jobs (/dev/lfq_test) and
 * their results, stop markers, passing an fd over a unix socket, the
 * scribblers' random numbers, and the end of the holders that vm-check.sh
 * starts.
 */
#ifndef LFQ_DEV_UTIL_H
#define LFQ_DEV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

#endif /* LFQ_DEV_UTIL_H */
