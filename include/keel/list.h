/*
 * keel/list.h - intrusive singly linked lists: cycle detection and sorting.
 *
 * A keel_slist_node_t is embedded in the caller's struct and recovered with
 * KEEL_CONTAINER_OF; a list is a pointer to its first node, NULL when empty,
 * and ends at a node whose `next` is NULL.  Nothing here allocates or frees:
 * the functions only relink the caller's nodes.  find_cycle works on lists of
 * unknown length that may loop back on themselves; the two sorts relink a
 * NULL-terminated list and return its new head.
 */
#ifndef KEEL_LIST_H
#define KEEL_LIST_H

#include "keel/common.h"

/** Link embedded in the user's struct. */
typedef struct keel_slist_node {
	struct keel_slist_node *next;
} keel_slist_node_t;

/** Three-way compare: negative when `a` sorts before `b`, 0 when equal. */
typedef int (*keel_slist_cmp_t)(const keel_slist_node_t *a,
                                const keel_slist_node_t *b);

/**
 * Floyd's tortoise and hare: the first node of the cycle that `head` runs
 * into, or NULL when the list ends.  O(n) time, O(1) space, nothing written
 * to the nodes.  `*cycle_len` (if not NULL) gets the cycle's length, 0 if none.
 */
KEEL_API keel_slist_node_t *keel_slist_find_cycle(keel_slist_node_t *head,
                                                  size_t *cycle_len);
/**
 * Stable merge sort of a NULL-terminated list; returns the new head.
 * O(n log n) comparisons worst case, a fixed 64-slot array of runs on the
 * stack, no allocation.  The list must not have a cycle.
 */
KEEL_API keel_slist_node_t *keel_slist_sort(keel_slist_node_t *head,
                                            keel_slist_cmp_t cmp);
/**
 * Quicksort of a NULL-terminated list with the first node as pivot; returns
 * the new head.  Stable (three-way partition keeps each part in order) and
 * O(log n) stack, but O(n^2) comparisons on sorted or reversed input, so
 * prefer keel_slist_sort; kept for comparison in bench/list_bench.c.
 */
KEEL_API keel_slist_node_t *keel_slist_sort_quick(keel_slist_node_t *head,
                                                  keel_slist_cmp_t cmp);

#endif
