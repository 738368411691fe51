/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The item every lfq stress producer writes, user or kernel, so that any
 * consumer on either side can check it: who produced it, its per-producer
 * sequence number, a check word over both, and a fill pattern over the
 * rest of the element. Elements must be at least sizeof(struct
 * lfq_test_item) bytes.
 */
#ifndef LFQ_TEST_ITEM_H
#define LFQ_TEST_ITEM_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif

#define LFQ_TEST_MAGIC	0x6c667174U	/* "tqfl" */

struct lfq_test_item {
	__u32 magic;
	__u32 producer;		/* producer id, 0..producers-1 */
	__u64 seq;		/* per-producer sequence, from 0 */
	__u64 check;		/* lfq_test_check(producer, seq) */
};

static inline __u64 lfq_test_check(__u32 producer, __u64 seq)
{
	__u64 x = seq * 0x9e3779b97f4a7c15ULL + producer;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

/* Byte i of the element, for i >= sizeof(struct lfq_test_item). */
static inline __u8 lfq_test_fill(__u64 seq, __u32 i)
{
	return (__u8)(seq * 31 + i);
}

/*
 * Elements of odd sizes sit unaligned in burst arrays: the item goes in
 * and out through memcpy, never through a struct pointer.
 */
static inline void lfq_test_item_make(void *elem, __u32 elem_size,
				      __u32 producer, __u64 seq)
{
	struct lfq_test_item it = {
		.magic = LFQ_TEST_MAGIC,
		.producer = producer,
		.seq = seq,
		.check = lfq_test_check(producer, seq),
	};
	__u8 *b = elem;
	__u32 i;

	memcpy(elem, &it, sizeof(it));
	for (i = sizeof(it); i < elem_size; i++)
		b[i] = lfq_test_fill(seq, i);
}

/* Copy out the item of an element (which may be unaligned). */
static inline struct lfq_test_item lfq_test_item_get(const void *elem)
{
	struct lfq_test_item it;

	memcpy(&it, elem, sizeof(it));
	return it;
}

/* 0 if the element is a well-formed item from one of producers. */
static inline int lfq_test_item_bad(const void *elem, __u32 elem_size,
				    __u32 producers)
{
	struct lfq_test_item it = lfq_test_item_get(elem);
	const __u8 *b = elem;
	__u32 i;

	if (it.magic != LFQ_TEST_MAGIC || it.producer >= producers ||
	    it.check != lfq_test_check(it.producer, it.seq))
		return 1;
	for (i = sizeof(it); i < elem_size; i++)
		if (b[i] != lfq_test_fill(it.seq, i))
			return 1;
	return 0;
}

#endif /* LFQ_TEST_ITEM_H */
