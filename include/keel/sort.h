/*
 * keel/sort.h - in-place sorting of arrays of any element size, a drop-in
 * for qsort(3) with a guaranteed O(n log n) worst case and no allocation.
 *
 * The algorithm is an introsort: quicksort with a median-of-three pivot
 * (Tukey's ninther on large ranges) and a branch-free block partition, which
 * falls back to heapsort when the recursion gets deeper than 2*floor(log2 n),
 * and finishes small ranges with insertion sort.  Runs of equal keys are
 * skipped in one pass, and ranges found already in order end early, so
 * sorted, reversed and few-distinct inputs are close to linear.  The sort is
 * not stable.  Stack use is O(log n); the comparator may be called with two
 * pointers to the same element and must define a consistent total order.
 */
#ifndef KEEL_SORT_H
#define KEEL_SORT_H

#include "keel/common.h"

/** A qsort(3) comparator: negative, zero or positive for a<b, a==b, a>b. */
typedef int (*keel_sort_cmp_fn)(const void *a, const void *b);
/** A comparator that also receives the caller's context pointer. */
typedef int (*keel_sort_cmp_r_fn)(const void *a, const void *b, void *ctx);

/**
 * Sort `n` elements of `size` bytes at `base` in ascending `cmp` order, in
 * place.  Same contract as qsort(3); n < 2 or size 0 does nothing.
 */
KEEL_API void keel_sort(void *base, size_t n, size_t size,
                        int (*cmp)(const void *, const void *));

/**
 * As keel_sort, passing `ctx` as the comparator's third argument (the
 * glibc qsort_r argument order); use it instead of a global for state.
 */
KEEL_API void keel_sort_r(void *base, size_t n, size_t size,
                          int (*cmp)(const void *, const void *, void *),
                          void *ctx);

#endif
