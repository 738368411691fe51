// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of /dev/lfq and ring fds, run in the VM with lfq.ko and the
 * peer lfq_test.ko loaded: the ring fd (cloexec, info, descriptor, poll,
 * epoll, fdinfo), every bad input, user->kernel and kernel->user transfers,
 * two processes sharing a ring over a unix socket, ring lifetime, and a
 * process scribbling over one ring while another stays exact.
 *
 * "lfq_dev_test hold FILE" creates a ring, writes FILE and sleeps: the VM
 * script uses it to check that rmmod is refused while a ring fd is open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"

#define ITEM	(sizeof(struct lfq_test_item))

static int dev_open(void)
{
	return open("/dev/lfq", O_RDWR | O_CLOEXEC);
}

/* LFQ_IOC_CREATE on /dev/lfq: the ring fd, or -errno. */
static int raw_create(const struct lfq_create *c)
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

static struct lfq_create vy(unsigned int capacity, unsigned int elem_size)
{
	struct lfq_create c = {
		.type = LFQ_RING_VYUKOV,
		.capacity = capacity,
		.elem_size = elem_size,
	};
	return c;
}

#define REQUIRE_DEV() do {						\
	if (access("/dev/lfq", F_OK))					\
		SKIP(return, "/dev/lfq absent: lfq.ko not loaded");	\
} while (0)

#define REQUIRE_PEER() do {						\
	REQUIRE_DEV();							\
	if (access("/dev/lfq_test", F_OK))				\
		SKIP(return, "/dev/lfq_test absent: lfq_test.ko not loaded"); \
} while (0)

/* Start a kernel job on ring fd; returns the job fd or -errno. */
static int job_start(int ring_fd, unsigned int role, unsigned int threads,
		     unsigned int producers, unsigned long long items,
		     unsigned int burst, unsigned int timeout_ms)
{
	struct lfq_test_job j = {
		.ring_fd = ring_fd, .role = role, .threads = threads,
		.producers = producers, .items = items, .burst = burst,
		.timeout_ms = timeout_ms,
	};
	int dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0)
		return -errno;
	fd = ioctl(dev, LFQ_TEST_IOC_START, &j);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

static int job_result(int job, struct lfq_test_result *r)
{
	int ret = ioctl(job, LFQ_TEST_IOC_RESULT, r) ? -errno : 0;

	close(job);
	return ret;
}

/* ---- the ring fd ---------------------------------------------------------- */

TEST(create_returns_cloexec_ring_fd)
{
	struct lfq_create c = vy(64, ITEM);
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(info_and_descriptor_match_the_request)
{
	struct lfq_create c = vy(64, 100);
	struct lfq_info info;
	struct lfq_desc *desc;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	EXPECT_EQ(LFQ_MAGIC, info.magic);
	EXPECT_EQ(LFQ_ABI_VERSION, info.abi_version);
	EXPECT_EQ(LFQ_RING_VYUKOV, info.type);
	EXPECT_EQ(64, info.capacity);
	EXPECT_EQ(100, info.elem_size);
	EXPECT_EQ(LFQ_STRIDE(LFQ_VYUKOV_SLOT_HDR, 100), info.slot_stride);
	EXPECT_EQ(0, info.slot_stride % LFQ_CACHELINE);
	EXPECT_EQ(LFQ_OFF_DESC, info.desc_off);
	EXPECT_EQ(LFQ_OFF_RING, info.ring_off);
	EXPECT_EQ(LFQ_VYUKOV_SLOTS_OFF, info.slots_off);
	EXPECT_LE(info.slots_off + 64ULL * info.slot_stride, info.ring_size);
	EXPECT_EQ(0, info.ring_size % getpagesize());

	desc = mmap(NULL, info.desc_size, PROT_READ, MAP_SHARED, fd, info.desc_off);
	ASSERT_NE(MAP_FAILED, desc);
	EXPECT_EQ(0, memcmp(&desc->info, &info, sizeof(info)));
	EXPECT_EQ(0, desc->errors);
	munmap(desc, info.desc_size);
	close(fd);
}

TEST(poll_says_readable_and_writable)
{
	struct lfq_create c = vy(2, ITEM);
	struct lfq_ring *ring;
	struct pollfd pfd;
	char elem[ITEM] = { 0 };

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	pfd = (struct pollfd){ .fd = lfq_ring_fd(ring), .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, lfq_vyukov_try_push(ring, elem));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(0, lfq_vyukov_try_push(ring, elem));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	lfq_ring_destroy(ring);
}

/* An event loop sleeping in epoll is woken by a push from another process. */
TEST(epoll_sleeper_is_woken_across_processes)
{
	struct lfq_create c = vy(8, ITEM);
	struct epoll_event ev = { .events = EPOLLIN };
	struct lfq_ring *ring;
	char elem[ITEM] = { 0 };
	int ep, status, i;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, lfq_ring_fd(ring), &ev));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < 100; i++) {
			usleep(2000);
			if (lfq_vyukov_push(ring, elem, 5000))
				_exit(1);
		}
		_exit(0);
	}
	alarm(20);	/* a lost wake-up fails the test instead of hanging */
	for (i = 0; i < 100; i++) {
		if (lfq_ring_wait_begin(ring, POLLIN) == 0)
			ASSERT_EQ(1, epoll_wait(ep, &ev, 1, -1));
		lfq_ring_wait_end(ring, POLLIN);
		while (lfq_vyukov_try_pop(ring, elem) == -EAGAIN)
			ASSERT_EQ(1, epoll_wait(ep, &ev, 1, -1));
	}
	alarm(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	close(ep);
	lfq_ring_destroy(ring);
}

TEST(fdinfo_shows_type_capacity_and_positions)
{
	struct lfq_create c = vy(64, ITEM);
	char path[64], text[1024] = { 0 }, elem[ITEM] = { 0 };
	struct lfq_ring *ring;
	int fd, i;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, lfq_vyukov_try_push(ring, elem));
	ASSERT_EQ(0, lfq_vyukov_try_pop(ring, elem));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", lfq_ring_fd(ring));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, text, sizeof(text) - 1));
	close(fd);
	EXPECT_NE(NULL, strstr(text, "lfq-type:\tvyukov\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-capacity:\t64\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-elem-size:\t24\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-head:\t3\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-tail:\t1\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-errors:\t0\n"));
	lfq_ring_destroy(ring);
}

/* ---- bad input ------------------------------------------------------------ */

TEST(create_rejects_every_bad_parameter)
{
	static const struct {
		const char *what;
		struct lfq_create c;
		int err;
	} bad[] = {
		{ "type 0", { .type = 0, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "type 99", { .type = 99, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "unknown flag", { .type = 1, .flags = 1, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "policy 1", { .type = 1, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "pad", { .type = 1, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "resv[0]", { .type = 1, .capacity = 4, .elem_size = 8, .__resv = { 1 } }, -EINVAL },
		{ "resv[2]", { .type = 1, .capacity = 4, .elem_size = 8, .__resv = { 0, 0, 1 } }, -EINVAL },
		{ "capacity 0", { .type = 1, .capacity = 0, .elem_size = 8 }, -EINVAL },
		{ "capacity 1", { .type = 1, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 3", { .type = 1, .capacity = 3, .elem_size = 8 }, -EINVAL },
		{ "capacity 2^31", { .type = 1, .capacity = 1U << 31, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 1, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "element size max+1", { .type = 1, .capacity = 4, .elem_size = LFQ_ELEM_MAX + 1 }, -EINVAL },
		{ "over max_ring_bytes", { .type = 1, .capacity = 1U << 20, .elem_size = 4096 }, -E2BIG },
	};
	unsigned int i;

	REQUIRE_DEV();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TH_LOG("%s", bad[i].what);
		EXPECT_EQ(bad[i].err, raw_create(&bad[i].c));
	}
}

TEST(ioctls_reject_bad_commands_and_pointers)
{
	struct lfq_create c = vy(4, 8);
	int dev, fd;

	REQUIRE_DEV();
	dev = dev_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_CREATE, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_INFO, NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO(0xB8, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	fd = ioctl(dev, LFQ_IOC_CREATE, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_CREATE, &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(fd, LFQ_IOC_WAKE, LFQ_WAKE_ALL));
	close(fd);
	close(dev);
}

TEST(mmap_enforces_regions_and_permissions)
{
	struct lfq_create c = vy(64, ITEM);
	struct lfq_info info;
	size_t page = getpagesize();
	void *p;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));

	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 5 * page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_DESC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, LFQ_OFF_DESC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_DESC);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, page, PROT_READ | PROT_WRITE));
	munmap(p, page);

	p = mmap(NULL, info.ring_size + page, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, info.ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, info.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 LFQ_OFF_RING);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, info.ring_size);
	close(fd);
}

/* ---- lifetime ------------------------------------------------------------- */

TEST(mapping_outlives_the_fd)
{
	struct lfq_create c = vy(64, ITEM);
	struct lfq_vyukov_hdr *hdr;
	struct lfq_info info;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	hdr = mmap(NULL, info.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, LFQ_OFF_RING);
	ASSERT_NE(MAP_FAILED, hdr);
	close(fd);
	hdr->head = 12345;
	EXPECT_EQ(12345, hdr->head);
	munmap(hdr, info.ring_size);
}

TEST(kernel_job_outlives_every_user_fd)
{
	struct lfq_create c = vy(1024, ITEM);
	struct lfq_test_result r;
	int fd, job;

	REQUIRE_PEER();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	job = job_start(fd, LFQ_TEST_PRODUCE, 1, 0, 1000, 1, 5000);
	ASSERT_LE(0, job);
	close(fd);
	ASSERT_EQ(0, job_result(job, &r));
	EXPECT_EQ(1000, r.moved);
	EXPECT_EQ(0, r.error);
}

TEST(peer_rejects_bad_jobs)
{
	struct lfq_create c = vy(64, 8);
	int fd;

	REQUIRE_PEER();
	EXPECT_EQ(-EBADF, job_start(-1, LFQ_TEST_PRODUCE, 1, 0, 10, 1, 100));
	EXPECT_EQ(-EINVAL, job_start(0, LFQ_TEST_PRODUCE, 1, 0, 10, 1, 100));
	fd = raw_create(&c);	/* 8-byte elements cannot hold a test item */
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, job_start(fd, LFQ_TEST_PRODUCE, 1, 0, 10, 1, 100));
	EXPECT_EQ(-EINVAL, job_start(fd, 3, 1, 0, 10, 1, 100));
	EXPECT_EQ(-EINVAL, job_start(fd, LFQ_TEST_PRODUCE, 0, 0, 10, 1, 100));
	EXPECT_EQ(-EINVAL, job_start(fd, LFQ_TEST_CONSUME, 1, 0, 10, 1, 100));
	close(fd);
}

/* ---- transfers ------------------------------------------------------------ */

struct side {
	struct lfq_ring *ring;
	unsigned int id, producers;
	unsigned long long items;
	unsigned char *seen;		/* producers * items, shared */
	int bad;
};

static void *user_producer(void *arg)
{
	struct side *s = arg;
	unsigned char elem[64];
	unsigned long long seq;

	for (seq = 0; seq < s->items; seq++) {
		lfq_test_item_make(elem, sizeof(elem), s->id, seq);
		if (lfq_vyukov_push(s->ring, elem, 10000)) {
			s->bad = 1;
			break;
		}
	}
	return NULL;
}

static _Atomic unsigned long long consumed;

static void *user_consumer(void *arg)
{
	struct side *s = arg;
	const struct lfq_test_item *it;
	unsigned char elem[64];
	long long last[64];
	unsigned int i;

	for (i = 0; i < 64; i++)
		last[i] = -1;
	it = (const void *)elem;
	while (consumed < s->items * s->producers) {
		int ret = lfq_vyukov_pop(s->ring, elem, 100);

		if (ret == -ETIMEDOUT)
			continue;
		if (ret || lfq_test_item_bad(elem, sizeof(elem), s->producers) ||
		    it->seq >= s->items ||
		    (long long)it->seq <= last[it->producer] ||
		    __atomic_exchange_n(&s->seen[it->producer * s->items + it->seq],
					1, __ATOMIC_RELAXED)) {
			s->bad = 1;
			break;
		}
		last[it->producer] = it->seq;
		consumed++;
	}
	return NULL;
}

/* User producer threads -> ring fd -> kernel consumer threads. */
TEST(user_to_kernel)
{
	struct lfq_create c = vy(16, 64);
	const unsigned long long items = 20000;
	struct side s[2];
	struct lfq_test_result r;
	struct lfq_ring *ring;
	pthread_t t[2];
	int job, i;

	REQUIRE_PEER();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	job = job_start(lfq_ring_fd(ring), LFQ_TEST_CONSUME, 2, 2, items, 4, 10000);
	ASSERT_LE(0, job);
	for (i = 0; i < 2; i++) {
		s[i] = (struct side){ .ring = ring, .id = i, .items = items };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, user_producer, &s[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, s[i].bad);
	}
	ASSERT_EQ(0, job_result(job, &r));
	TH_LOG("%llu items in %llu ms", r.moved, r.nsecs / 1000000);
	EXPECT_EQ(2 * items, r.moved);
	EXPECT_EQ(0, r.malformed);
	EXPECT_EQ(0, r.duplicates);
	EXPECT_EQ(0, r.misordered);
	EXPECT_EQ(0, r.missing);
	EXPECT_EQ(0, r.ring_errors);
	EXPECT_EQ(0, r.error);
	EXPECT_TRUE(lfq_vyukov_empty(ring));
	lfq_ring_destroy(ring);
}

/* Kernel producer threads -> ring fd -> user consumer threads. */
TEST(kernel_to_user)
{
	struct lfq_create c = vy(16, 64);
	const unsigned long long items = 20000;
	struct lfq_test_result r;
	struct lfq_ring *ring;
	struct side s[2];
	unsigned char *seen;
	unsigned long long i;
	pthread_t t[2];
	int job;

	REQUIRE_PEER();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	seen = calloc(2 * items, 1);
	ASSERT_NE(NULL, seen);
	consumed = 0;
	for (i = 0; i < 2; i++) {
		s[i] = (struct side){ .ring = ring, .producers = 2,
				      .items = items, .seen = seen };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, user_consumer, &s[i]));
	}
	job = job_start(lfq_ring_fd(ring), LFQ_TEST_PRODUCE, 2, 0, items, 4, 10000);
	ASSERT_LE(0, job);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, s[i].bad);
	}
	ASSERT_EQ(0, job_result(job, &r));
	EXPECT_EQ(2 * items, r.moved);
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(2 * items, consumed);
	for (i = 0; i < 2 * items; i++)
		if (!seen[i])
			break;
	EXPECT_EQ(2 * items, i);	/* no loss */
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(ring, seen));
	free(seen);
	lfq_ring_destroy(ring);
}

static int send_fd(int sock, int fd)
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

static int recv_fd(int sock)
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
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* One process creates a ring and passes its fd; the other pops. */
TEST(two_processes_share_a_ring_over_a_unix_socket)
{
	struct lfq_create c = vy(64, ITEM);
	const unsigned long long items = 100000;
	unsigned char elem[ITEM];
	struct lfq_ring *ring;
	int sv[2], status;
	unsigned long long seq;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct lfq_test_item *it = (const void *)elem;
		struct lfq_ring *r;
		int fd = recv_fd(sv[1]);

		if (fd < 0 || lfq_ring_attach(&r, fd))
			_exit(2);
		close(fd);
		for (seq = 0; seq < items; seq++)
			if (lfq_vyukov_pop(r, elem, 10000) ||
			    lfq_test_item_bad(elem, ITEM, 1) || it->seq != seq)
				_exit(3);
		_exit(lfq_vyukov_try_pop(r, elem) == -EAGAIN ? 0 : 4);
	}
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	ASSERT_EQ(0, send_fd(sv[0], lfq_ring_fd(ring)));
	for (seq = 0; seq < items; seq++) {
		lfq_test_item_make(elem, ITEM, 0, seq);
		ASSERT_EQ(0, lfq_vyukov_push(ring, elem, 10000));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	lfq_ring_destroy(ring);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A process writes random values over one ring's header and slot
 * sequences for as long as kernel threads use it. The kernel must survive (the VM
 * console scan fails the run on any oops or warning), its jobs must end
 * by their deadline, it should notice the corruption, and a second ring
 * used by other kernel threads at the same time must stay exact.
 */
TEST(scribbled_ring_cannot_hurt_the_kernel_or_other_rings)
{
	struct lfq_create c = vy(64, ITEM);
	struct lfq_test_result r[4];
	const unsigned long long items = 20000;
	int fd[2], job[4], ready[2], status, i;
	struct lfq_info info;
	char byte;
	pid_t pid;

	REQUIRE_PEER();
	for (i = 0; i < 2; i++) {
		fd[i] = raw_create(&c);
		ASSERT_LE(0, fd[i]);
	}
	ASSERT_EQ(0, ioctl(fd[0], LFQ_IOC_INFO, &info));
	ASSERT_EQ(0, pipe(ready));

	/* The scribbler runs from before the jobs start until they all end. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *ring = mmap(NULL, info.ring_size,
					   PROT_READ | PROT_WRITE, MAP_SHARED,
					   fd[0], LFQ_OFF_RING);
		unsigned long long *w;

		if (ring == MAP_FAILED || write(ready[1], "", 1) != 1)
			_exit(1);
		srandom(getpid());
		for (;;) {
			if (random() & 1)	/* a header word */
				w = (void *)(ring + (random() % (LFQ_VYUKOV_SLOTS_OFF / 8)) * 8);
			else			/* a slot's sequence */
				w = (void *)(ring + info.slots_off +
					     (random() % info.capacity) * info.slot_stride);
			*w = random() & 3 ? *w + (random() % 5) - 2 :
				((unsigned long long)random() << 32) | random();
		}
	}
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	for (i = 0; i < 2; i++) {
		job[2 * i] = job_start(fd[i], LFQ_TEST_CONSUME, 2, 2, items, 4, 2000);
		job[2 * i + 1] = job_start(fd[i], LFQ_TEST_PRODUCE, 2, 0, items, 4, 2000);
		ASSERT_LE(0, job[2 * i]);
		ASSERT_LE(0, job[2 * i + 1]);
	}
	/* every job ends: at worst 2 s after its ring stops making progress */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, job_result(job[i], &r[i]));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));	/* it was still scribbling */

	TH_LOG("scribbled ring: %llu popped, %llu malformed, %llu dup, %llu missing, errors %llu, stop %d/%d",
	       r[0].moved, r[0].malformed, r[0].duplicates, r[0].missing,
	       r[0].ring_errors, r[0].error, r[1].error);
	/* the damage shows somewhere: an -EIO, bad items, a stall */
	EXPECT_TRUE(r[0].ring_errors || r[0].malformed || r[0].duplicates ||
		    r[0].misordered || r[0].missing || r[0].error || r[1].error);

	EXPECT_EQ(2 * items, r[2].moved);
	EXPECT_EQ(2 * items, r[3].moved);
	EXPECT_EQ(0, r[2].malformed + r[2].duplicates + r[2].misordered + r[2].missing);
	EXPECT_EQ(0, r[2].ring_errors);
	EXPECT_EQ(0, r[2].error);
	EXPECT_EQ(0, r[3].error);
	close(ready[0]);
	close(ready[1]);
	close(fd[0]);
	close(fd[1]);
}

/* "hold FILE": keep a ring fd open, say so in FILE, sleep until killed. */
static int hold(const char *file)
{
	struct lfq_create c = vy(4, 8);
	int fd = raw_create(&c), out;

	if (fd < 0)
		return 1;
	out = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 1;
	close(out);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	return test_harness_run(argc, argv);
}
