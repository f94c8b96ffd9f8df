/*
 * keel/select.h - selection: the k-th smallest element of an array without
 * sorting it, and the latency percentiles built on it.
 *
 * keel_select is an introselect: quickselect (expected O(n)) that watches
 * its own progress and, when two partitions in a row fail to shrink the range
 * it still has to search to 3/4, takes a median-of-medians pivot next, which
 * bounds the worst case at O(n).  It works in place, allocates nothing, and
 * is not stable.
 *
 * Percentiles use the nearest-rank rule: the p-th percentile of n values is
 * the value at rank ceil(p/100 * n) in ascending order (ranks start at 1),
 * and p = 0 gives the minimum.  So it is always one of the values, never an
 * interpolation: p50 of {1,2,3,4} is 2, p99 of 1..100 is 99, p100 is the
 * maximum.  p is first rounded to a millionth of a percent and the rank is
 * then computed in integers, so decimal inputs give exact ranks: p99.9 of
 * 1000 values is rank 999 (binary floating point alone would say 1000).
 */
#ifndef KEEL_SELECT_H
#define KEEL_SELECT_H

#include "keel/common.h"

/**
 * Reorder `n` elements of `size` bytes so that element `k` is the one a full
 * sort would put there, with none greater before it and none smaller after.
 * Returns 0, or KEEL_EINVAL (nothing moved) when k >= n, size is 0, or base
 * or cmp is NULL.
 */
KEEL_API int keel_select(void *base, size_t n, size_t size, size_t k,
                         int (*cmp)(const void *, const void *));

/**
 * Store in `*out` the nearest-rank `p`-th percentile (0 <= p <= 100) of the
 * `n` values at `v`, reordering `v`.  Returns 0, or KEEL_EINVAL (nothing
 * written or moved) when n is 0, v or out is NULL, or p is NaN or out of
 * range.
 */
KEEL_API int keel_percentile_u64(uint64_t *v, size_t n, double p,
                                 uint64_t *out);

/**
 * Store in `*out` the lower median of `n` values (the value at index
 * (n - 1) / 2 after sorting; the same as the 50th percentile), reordering
 * `v`.  Returns 0, or KEEL_EINVAL when n is 0 or a pointer is NULL.
 */
KEEL_API int keel_median_u64(uint64_t *v, size_t n, uint64_t *out);

#endif
