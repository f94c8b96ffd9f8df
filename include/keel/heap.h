/*
 * keel/heap.h - an intrusive binary min-heap, the worker's timer heap.
 *
 * The caller embeds a keel_heap_node_t in its own struct (a timer, a
 * connection) and gets the struct back with KEEL_CONTAINER_OF.  The heap
 * keeps an array of node pointers ordered by a caller-supplied `less`; every
 * node remembers its slot in that array, so a node can be removed or re-keyed
 * by handle in O(log n) without a search - what cancelling or postponing a
 * timer needs.  A zero-initialised node is "not in a heap".  The heap never
 * owns the nodes: it only points at them.  Equal keys come out in no
 * particular order; callers that need FIFO ties add a sequence number to the
 * key their `less` compares.
 */
#ifndef KEEL_HEAP_H
#define KEEL_HEAP_H

#include <stdbool.h>

#include "keel/common.h"

/** Link embedded in the user's struct; zero it (or `= {0}`) before first use.
 */
typedef struct keel_heap_node {
	size_t pos; /* 1 + index in the heap's array; 0 when in no heap */
} keel_heap_node_t;

/** Strict ordering of two nodes: true when `a` must come out before `b`. */
typedef bool (*keel_heap_less_t)(const keel_heap_node_t *a,
                                 const keel_heap_node_t *b);

/** A heap in caller-provided storage; read it only through the functions. */
typedef struct keel_heap {
	keel_heap_node_t **nodes; /* nodes[0] is the minimum */
	size_t len;
	size_t cap;
	keel_heap_less_t less;
} keel_heap_t;

/** Make `h` an empty heap ordered by `less`; allocates nothing. */
KEEL_API void keel_heap_init(keel_heap_t *h, keel_heap_less_t less);
/**
 * Free the heap's array.  Nodes still inside are detached (contains() turns
 * false) but not freed: they belong to the caller.
 */
KEEL_API void keel_heap_deinit(keel_heap_t *h);
/**
 * Make room for `n` nodes so that pushes up to that size cannot fail.
 * KEEL_ENOMEM when the array cannot grow; the heap is then unchanged.
 */
KEEL_API int keel_heap_reserve(keel_heap_t *h, size_t n);
/**
 * Insert `node` in O(log n).  KEEL_EEXIST when the node is already in a heap,
 * KEEL_ENOMEM when the array cannot grow; on failure nothing changes.
 */
KEEL_API int keel_heap_push(keel_heap_t *h, keel_heap_node_t *node);
/** The minimum node, left in place; NULL when the heap is empty. */
KEEL_API keel_heap_node_t *keel_heap_top(const keel_heap_t *h);
/** Remove and return the minimum node in O(log n); NULL when empty. */
KEEL_API keel_heap_node_t *keel_heap_pop(keel_heap_t *h);
/**
 * Remove `node` from anywhere in `h` in O(log n).  Refused with KEEL_ENOENT,
 * changing nothing, when the node is not in `h` (in no heap, or in another).
 */
KEEL_API int keel_heap_remove(keel_heap_t *h, keel_heap_node_t *node);
/**
 * Restore the order after `node`'s key changed in either direction, in
 * O(log n).  KEEL_ENOENT, changing nothing, when the node is not in `h`.
 */
KEEL_API int keel_heap_update(keel_heap_t *h, keel_heap_node_t *node);
/** Number of nodes in the heap. */
KEEL_API size_t keel_heap_size(const keel_heap_t *h);
/** True while `node` is inside some heap (after push, before pop/remove). */
KEEL_API bool keel_heap_contains(const keel_heap_node_t *node);

#endif
