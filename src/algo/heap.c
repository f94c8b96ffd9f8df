/*
 * Binary min-heap over an array of node pointers.  Slot i has children 2i+1
 * and 2i+2; every node stores 1 + its slot so remove and update find it
 * without searching.  Sifting moves a "hole" instead of swapping, writing
 * each displaced node (and its slot) once.
 */
#include <stdint.h>
#include <stdlib.h>

#include "keel/heap.h"

#define HEAP_MIN_CAP 16

void keel_heap_init(keel_heap_t *h, keel_heap_less_t less)
{
	h->nodes = NULL;
	h->len = 0;
	h->cap = 0;
	h->less = less;
}

void keel_heap_deinit(keel_heap_t *h)
{
	for (size_t i = 0; i < h->len; i++)
		h->nodes[i]->pos = 0;
	free(h->nodes);
	keel_heap_init(h, h->less);
}

/* Growth checks the byte count before realloc so that an absurd request is
 * an ordinary KEEL_ENOMEM rather than an overflowed size or an allocator
 * abort; the old array stays valid when realloc fails. */
int keel_heap_reserve(keel_heap_t *h, size_t n)
{
	if (n <= h->cap)
		return KEEL_OK;
	if (n > SIZE_MAX / sizeof(*h->nodes))
		return KEEL_ENOMEM;
	keel_heap_node_t **p = realloc(h->nodes, n * sizeof(*h->nodes));
	if (p == NULL)
		return KEEL_ENOMEM;
	h->nodes = p;
	h->cap = n;
	return KEEL_OK;
}

/* Doubling keeps pushes amortised O(1) in allocation work. */
static int heap_grow(keel_heap_t *h)
{
	if (h->cap > SIZE_MAX / 2)
		return KEEL_ENOMEM;
	return keel_heap_reserve(h, h->cap ? 2 * h->cap : HEAP_MIN_CAP);
}

static void heap_place(keel_heap_t *h, size_t i, keel_heap_node_t *node)
{
	h->nodes[i] = node;
	node->pos = i + 1;
}

/* Move `node`, destined for slot i, towards the root past every parent it
 * beats; parents slide down into the hole. */
static void heap_sift_up(keel_heap_t *h, size_t i, keel_heap_node_t *node)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!h->less(node, h->nodes[parent]))
			break;
		heap_place(h, i, h->nodes[parent]);
		i = parent;
	}
	heap_place(h, i, node);
}

/* Move `node`, destined for slot i, towards the leaves: the smaller child
 * rises into the hole while it beats the node. */
static void heap_sift_down(keel_heap_t *h, size_t i, keel_heap_node_t *node)
{
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->less(h->nodes[child + 1], h->nodes[child]))
			child++;
		if (!h->less(h->nodes[child], node))
			break;
		heap_place(h, i, h->nodes[child]);
		i = child;
	}
	heap_place(h, i, node);
}

/* A node whose key changed (or that was dropped into a vacated slot) can be
 * out of order with its parent or with its children, never both. */
static void heap_fix(keel_heap_t *h, size_t i)
{
	keel_heap_node_t *node = h->nodes[i];
	if (i > 0 && h->less(node, h->nodes[(i - 1) / 2]))
		heap_sift_up(h, i, node);
	else
		heap_sift_down(h, i, node);
}

/* Checking that the slot really holds this node (not only that pos is set)
 * catches a node that lives in a different heap. */
static bool heap_owns(const keel_heap_t *h, const keel_heap_node_t *node)
{
	return node->pos != 0 && node->pos <= h->len &&
	       h->nodes[node->pos - 1] == node;
}

int keel_heap_push(keel_heap_t *h, keel_heap_node_t *node)
{
	if (node->pos != 0)
		return KEEL_EEXIST;
	if (h->len == h->cap) {
		int rc = heap_grow(h);
		if (rc != KEEL_OK)
			return rc;
	}
	h->len++;
	heap_sift_up(h, h->len - 1, node);
	return KEEL_OK;
}

keel_heap_node_t *keel_heap_top(const keel_heap_t *h)
{
	return h->len ? h->nodes[0] : NULL;
}

/* The last leaf fills the vacated slot and is then sifted into place. */
int keel_heap_remove(keel_heap_t *h, keel_heap_node_t *node)
{
	if (!heap_owns(h, node))
		return KEEL_ENOENT;
	size_t i = node->pos - 1;
	keel_heap_node_t *last = h->nodes[--h->len];
	node->pos = 0;
	if (i < h->len) {
		heap_place(h, i, last);
		heap_fix(h, i);
	}
	return KEEL_OK;
}

keel_heap_node_t *keel_heap_pop(keel_heap_t *h)
{
	keel_heap_node_t *top = keel_heap_top(h);
	if (top != NULL)
		(void)keel_heap_remove(h, top);
	return top;
}

int keel_heap_update(keel_heap_t *h, keel_heap_node_t *node)
{
	if (!heap_owns(h, node))
		return KEEL_ENOENT;
	heap_fix(h, node->pos - 1);
	return KEEL_OK;
}

size_t keel_heap_size(const keel_heap_t *h)
{
	return h->len;
}

bool keel_heap_contains(const keel_heap_node_t *node)
{
	return node->pos != 0;
}
