// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests of /dev/lfq, its ring fds and the kernel peer lfq_test.ko,
 * run in the VM (selftests/dev/vm-check.sh) with both modules loaded;
 * every test skips when /dev/lfq (or /dev/lfq_test) is absent.
 *
 *   ring fd     cloexec, LFQ_IOC_INFO, the descriptor and the formatted ring
 *               region, poll, epoll across processes, fdinfo
 *   bad input   every bad LFQ_IOC_CREATE field, max_ring_bytes, bad ioctls
 *               and pointers, every forbidden mmap and mprotect, and every
 *               bad job of the peer
 *   lifetime    a mapping outlives its fd, kernel jobs outlive every user
 *               fd, closing a job fd stops its threads at once
 *   transfers   user threads -> kernel threads and back, on small rings so
 *               that each side sleeps and the other wakes it across the
 *               boundary (poll() on one side, LFQ_IOC_WAKE on the other);
 *               two processes sharing a ring passed over a unix socket
 *   scribbler   a process writes garbage over one ring while kernel threads
 *               use it and another ring: the kernel survives (the VM fails
 *               the run on any oops or warning), the jobs end by their
 *               deadline, and the other ring stays exact
 *
 * Items are lfq_test_item.h items on both sides; consumers check that each
 * is well-formed, seen once (seen bitmap), in order per producer, and that
 * none is lost.
 *
 * "lfq_dev_test hold FILE", "hold-map FILE" and "hold-job FILE" keep a ring
 * fd, a ring mapping without its fd, or a peer job open, create FILE, and
 * sleep until killed: vm-check.sh uses them to check that rmmod is refused
 * meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lfq.h"
#include "lfq_test_item.h"
#include "kmod/lfq_test.h"
#include "lfq_dev_util.h"

#define MAX_RING_BYTES	"/sys/module/lfq/parameters/max_ring_bytes"

static struct lfq_create vy(unsigned int capacity, unsigned int elem_size)
{
	return raw_params(LFQ_RING_VYUKOV, 0, capacity, elem_size);
}

/* The ring region of a ring fd, shared: to watch or scribble on. */
static struct lfq_vyukov_hdr *map_ring(int fd, const struct lfq_info *info)
{
	void *p = mmap(NULL, info->ring_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, (off_t)info->ring_off);

	return p == MAP_FAILED ? NULL : p;
}

static unsigned int waiters(struct lfq_wait *w)
{
	return __atomic_load_n(&w->waiters, __ATOMIC_RELAXED);
}

/* ---- the ring fd ---------------------------------------------------------- */

TEST(create_returns_a_cloexec_ring_fd)
{
	struct lfq_create c = vy(64, ITEM);
	int fd, fd2;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	fd2 = raw_create(&c);
	ASSERT_LE(0, fd2);
	EXPECT_NE(fd, fd2);
	close(fd2);
	close(fd);
}

TEST(info_and_descriptor_describe_the_ring)
{
	struct lfq_create c = vy(64, 100);
	const unsigned char *page;
	struct lfq_desc *desc;
	struct lfq_info info;
	unsigned long long stride = LFQ_STRIDE(LFQ_VYUKOV_SLOT_HDR, 100);
	size_t psz = getpagesize(), i;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	EXPECT_EQ(LFQ_MAGIC, info.magic);
	EXPECT_EQ(LFQ_ABI_VERSION, info.abi_version);
	EXPECT_EQ(LFQ_RING_VYUKOV, info.type);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(64, info.capacity);
	EXPECT_EQ(100, info.elem_size);
	EXPECT_EQ(0, info.policy);
	EXPECT_EQ(stride, info.slot_stride);
	EXPECT_EQ(0, info.slot_stride % LFQ_CACHELINE);
	EXPECT_EQ(LFQ_OFF_DESC, info.desc_off);
	EXPECT_EQ(psz, info.desc_size);
	EXPECT_EQ(LFQ_OFF_RING, info.ring_off);
	EXPECT_EQ(LFQ_VYUKOV_SLOTS_OFF, info.slots_off);
	EXPECT_EQ((LFQ_VYUKOV_SLOTS_OFF + 64 * stride + psz - 1) & ~(psz - 1),
		  info.ring_size);
	EXPECT_EQ(0, info.claims_off);
	EXPECT_EQ(0, info.nr_claims);
	EXPECT_EQ(0, info.__pad | info.__resv[0]);

	desc = mmap(NULL, info.desc_size, PROT_READ, MAP_SHARED, fd,
		    info.desc_off);
	ASSERT_NE(MAP_FAILED, desc);
	page = (const void *)desc;
	/* magic and ABI version at offset 0, in native byte order */
	EXPECT_EQ(LFQ_MAGIC, *(const __u32 *)page);
	EXPECT_EQ(0, memcmp(page, "LFQ!", 4));
	EXPECT_EQ(LFQ_ABI_VERSION, *(const __u32 *)(page + 4));
	EXPECT_EQ(0, memcmp(&desc->info, &info, sizeof(info)));
	EXPECT_EQ(0, desc->errors);
	for (i = sizeof(info); i < psz; i++)
		if (page[i])
			break;
	EXPECT_EQ(psz, i);	/* the rest of the page is zero */
	munmap(desc, info.desc_size);
	close(fd);
}

TEST(ring_region_starts_empty_and_formatted)
{
	struct lfq_create c = vy(8, ITEM);
	struct lfq_vyukov_hdr *hdr;
	struct lfq_info info;
	unsigned int i;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	hdr = map_ring(fd, &info);
	ASSERT_NE(NULL, hdr);
	EXPECT_EQ(0, hdr->head);
	EXPECT_EQ(0, hdr->tail);
	EXPECT_EQ(0, hdr->not_empty.waiters);
	EXPECT_EQ(0, hdr->not_full.waiters);
	/* slot i is free for position i */
	for (i = 0; i < 8; i++)
		EXPECT_EQ(i, *(__u64 *)((char *)hdr + info.slots_off +
					i * info.slot_stride));
	munmap(hdr, info.ring_size);
	close(fd);
}

TEST(poll_says_readable_and_writable)
{
	struct lfq_create c = vy(2, ITEM);
	char elem[ITEM] = { 0 };
	struct lfq_ring *ring;
	struct pollfd pfd;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	pfd = (struct pollfd){ .fd = lfq_ring_fd(ring), .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	pfd.events = POLLIN;
	EXPECT_EQ(0, poll(&pfd, 1, 10));	/* empty: not readable */
	pfd.events = POLLIN | POLLOUT;
	ASSERT_EQ(0, lfq_vyukov_try_push(ring, elem));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(0, lfq_vyukov_try_push(ring, elem));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	pfd.events = POLLOUT;
	EXPECT_EQ(0, poll(&pfd, 1, 10));	/* full: not writable */
	lfq_ring_destroy(ring);
}

/* An event loop sleeping in epoll is woken by a push from another process. */
TEST(epoll_sleeper_is_woken_across_processes)
{
	struct lfq_create c = vy(8, ITEM);
	struct epoll_event ev = { .events = EPOLLIN };
	char elem[ITEM] = { 0 };
	struct lfq_ring *ring;
	int ep, status, i;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, lfq_ring_fd(ring), &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));	/* empty */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < 50; i++) {
			usleep(2000);
			if (lfq_vyukov_push(ring, elem, WAIT_MS))
				_exit(1);
		}
		_exit(0);
	}
	alarm(20);	/* a lost wake-up fails the test instead of hanging */
	for (i = 0; i < 50; i++) {
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

TEST(fdinfo_shows_type_geometry_and_positions)
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
	TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "lfq-type:\tvyukov\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-capacity:\t64\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-elem-size:\t24\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-slot-stride:\t64\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-head:\t3\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-tail:\t1\n"));
	EXPECT_NE(NULL, strstr(text, "lfq-errors:\t0\n"));
	lfq_ring_destroy(ring);
}

/* ---- bad input ------------------------------------------------------------ */

TEST(create_rejects_every_bad_parameter)
{
	static const struct bad_create bad[] = {
		{ "type 0", { .type = 0, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "type 99", { .type = 99, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "type ~0", { .type = ~0U, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "flag bit 0", { .type = 1, .flags = 1, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "flag bit 31", { .type = 1, .flags = 1U << 31, .capacity = 4, .elem_size = 8 }, -EINVAL },
		{ "policy 1", { .type = 1, .capacity = 4, .elem_size = 8, .policy = 1 }, -EINVAL },
		{ "__pad", { .type = 1, .capacity = 4, .elem_size = 8, .__pad = 1 }, -EINVAL },
		{ "__resv[0]", { .type = 1, .capacity = 4, .elem_size = 8, .__resv = { 1 } }, -EINVAL },
		{ "__resv[1]", { .type = 1, .capacity = 4, .elem_size = 8, .__resv = { 0, 1 } }, -EINVAL },
		{ "__resv[2]", { .type = 1, .capacity = 4, .elem_size = 8, .__resv = { 0, 0, 1ULL << 63 } }, -EINVAL },
		{ "capacity 0", { .type = 1, .capacity = 0, .elem_size = 8 }, -EINVAL },
		{ "capacity 1", { .type = 1, .capacity = 1, .elem_size = 8 }, -EINVAL },
		{ "capacity 3", { .type = 1, .capacity = 3, .elem_size = 8 }, -EINVAL },
		{ "capacity 96", { .type = 1, .capacity = 96, .elem_size = 8 }, -EINVAL },
		{ "capacity 2^31", { .type = 1, .capacity = 1U << 31, .elem_size = 8 }, -EINVAL },
		{ "capacity ~0", { .type = 1, .capacity = ~0U, .elem_size = 8 }, -EINVAL },
		{ "element size 0", { .type = 1, .capacity = 4, .elem_size = 0 }, -EINVAL },
		{ "element size max+1", { .type = 1, .capacity = 4, .elem_size = LFQ_ELEM_MAX + 1 }, -EINVAL },
		{ "element size ~0", { .type = 1, .capacity = 4, .elem_size = ~0U }, -EINVAL },
		{ "2^30 slots", { .type = 1, .capacity = LFQ_CAPACITY_MAX, .elem_size = 8 }, -E2BIG },
		{ "4 GiB", { .type = 1, .capacity = 1U << 20, .elem_size = 4096 }, -E2BIG },
		{ "64 MiB of slots + descriptor", { .type = 1, .capacity = 1U << 20, .elem_size = 56 }, -E2BIG },
	};
	static const struct lfq_create good[] = {
		{ .type = 1, .capacity = 2, .elem_size = 1 },
		{ .type = 1, .capacity = 4, .elem_size = LFQ_ELEM_MAX },
	};

	REQUIRE_DEV();
	expect_creates(_metadata, bad, ARRAY_SIZE(bad), good, ARRAY_SIZE(good));
}

static int read_ulong(const char *path, unsigned long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int write_ulong(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%lu\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The limit is exact: a ring of max_ring_bytes fits, a page more does not. */
TEST(create_honours_max_ring_bytes)
{
	struct lfq_create c = vy(1024, 56);	/* 64-byte slots */
	unsigned long saved, psz = getpagesize();
	unsigned long need = psz + ((LFQ_VYUKOV_SLOTS_OFF + 1024 * 64 + psz - 1) &
				    ~(psz - 1));
	int fd;

	REQUIRE_DEV();
	ASSERT_EQ(0, read_ulong(MAX_RING_BYTES, &saved));
	EXPECT_EQ(64UL << 20, saved);	/* the documented default */
	if (write_ulong(MAX_RING_BYTES, need))
		SKIP(return, "cannot write %s", MAX_RING_BYTES);
	fd = raw_create(&c);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	c.capacity = 2048;
	EXPECT_EQ(-E2BIG, raw_create(&c));
	ASSERT_EQ(0, write_ulong(MAX_RING_BYTES, need - 1));
	c.capacity = 1024;
	EXPECT_EQ(-E2BIG, raw_create(&c));
	ASSERT_EQ(0, write_ulong(MAX_RING_BYTES, saved));
	fd = raw_create(&c);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

TEST(ioctls_reject_bad_commands_and_pointers)
{
	struct lfq_create c = vy(4, 8);
	struct lfq_info info;
	int dev, fd;

	REQUIRE_DEV();
	dev = dev_open();
	ASSERT_LE(0, dev);
	/* /dev/lfq: only LFQ_IOC_CREATE */
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_CREATE, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_INFO, &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, LFQ_IOC_WAKE, LFQ_WAKE_ALL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO(LFQ_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IOW(LFQ_IOC_MAGIC, 0x01, int), &c));
	EXPECT_EQ(ENOTTY, errno);	/* CREATE with the wrong size */
	EXPECT_EQ(-1, ioctl(dev, TCGETS, &info));
	EXPECT_EQ(ENOTTY, errno);

	/* a ring fd: INFO and WAKE */
	fd = ioctl(dev, LFQ_IOC_CREATE, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_CREATE, &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(LFQ_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, TCGETS, &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, LFQ_WAKE_ALL + 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, ~0UL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, LFQ_IOC_WAKE, 1UL << 32 | LFQ_WAKE_NOT_EMPTY));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_EMPTY));
	EXPECT_EQ(0, ioctl(fd, LFQ_IOC_WAKE, LFQ_WAKE_NOT_FULL));
	EXPECT_EQ(0, ioctl(fd, LFQ_IOC_WAKE, LFQ_WAKE_ALL));
	/* read and write are not ring operations */
	EXPECT_EQ(-1, read(fd, &info, sizeof(info)));
	EXPECT_EQ(-1, write(fd, &info, sizeof(info)));
	close(fd);
	close(dev);
}

TEST(mmap_enforces_regions_and_permissions)
{
	struct lfq_create c = vy(64, ITEM);
	size_t page = getpagesize();
	struct lfq_info info;
	void *p, *q;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));

	/* offsets other than the two cookies */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_RING + page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_RING - page);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* the descriptor: one page, read-only for good */
	p = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_DESC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, LFQ_OFF_DESC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, page, PROT_WRITE, MAP_SHARED, fd, LFQ_OFF_DESC);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_DESC);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	q = mremap(p, page, 2 * page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);	/* cannot grow past the region */
	EXPECT_EQ(LFQ_MAGIC, *(volatile __u32 *)p);
	munmap(p, page);
	/* a private read-only copy is harmless, but cannot become writable */
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, LFQ_OFF_DESC);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, page, PROT_READ | PROT_WRITE));
	munmap(p, page);

	/* the ring region: shared, at most its size */
	p = mmap(NULL, info.ring_size + page, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, info.ring_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, info.ring_size, PROT_READ, MAP_PRIVATE, fd, LFQ_OFF_RING);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, info.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 LFQ_OFF_RING);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, info.ring_size, info.ring_size + page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	munmap(p, info.ring_size);
	/* a prefix of the region is fine */
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, LFQ_OFF_RING);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, page);
	close(fd);
}

/* Every bad job of the peer, each from a good one. */
TEST(peer_rejects_bad_jobs)
{
	struct lfq_create c = vy(64, ITEM), small = vy(64, ITEM - 1);
	struct lfq_test_result r;
	struct lfq_test_job j, good;
	int fd, fd8, null, dev, job;

	REQUIRE_PEER();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	fd8 = raw_create(&small);
	ASSERT_LE(0, fd8);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	good = job_params(fd, LFQ_TEST_PRODUCE, 1, 0, 10, 1);

#define BAD(err, field, value) do {					\
	j = good;							\
	j.field = value;						\
	EXPECT_EQ(err, job_start(&j))					\
		TH_LOG("%s = %s", #field, #value);			\
} while (0)
	BAD(-EINVAL, __resv[0], 1ULL << 63);
	BAD(-EINVAL, flags, 1U << 5);
	BAD(-EINVAL, flags, 1U << 31);
	/* sequencer fields and flags, on a Vyukov ring */
	BAD(-EINVAL, follows, 1);
	BAD(-EINVAL, follows, LFQ_SEQ_PRODUCER);
	BAD(-EINVAL, wait, 1);
	BAD(-EINVAL, flags, LFQ_TEST_F_STAMP);
	BAD(-EINVAL, flags, LFQ_TEST_F_STAMPED);
	BAD(-EINVAL, role, 0);
	BAD(-EINVAL, role, 3);
	BAD(-EINVAL, threads, 0);
	BAD(-EINVAL, threads, LFQ_TEST_MAX_THREADS + 1);
	BAD(-EINVAL, burst, 0);
	BAD(-EINVAL, burst, LFQ_TEST_MAX_BURST + 1);
	BAD(-EINVAL, items, 0);
	BAD(-EINVAL, items, LFQ_TEST_MAX_ITEMS + 1);
	BAD(-EINVAL, timeout_ms, 0);
	BAD(-EINVAL, timeout_ms, LFQ_TEST_MAX_MS + 1);
	BAD(-EINVAL, deadline_ms, LFQ_TEST_MAX_MS + 1);
	BAD(-EINVAL, pause_every, 1);			/* without pause_us */
	BAD(-EINVAL, pause_us, 1);			/* without pause_every */
	BAD(-EINVAL, producers, LFQ_TEST_MAX_PRODUCERS);	/* ids 64.. */
	BAD(-EINVAL, producers, ~0U);
	BAD(-EBADF, ring_fd, -1);
	BAD(-EBADF, ring_fd, 1 << 20);
	BAD(-EINVAL, ring_fd, null);			/* not a ring fd */
	BAD(-EINVAL, ring_fd, fd8);			/* items do not fit */
	good.pause_every = 1;
	BAD(-EINVAL, pause_us, LFQ_TEST_MAX_PAUSE_US + 1);
	good.pause_every = 0;
	good.threads = 2;
	BAD(-EINVAL, producers, LFQ_TEST_MAX_PRODUCERS - 1);	/* ids 63, 64 */
	good.threads = 1;
	good.role = LFQ_TEST_CONSUME;
	good.producers = 1;
	BAD(-EINVAL, producers, 0);
	BAD(-EINVAL, producers, LFQ_TEST_MAX_PRODUCERS + 1);
	BAD(-EINVAL, follows, LFQ_SEQ_PRODUCER);
	BAD(-EINVAL, wait, 2);
	good.items = LFQ_TEST_MAX_ITEMS;
	BAD(-E2BIG, producers, LFQ_TEST_MAX_PRODUCERS);
#undef BAD

	/* the limits themselves are fine; close stops such jobs at once */
	close(fd);
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	j = job_params(fd, LFQ_TEST_PRODUCE, LFQ_TEST_MAX_THREADS,
		       LFQ_TEST_MAX_PRODUCERS - LFQ_TEST_MAX_THREADS,
		       LFQ_TEST_MAX_ITEMS, LFQ_TEST_MAX_BURST);
	j.timeout_ms = j.deadline_ms = LFQ_TEST_MAX_MS;
	j.pause_every = 1;
	j.pause_us = LFQ_TEST_MAX_PAUSE_US;
	job = job_start(&j);
	EXPECT_LE(0, job);
	if (job >= 0)
		close(job);
	j = job_params(fd, LFQ_TEST_CONSUME, 1, 16, LFQ_TEST_MAX_ITEMS, 1);
	job = job_start(&j);
	EXPECT_LE(0, job);
	if (job >= 0)
		close(job);
	close(fd);
	fd = raw_create(&c);
	ASSERT_LE(0, fd);

	/* bad pointers and commands */
	dev = open("/dev/lfq_test", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-1, ioctl(dev, LFQ_TEST_IOC_START, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, LFQ_TEST_IOC_RESULT, &r));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO(LFQ_TEST_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	j = job_params(fd, LFQ_TEST_PRODUCE, 1, 0, 10, 1);
	job = ioctl(dev, LFQ_TEST_IOC_START, &j);
	ASSERT_LE(0, job);
	EXPECT_TRUE(fcntl(job, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, ioctl(job, LFQ_TEST_IOC_START, &j));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(job, _IO(LFQ_TEST_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(job, LFQ_TEST_IOC_RESULT, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, ioctl(job, LFQ_TEST_IOC_RESULT, &r));
	EXPECT_EQ(10, r.moved);
	EXPECT_EQ(0, r.error);
	close(job);
	close(dev);
	close(null);
	close(fd8);
	close(fd);
}

/* ---- lifetime ------------------------------------------------------------- */

TEST(mapping_outlives_the_fd)
{
	struct lfq_create c = vy(64, ITEM);
	struct lfq_vyukov_hdr *hdr;
	struct lfq_desc *desc;
	struct lfq_info info;
	int fd;

	REQUIRE_DEV();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, LFQ_IOC_INFO, &info));
	hdr = map_ring(fd, &info);
	ASSERT_NE(NULL, hdr);
	desc = mmap(NULL, info.desc_size, PROT_READ, MAP_SHARED, fd, LFQ_OFF_DESC);
	ASSERT_NE(MAP_FAILED, desc);
	close(fd);
	EXPECT_EQ(LFQ_MAGIC, desc->info.magic);
	hdr->head = 12345;
	EXPECT_EQ(12345, hdr->head);
	munmap(desc, info.desc_size);
	EXPECT_EQ(12345, hdr->head);
	munmap(hdr, info.ring_size);
}

/* Both jobs started on a ring, then the fd closed: both complete. */
TEST(kernel_producer_and_consumer_outlive_the_fd)
{
	struct lfq_create c = vy(16, ITEM);
	struct lfq_test_result rp, rc;
	int fd, prod, cons;

	REQUIRE_PEER();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	prod = job_run(fd, LFQ_TEST_PRODUCE, 2, 0, 5000, 2);
	ASSERT_LE(0, prod);
	cons = job_run(fd, LFQ_TEST_CONSUME, 2, 2, 5000, 3);
	ASSERT_LE(0, cons);
	close(fd);
	ASSERT_EQ(0, job_wait(prod, &rp));
	ASSERT_EQ(0, job_wait(cons, &rc));
	LOG_RESULT("producers", rp);
	LOG_RESULT("consumers", rc);
	EXPECT_EQ(0, rp.error);
	EXPECT_EQ(10000, rp.moved);
	EXPECT_EXACT(rc, 10000);
}

/* Closing a job fd stops its threads at once, even asleep in an orphan ring. */
TEST(closing_a_job_fd_stops_it)
{
	struct lfq_create c = vy(4, ITEM);
	struct lfq_test_result r;
	struct lfq_test_job j;
	struct pollfd pfd;
	long long start;
	int fd, job, flags;

	REQUIRE_PEER();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	j = job_params(fd, LFQ_TEST_CONSUME, 4, 1, 1000, 1);
	j.timeout_ms = j.deadline_ms = LFQ_TEST_MAX_MS;
	job = job_start(&j);
	ASSERT_LE(0, job);
	close(fd);
	usleep(50000);		/* the consumers sleep in the empty ring */

	/* not over: a non-blocking RESULT says so, poll says not readable */
	flags = fcntl(job, F_GETFL);
	ASSERT_EQ(0, fcntl(job, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, ioctl(job, LFQ_TEST_IOC_RESULT, &r));
	EXPECT_EQ(EAGAIN, errno);
	pfd = (struct pollfd){ .fd = job, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 10));

	start = now_ms();
	close(job);		/* kthread_stop() of 4 sleeping threads */
	TH_LOG("close took %lld ms", now_ms() - start);
	EXPECT_GT(2000, now_ms() - start);
}

/* A job fd polls readable when it ends; its result stays readable. */
TEST(job_fd_polls_readable_at_the_end)
{
	struct lfq_create c = vy(64, ITEM);
	struct lfq_test_result r, r2;
	struct pollfd pfd;
	int fd, job;

	REQUIRE_PEER();
	fd = raw_create(&c);
	ASSERT_LE(0, fd);
	job = job_run(fd, LFQ_TEST_PRODUCE, 1, 0, 32, 1);
	ASSERT_LE(0, job);
	pfd = (struct pollfd){ .fd = job, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(0, fcntl(job, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, ioctl(job, LFQ_TEST_IOC_RESULT, &r));
	ASSERT_EQ(0, ioctl(job, LFQ_TEST_IOC_RESULT, &r2));
	EXPECT_EQ(0, memcmp(&r, &r2, sizeof(r)));
	EXPECT_EQ(32, r.moved);
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(0, r.__pad | r.__resv[0] | r.checksum);
	close(job);
	close(fd);
}

/* ---- transfers across the boundary ---------------------------------------- */

/*
 * User threads on one side, kernel threads on the other, a small ring in
 * between. Every pause_every items the user side stops (a writer lock that
 * its threads take for reading around each call) until it sees the kernel
 * side asleep in the ring's need-wakeup word, then goes on: its next call
 * must wake the kernel side with LFQ_IOC_WAKE. The kernel threads pause too
 * (the job's pause_every), so the user threads run into a full or empty
 * ring and sleep in poll() until the kernel side wakes them. A lost wake-up
 * either way stalls a side for WAIT_MS, which fails the test.
 */
FIXTURE(transfer) {
	struct lfq_ring *ring;
	struct lfq_vyukov_hdr *hdr;	/* our own view, to watch the waiters */
	size_t ring_size;
};

FIXTURE_VARIANT(transfer) {
	unsigned int capacity, elem_size, burst;
	unsigned int user_threads, kernel_threads;
	unsigned long long items;	/* per producer */
	unsigned int pause_every;	/* items per user producer or consumer */
};

FIXTURE_VARIANT_ADD(transfer, cap2_1x1) {
	.capacity = 2, .elem_size = ITEM, .burst = 1,
	.user_threads = 1, .kernel_threads = 1,
	.items = 3000, .pause_every = 600,
};

FIXTURE_VARIANT_ADD(transfer, cap16_2x2_burst4) {
	.capacity = 16, .elem_size = 64, .burst = 4,
	.user_threads = 2, .kernel_threads = 2,
	.items = 15000, .pause_every = 3000,
};

FIXTURE_VARIANT_ADD(transfer, cap64_4x3_burst8_1000b) {
	.capacity = 64, .elem_size = 1000, .burst = 8,
	.user_threads = 4, .kernel_threads = 3,
	.items = 2000, .pause_every = 500,
};

FIXTURE_SETUP(transfer)
{
	/* the ring is made by the tests, after they checked for the device */
}

FIXTURE_TEARDOWN(transfer)
{
	if (self->hdr)
		munmap(self->hdr, self->ring_size);
	if (self->ring)
		lfq_ring_destroy(self->ring);
}

static void transfer_ring(struct __test_metadata *_metadata,
			  FIXTURE_DATA(transfer) *self,
			  const FIXTURE_VARIANT(transfer) *variant)
{
	struct lfq_create c = vy(variant->capacity, variant->elem_size);
	const struct lfq_info *info;

	ASSERT_EQ(0, lfq_ring_create(&self->ring, &c, LFQ_MEM_DEV));
	info = lfq_ring_info(self->ring);
	self->ring_size = info->ring_size;
	self->hdr = map_ring(lfq_ring_fd(self->ring), info);
	ASSERT_NE(NULL, self->hdr);
}

struct side {
	struct lfq_ring *ring;
	struct lfq_wait *kernel_wait;	/* where the kernel side sleeps */
	pthread_rwlock_t gate;		/* the pauser takes it for writing */
	unsigned int threads, producers, burst, elem_size, pause_every;
	unsigned long long items;	/* per producer */
	unsigned char *seen;		/* consumers: producers * items */
	unsigned long long consumed;
	unsigned long long next_pause;	/* consumers: pause at this count */
	unsigned int capacity;
	unsigned int kernel_slept;	/* pauses that saw the kernel asleep */
	bool kernel_done;		/* the kernel job has ended */
	int error;			/* first failure */
	char why[160];
};

struct side_thread {
	struct side *s;
	unsigned int index;
	pthread_t tid;
};

static void side_fail(struct side *s, int err, const char *fmt, ...)
{
	va_list ap;
	int zero = 0;

	if (!__atomic_compare_exchange_n(&s->error, &zero, err, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* Stop the other user threads, and wait to see the kernel side asleep. */
static void side_pause(struct side *s)
{
	long long end;

	pthread_rwlock_wrlock(&s->gate);
	for (end = now_ms() + 2000; now_ms() < end; usleep(100)) {
		if (__atomic_load_n(&s->kernel_done, __ATOMIC_RELAXED))
			break;
		if (waiters(s->kernel_wait)) {
			s->kernel_slept++;
			break;
		}
	}
	pthread_rwlock_unlock(&s->gate);
}

static void *user_producer(void *arg)
{
	struct side_thread *t = arg;
	struct side *s = t->s;
	unsigned char *buf = calloc(s->burst, s->elem_size);
	unsigned long long seq = 0, since = 0;
	unsigned int i, n;
	int ret;

	if (!buf) {
		side_fail(s, -ENOMEM, "producer %u: no memory", t->index);
		return NULL;
	}
	while (seq < s->items && !__atomic_load_n(&s->error, __ATOMIC_RELAXED)) {
		n = s->items - seq < s->burst ? s->items - seq : s->burst;
		for (i = 0; i < n; i++)
			lfq_test_item_make(buf + i * s->elem_size, s->elem_size,
					   t->index, seq + i);
		pthread_rwlock_rdlock(&s->gate);
		ret = lfq_vyukov_push_burst(s->ring, buf, n, WAIT_MS);
		pthread_rwlock_unlock(&s->gate);
		if (ret <= 0) {
			side_fail(s, ret, "producer %u: push of seq %llu: %s",
				  t->index, seq, strerror(-ret));
			break;
		}
		seq += ret;
		since += ret;
		/* not after the last: the kernel side may be done by then */
		if (t->index == 0 && s->pause_every && since >= s->pause_every &&
		    seq < s->items) {
			since = 0;
			side_pause(s);
		}
	}
	free(buf);
	return NULL;
}

/*
 * Whichever consumer first sees the shared count pass the next mark
 * pauses, so pauses happen however the items are spread over the
 * threads; and only while the kernel producers still have more than a
 * ring's worth to push, so that they must fill the ring and sleep.
 */
static bool consumer_should_pause(struct side *s)
{
	unsigned long long total = s->items * s->producers;
	unsigned long long c = __atomic_load_n(&s->consumed, __ATOMIC_RELAXED);
	unsigned long long mark = __atomic_load_n(&s->next_pause, __ATOMIC_RELAXED);

	if (!s->pause_every || c < mark || c + s->capacity >= total)
		return false;
	return __atomic_compare_exchange_n(&s->next_pause, &mark,
					   c + s->pause_every, false,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void *user_consumer(void *arg)
{
	struct side_thread *t = arg;
	struct side *s = t->s;
	unsigned char *buf = calloc(s->burst, s->elem_size);
	long long last[LFQ_TEST_MAX_PRODUCERS];
	const struct lfq_test_item *it;
	int ret, i;

	if (!buf) {
		side_fail(s, -ENOMEM, "consumer %u: no memory", t->index);
		return NULL;
	}
	for (i = 0; i < LFQ_TEST_MAX_PRODUCERS; i++)
		last[i] = -1;
	for (;;) {
		pthread_rwlock_rdlock(&s->gate);
		ret = lfq_vyukov_pop_burst(s->ring, buf, s->burst, WAIT_MS);
		pthread_rwlock_unlock(&s->gate);
		if (ret <= 0) {
			side_fail(s, ret, "consumer %u: pop: %s", t->index,
				  strerror(-ret));
			break;
		}
		for (i = 0; i < ret; i++) {
			it = (const void *)(buf + i * s->elem_size);
			if (is_stop(it)) {
				/*
				 * Only markers follow (they come last); hand
				 * the others' back to the ring.
				 */
				while (++i < ret)
					if (lfq_vyukov_push(s->ring, it, WAIT_MS))
						side_fail(s, -EIO, "consumer %u: cannot hand a stop marker back",
							  t->index);
				goto out;
			}
			if (lfq_test_item_bad(it, s->elem_size, s->producers) ||
			    it->seq >= s->items) {
				side_fail(s, -EBADMSG, "consumer %u: malformed item",
					  t->index);
				goto out;
			}
			if ((long long)it->seq <= last[it->producer]) {
				side_fail(s, -EBADMSG, "consumer %u: producer %u seq %llu after %lld",
					  t->index, it->producer,
					  (unsigned long long)it->seq,
					  last[it->producer]);
				goto out;
			}
			last[it->producer] = it->seq;
			if (__atomic_exchange_n(&s->seen[it->producer * s->items + it->seq],
						1, __ATOMIC_RELAXED)) {
				side_fail(s, -EBADMSG, "consumer %u: producer %u seq %llu twice",
					  t->index, it->producer,
					  (unsigned long long)it->seq);
				goto out;
			}
			__atomic_add_fetch(&s->consumed, 1, __ATOMIC_RELAXED);
		}
		if (consumer_should_pause(s))
			side_pause(s);
	}
out:
	free(buf);
	return NULL;
}

static void side_init(struct side *s, struct lfq_ring *ring,
		      struct lfq_wait *kernel_wait,
		      const FIXTURE_VARIANT(transfer) *variant)
{
	pthread_rwlockattr_t attr;

	memset(s, 0, sizeof(*s));
	s->ring = ring;
	s->kernel_wait = kernel_wait;
	s->threads = variant->user_threads;
	s->burst = variant->burst;
	s->elem_size = variant->elem_size;
	s->items = variant->items;
	s->pause_every = variant->pause_every;
	s->next_pause = variant->pause_every;
	s->capacity = variant->capacity;
	/* the pauser must get the gate even while the others keep going */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->gate, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* User producer threads -> ring fd -> kernel consumer threads. */
TEST_F_TIMEOUT(transfer, user_to_kernel, 60)
{
	unsigned long long total = variant->items * variant->user_threads;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	struct lfq_test_result r;
	struct lfq_test_job j;
	struct side s;
	long long start;
	unsigned int i;
	int job;

	REQUIRE_PEER();
	transfer_ring(_metadata, self, variant);
	side_init(&s, self->ring, &self->hdr->not_empty, variant);
	j = job_params(lfq_ring_fd(self->ring), LFQ_TEST_CONSUME,
		       variant->kernel_threads, variant->user_threads,
		       variant->items, variant->burst);
	/* the kernel consumers dawdle now and then: the ring fills up */
	j.pause_every = variant->pause_every / 2;
	j.pause_us = 2000;
	alarm(50);
	start = now_ms();
	job = job_start(&j);
	ASSERT_LE(0, job);
	for (i = 0; i < s.threads; i++) {
		t[i] = (struct side_thread){ .s = &s, .index = i };
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, user_producer, &t[i]));
	}
	for (i = 0; i < s.threads; i++)
		pthread_join(t[i].tid, NULL);
	ASSERT_EQ(0, job_wait(job, &r));
	alarm(0);
	LOG_RESULT("kernel consumers", r);
	TH_LOG("%llu items in %lld ms; the kernel slept in %u of the user's pauses",
	       total, now_ms() - start, s.kernel_slept);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EXACT(r, total);
	EXPECT_LT(0, s.kernel_slept);
	EXPECT_TRUE(lfq_vyukov_empty(self->ring));
	EXPECT_EQ(0, lfq_ring_errors(self->ring));
}

/* Kernel producer threads -> ring fd -> user consumer threads. */
TEST_F_TIMEOUT(transfer, kernel_to_user, 60)
{
	unsigned long long total = variant->items * variant->kernel_threads, n;
	struct side_thread t[LFQ_TEST_MAX_THREADS];
	struct lfq_test_result r;
	struct lfq_test_job j;
	unsigned char *stop;
	struct side s;
	long long start;
	unsigned int i;
	int job;

	REQUIRE_PEER();
	transfer_ring(_metadata, self, variant);
	side_init(&s, self->ring, &self->hdr->not_full, variant);
	s.producers = variant->kernel_threads;
	s.seen = calloc(total, 1);
	stop = calloc(1, variant->elem_size);
	ASSERT_NE(NULL, s.seen);
	ASSERT_NE(NULL, stop);
	j = job_params(lfq_ring_fd(self->ring), LFQ_TEST_PRODUCE,
		       variant->kernel_threads, 0, variant->items,
		       variant->burst);
	/* the kernel producers dawdle now and then: the ring runs dry */
	j.pause_every = variant->pause_every / 2;
	j.pause_us = 2000;
	alarm(50);
	start = now_ms();
	for (i = 0; i < s.threads; i++) {
		t[i] = (struct side_thread){ .s = &s, .index = i };
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, user_consumer, &t[i]));
	}
	job = job_start(&j);
	ASSERT_LE(0, job);
	ASSERT_EQ(0, job_wait(job, &r));
	__atomic_store_n(&s.kernel_done, true, __ATOMIC_RELAXED);
	/* everything is in: one stop marker per consumer, after the items */
	make_stop(stop, variant->elem_size);
	for (i = 0; i < s.threads; i++)
		EXPECT_EQ(0, lfq_vyukov_push(self->ring, stop, WAIT_MS));
	for (i = 0; i < s.threads; i++)
		pthread_join(t[i].tid, NULL);
	alarm(0);
	LOG_RESULT("kernel producers", r);
	TH_LOG("%llu items in %lld ms; the kernel slept in %u of the user's pauses",
	       total, now_ms() - start, s.kernel_slept);
	EXPECT_EQ(0, s.error)
		TH_LOG("%s", s.why);
	EXPECT_EQ(0, r.error);
	EXPECT_EQ(total, r.moved);
	EXPECT_EQ(total, s.consumed);
	for (n = 0; n < total && s.seen[n]; n++)
		;
	EXPECT_EQ(total, n);	/* no loss */
	EXPECT_LT(0, s.kernel_slept);
	EXPECT_EQ(-EAGAIN, lfq_vyukov_try_pop(self->ring, stop));
	EXPECT_EQ(0, lfq_ring_errors(self->ring));
	free(stop);
	free(s.seen);
}

/*
 * A process creates a ring and passes its fd over a unix socket, then
 * closes its own: the receiver pops and checks everything the first one
 * pushes, and the ring lives on in the receiver's fd.
 */
TEST(two_processes_share_a_ring_over_a_unix_socket)
{
	struct lfq_create c = vy(32, ITEM);
	const unsigned long long items = 30000;
	unsigned char elem[ITEM];
	struct lfq_ring *ring;
	unsigned long long seq;
	int sv[2], status, fd;
	pid_t pid;

	REQUIRE_DEV();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct lfq_test_item *it = (const void *)elem;
		const struct lfq_info *info;
		struct lfq_ring *r;

		close(sv[0]);
		alarm(50);
		fd = recv_fd(sv[1]);
		if (fd < 0 || !(fcntl(fd, F_GETFD) & FD_CLOEXEC) ||
		    lfq_ring_attach(&r, fd))
			_exit(2);
		close(fd);	/* attach took its own */
		info = lfq_ring_info(r);
		if (info->capacity != 32 || info->elem_size != ITEM)
			_exit(3);
		for (seq = 0; seq < items; seq++)
			if (lfq_vyukov_pop(r, elem, WAIT_MS) ||
			    lfq_test_item_bad(elem, ITEM, 1) || it->seq != seq)
				_exit(4);
		if (lfq_vyukov_try_pop(r, elem) != -EAGAIN ||
		    lfq_ring_errors(r))
			_exit(5);
		lfq_ring_destroy(r);
		_exit(0);
	}
	close(sv[1]);
	alarm(50);
	ASSERT_EQ(0, lfq_ring_create(&ring, &c, LFQ_MEM_DEV));
	ASSERT_EQ(0, send_fd(sv[0], lfq_ring_fd(ring)));
	for (seq = 0; seq < items; seq++) {
		lfq_test_item_make(elem, ITEM, 0, seq);
		ASSERT_EQ(0, lfq_vyukov_push(ring, elem, WAIT_MS));
	}
	lfq_ring_destroy(ring);	/* the receiver's fd keeps the ring */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	alarm(0);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
}

/* ---- a ring scribbled on -------------------------------------------------- */

/*
 * A piece of garbage over a Vyukov ring (scribble_for()): a header word
 * or a slot's sequence.
 */
static void vy_garble(unsigned char *ring, const struct lfq_info *info,
		      unsigned long long r, unsigned long long *x)
{
	volatile __u64 *w;

	if (r & 1)	/* a header word: positions and wait words */
		w = (void *)(ring + (r >> 8) % (LFQ_VYUKOV_SLOTS_OFF / 8) * 8);
	else		/* a slot's sequence */
		w = (void *)(ring + info->slots_off +
			     (r >> 8) % info->capacity * info->slot_stride);
	garble_word(w, (r >> 1) & 7, r >> 4, x, info->capacity);
}

/*
 * A process writes garbage over one ring's header and slot sequences while
 * kernel producers and consumers use it, and other kernel threads use a
 * second ring. The kernel must survive (the VM fails the run on any oops
 * or warning), the jobs on the garbled ring must end by their deadline and
 * notice the corruption, and the second ring must stay exact.
 */
TEST_F_TIMEOUT(transfer, scribbled_ring_cannot_hurt_the_kernel_or_other_rings, 60)
{
	const int scribble_ms = 1500, deadline_ms = scribble_ms + 1500;
	const unsigned long long items = 20000;
	static const char *const what[] = {
		"garbled ring, consumers", "garbled ring, producers",
		"other ring, consumers", "other ring, producers", NULL,
	};
	struct lfq_create c = vy(variant->capacity, variant->elem_size);
	struct lfq_test_result r[4];
	struct lfq_desc *desc[2];
	struct lfq_info info;
	struct lfq_test_job j;
	int fd[2], job[4], status, i;
	long long start;
	pid_t pid;

	REQUIRE_PEER();
	for (i = 0; i < 2; i++) {
		fd[i] = raw_create(&c);
		ASSERT_LE(0, fd[i]);
		desc[i] = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED,
			       fd[i], LFQ_OFF_DESC);
		ASSERT_NE(MAP_FAILED, desc[i]);
	}
	ASSERT_EQ(0, ioctl(fd[0], LFQ_IOC_INFO, &info));

	/* ring 0: garbled; its threads carry on through -EIO to the deadline */
	j = job_params(fd[0], LFQ_TEST_CONSUME, variant->kernel_threads, 2,
		       LFQ_TEST_MAX_ITEMS, variant->burst);
	j.flags = LFQ_TEST_F_SURVIVE_EIO;
	j.timeout_ms = j.deadline_ms = deadline_ms;
	start = now_ms();
	job[0] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.producers = 0;
	j.threads = 2;
	job[1] = job_start(&j);
	/* ring 1: exact, paced to last about as long as the scribbling */
	j = job_params(fd[1], LFQ_TEST_CONSUME, variant->kernel_threads, 2,
		       items, variant->burst);
	job[2] = job_start(&j);
	j.role = LFQ_TEST_PRODUCE;
	j.producers = 0;
	j.threads = 2;
	j.pause_every = 500;
	j.pause_us = 20000;
	job[3] = job_start(&j);
	for (i = 0; i < 4; i++)
		ASSERT_LE(0, job[i]);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *ring = (void *)map_ring(fd[0], &info);

		if (!ring)
			_exit(1);
		scribble_for(ring, &info, scribble_ms, vy_garble);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	wait_garbled_jobs(_metadata, job, r, what, 2, desc[0], start,
			  deadline_ms);
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(r[i].error == 0 || r[i].error == -ETIMEDOUT)
			TH_LOG("job %d ended on %d", i, r[i].error);
	}
	/* the kernel noticed, counted it, and says so in the descriptor */
	EXPECT_LT(0, r[0].ring_errors + r[1].ring_errors);
	EXPECT_EQ(r[0].ring_errors > r[1].ring_errors ?
		  r[0].ring_errors : r[1].ring_errors, desc[0]->errors);
	EXPECT_LT(0, r[0].io_errors + r[1].io_errors);
	/* the other ring saw nothing of it */
	EXPECT_EXACT(r[2], 2 * items);
	EXPECT_EQ(0, r[3].error);
	EXPECT_EQ(2 * items, r[3].moved);
	EXPECT_EQ(0, desc[1]->errors);
	for (i = 0; i < 2; i++) {
		munmap(desc[i], getpagesize());
		close(fd[i]);
	}
}

/* ---- holders for vm-check.sh ---------------------------------------------- */

static int hold(const char *what, const char *file)
{
	struct lfq_create c = vy(4, ITEM);
	struct lfq_test_job j;
	int fd = raw_create(&c), job;

	if (fd < 0)
		return 1;
	if (!strcmp(what, "hold-map")) {
		if (mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd,
			 LFQ_OFF_DESC) == MAP_FAILED)
			return 1;
		close(fd);
	} else if (!strcmp(what, "hold-job")) {
		j = job_params(fd, LFQ_TEST_CONSUME, 1, 1, 1, 1);
		j.timeout_ms = j.deadline_ms = LFQ_TEST_MAX_MS;
		job = job_start(&j);
		if (job < 0)
			return 1;
		close(fd);
	} else if (strcmp(what, "hold")) {
		return 2;
	}
	return hold_until_killed(file);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strncmp(argv[1], "hold", 4))
		return hold(argv[1], argv[2]);
	return test_harness_run(argc, argv);
}
