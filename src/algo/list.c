/*
 * Singly linked list algorithms that only relink nodes: Floyd's cycle
 * detection, a bottom-up merge sort and a list quicksort.
 */
#include <stdbool.h>

#include "keel/list.h"

/* A run of 2^k nodes lives in slot k; 64 slots would hold 2^64 - 1 nodes,
 * more than an address space can, so the array never overflows. */
#define SLIST_RUN_SLOTS 64

/* Phase one of Floyd: the hare moves two steps per tortoise step.  If there
 * is a cycle they must meet inside it (the gap shrinks by one per step);
 * otherwise the hare falls off the end first.  Returns the meeting node. */
static keel_slist_node_t *slist_meet(keel_slist_node_t *head)
{
	keel_slist_node_t *slow = head, *fast = head;
	while (fast != NULL && fast->next != NULL) {
		slow = slow->next;
		fast = fast->next->next;
		if (slow == fast)
			return slow;
	}
	return NULL;
}

/* With the tail of length mu before the cycle and the meeting point at
 * distance m into the cycle, slow walked mu + m and fast twice that, so
 * mu + m is a multiple of the cycle length: walking mu more steps from the
 * meeting point lands on the cycle's first node, exactly where a pointer
 * that starts at head arrives after mu steps. */
keel_slist_node_t *keel_slist_find_cycle(keel_slist_node_t *head,
                                         size_t *cycle_len)
{
	keel_slist_node_t *meet = slist_meet(head);
	if (cycle_len != NULL)
		*cycle_len = 0;
	if (meet == NULL)
		return NULL;
	if (cycle_len != NULL) {
		size_t n = 1;
		for (keel_slist_node_t *p = meet->next; p != meet; p = p->next)
			n++;
		*cycle_len = n;
	}
	keel_slist_node_t *a = head, *b = meet;
	while (a != b) {
		a = a->next;
		b = b->next;
	}
	return a;
}

/* Merge two sorted lists.  On a tie the node from `a` goes first; callers
 * pass the run holding earlier nodes as `a`, which is what makes the sort
 * stable. */
static keel_slist_node_t *
slist_merge(keel_slist_node_t *a, keel_slist_node_t *b, keel_slist_cmp_t cmp)
{
	keel_slist_node_t head = {NULL};
	keel_slist_node_t *tail = &head;
	while (a != NULL && b != NULL) {
		if (cmp(b, a) < 0) {
			tail->next = b;
			b = b->next;
		} else {
			tail->next = a;
			a = a->next;
		}
		tail = tail->next;
	}
	tail->next = a != NULL ? a : b;
	return head.next;
}

/* Bottom-up merge sort driven like a binary counter: each node enters as a
 * run of one and carries upward, merging with the run of equal size in each
 * occupied slot.  Merges stay balanced (n log n comparisons), one pass over
 * the input suffices, and unlike a pass-per-width sort the recent runs are
 * still in cache when they are merged.  Higher slots always hold earlier
 * nodes, so they are the left side of every merge. */
keel_slist_node_t *keel_slist_sort(keel_slist_node_t *head,
                                   keel_slist_cmp_t cmp)
{
	keel_slist_node_t *slot[SLIST_RUN_SLOTS] = {NULL};
	while (head != NULL) {
		keel_slist_node_t *run = head;
		head = head->next;
		run->next = NULL;
		size_t k = 0;
		for (; k < SLIST_RUN_SLOTS - 1 && slot[k] != NULL; k++) {
			run = slist_merge(slot[k], run, cmp);
			slot[k] = NULL;
		}
		slot[k] = slist_merge(slot[k], run, cmp);
	}
	keel_slist_node_t *out = NULL;
	for (size_t k = 0; k < SLIST_RUN_SLOTS; k++)
		out = slist_merge(slot[k], out, cmp);
	return out;
}

/* The three parts of a list around its first node. */
struct slist_parts {
	keel_slist_node_t *lo, *eq, *hi;
	keel_slist_node_t *eq_tail;
	size_t nlo, nhi;
};

/* Split `list` into nodes below, equal to and above its first node, each
 * part in its original order (so equal keys keep their order, and runs of
 * equal keys cost one pass rather than a quadratic collapse). */
static void slist_partition(keel_slist_node_t *list, keel_slist_cmp_t cmp,
                            struct slist_parts *p)
{
	keel_slist_node_t **lo = &p->lo, **hi = &p->hi;
	p->nlo = p->nhi = 0;
	p->eq = p->eq_tail = list;
	for (keel_slist_node_t *n = list->next; n != NULL; n = n->next) {
		int c = cmp(n, list);
		if (c < 0) {
			*lo = n;
			lo = &n->next;
			p->nlo++;
		} else if (c > 0) {
			*hi = n;
			hi = &n->next;
			p->nhi++;
		} else {
			p->eq_tail->next = n;
			p->eq_tail = n;
		}
	}
	*lo = NULL;
	*hi = NULL;
	p->eq_tail->next = NULL;
}

/* Returns sorted(list) followed by `suffix`.  Only the smaller part is
 * sorted by recursion; the loop continues with the larger one, so the stack
 * stays O(log n) even when the pivot is always the minimum or maximum.
 * `out` is where the next sorted prefix is written; `suffix` collects what
 * belongs after everything still to be sorted. */
static keel_slist_node_t *slist_quick(keel_slist_node_t *list,
                                      keel_slist_node_t *suffix,
                                      keel_slist_cmp_t cmp)
{
	keel_slist_node_t *head = NULL;
	keel_slist_node_t **out = &head;
	while (list != NULL) {
		struct slist_parts p;
		slist_partition(list, cmp, &p);
		if (p.nlo <= p.nhi) {
			*out = slist_quick(p.lo, p.eq, cmp);
			out = &p.eq_tail->next;
			list = p.hi;
		} else {
			p.eq_tail->next = slist_quick(p.hi, suffix, cmp);
			suffix = p.eq;
			list = p.lo;
		}
	}
	*out = suffix;
	return head;
}

keel_slist_node_t *keel_slist_sort_quick(keel_slist_node_t *head,
                                         keel_slist_cmp_t cmp)
{
	return slist_quick(head, NULL, cmp);
}
