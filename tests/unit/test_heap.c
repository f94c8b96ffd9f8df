#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "keel/heap.h"

/* A timer-like item: the key is the deadline. */
struct item {
	int key;
	keel_heap_node_t node;
};

static bool item_less(const keel_heap_node_t *a, const keel_heap_node_t *b)
{
	return KEEL_CONTAINER_OF(a, struct item, node)->key <
	       KEEL_CONTAINER_OF(b, struct item, node)->key;
}

static int key_of(const keel_heap_node_t *n)
{
	cr_assert_not_null(n);
	return KEEL_CONTAINER_OF(n, struct item, node)->key;
}

static uint64_t heap_rng_state;

static uint32_t heap_rand(uint32_t bound)
{
	heap_rng_state ^= heap_rng_state << 13;
	heap_rng_state ^= heap_rng_state >> 7;
	heap_rng_state ^= heap_rng_state << 17;
	return (uint32_t)(heap_rng_state % bound);
}

/* White-box check: every node's slot is right and no child beats its
 * parent. */
static void check_heap(const keel_heap_t *h)
{
	for (size_t i = 0; i < h->len; i++) {
		cr_assert_eq(h->nodes[i]->pos, i + 1, "slot %zu", i);
		if (i > 0)
			cr_assert(!h->less(h->nodes[i], h->nodes[(i - 1) / 2]),
			          "slot %zu beats its parent", i);
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

Test(heap, empty_heap_has_no_top)
{
	keel_heap_t h;
	keel_heap_init(&h, item_less);
	cr_assert_null(keel_heap_top(&h));
	cr_assert_null(keel_heap_pop(&h));
	cr_assert_eq(keel_heap_size(&h), 0);
	keel_heap_deinit(&h);
}

Test(heap, pops_in_sorted_order_like_heapsort)
{
	heap_rng_state = 88172645463325252ull;
	for (int round = 0; round < 50; round++) {
		size_t n = heap_rand(300);
		struct item *it = calloc(n + 1, sizeof(*it));
		int *ref = calloc(n + 1, sizeof(*ref));
		keel_heap_t h;
		keel_heap_init(&h, item_less);
		for (size_t i = 0; i < n; i++) {
			it[i].key = ref[i] = (int)heap_rand(100) - 50;
			cr_assert_eq(keel_heap_push(&h, &it[i].node), KEEL_OK);
		}
		check_heap(&h);
		qsort(ref, n, sizeof(*ref), cmp_int);
		for (size_t i = 0; i < n; i++) {
			cr_assert_eq(key_of(keel_heap_top(&h)), ref[i]);
			keel_heap_node_t *top = keel_heap_pop(&h);
			cr_assert_eq(key_of(top), ref[i], "pop %zu", i);
			cr_assert(!keel_heap_contains(top));
		}
		cr_assert_null(keel_heap_pop(&h));
		keel_heap_deinit(&h);
		free(it);
		free(ref);
	}
}

Test(heap, contains_follows_push_pop_and_remove)
{
	struct item a = {.key = 1}, b = {.key = 2};
	keel_heap_t h;
	keel_heap_init(&h, item_less);
	cr_assert(!keel_heap_contains(&a.node));
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_OK);
	cr_assert_eq(keel_heap_push(&h, &b.node), KEEL_OK);
	cr_assert(keel_heap_contains(&a.node));
	cr_assert_eq(keel_heap_pop(&h), &a.node);
	cr_assert(!keel_heap_contains(&a.node));
	cr_assert_eq(keel_heap_remove(&h, &b.node), KEEL_OK);
	cr_assert(!keel_heap_contains(&b.node));
	cr_assert_eq(keel_heap_size(&h), 0);
	/* A node that left may come back. */
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_OK);
	cr_assert_eq(keel_heap_top(&h), &a.node);
	keel_heap_deinit(&h);
}

Test(heap, pushing_a_node_twice_is_refused)
{
	struct item a = {.key = 1};
	keel_heap_t h, other;
	keel_heap_init(&h, item_less);
	keel_heap_init(&other, item_less);
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_OK);
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_EEXIST);
	cr_assert_eq(keel_heap_push(&other, &a.node), KEEL_EEXIST);
	cr_assert_eq(keel_heap_size(&h), 1);
	cr_assert_eq(keel_heap_size(&other), 0);
	keel_heap_deinit(&h);
	keel_heap_deinit(&other);
}

/* Build a heap of keys 0..n-1 pushed in a scrambled order. */
static void fill(keel_heap_t *h, struct item *it, size_t n)
{
	keel_heap_init(h, item_less);
	for (size_t i = 0; i < n; i++) {
		it[i].key = (int)((i * 7) % n);
		it[i].node.pos = 0;
		cr_assert_eq(keel_heap_push(h, &it[i].node), KEEL_OK);
	}
}

/* Pop everything and check that exactly the keys 0..n-1 except `gone`
 * come out, in order. */
static void drain_expect(keel_heap_t *h, size_t n, int gone)
{
	for (int k = 0; k < (int)n; k++) {
		if (k == gone)
			continue;
		cr_assert_eq(key_of(keel_heap_pop(h)), k);
	}
	cr_assert_null(keel_heap_pop(h));
}

Test(heap, removes_top_last_and_middle)
{
	enum { N = 31 };
	struct item it[N];
	keel_heap_t h;
	/* Which slot to remove: the top, the last leaf, an inner node. */
	size_t slots[] = {0, N - 1, 5, 14, 1};
	for (size_t s = 0; s < KEEL_COUNTOF(slots); s++) {
		fill(&h, it, N);
		keel_heap_node_t *victim = h.nodes[slots[s]];
		int key = key_of(victim);
		cr_assert_eq(keel_heap_remove(&h, victim), KEEL_OK);
		cr_assert(!keel_heap_contains(victim));
		cr_assert_eq(keel_heap_size(&h), N - 1);
		check_heap(&h);
		drain_expect(&h, N, key);
		keel_heap_deinit(&h);
	}
}

Test(heap, remove_sifts_the_moved_leaf_up_when_needed)
{
	/* Pushed in heap order, so the array is exactly this.  Removing 101
	 * (slot 5) moves the last leaf, 7, under 100: 7 must rise. */
	int keys[] = {0, 1, 100, 2, 3, 101, 102, 4, 5, 6, 7};
	struct item it[KEEL_COUNTOF(keys)];
	keel_heap_t h;
	keel_heap_init(&h, item_less);
	for (size_t i = 0; i < KEEL_COUNTOF(keys); i++) {
		it[i].key = keys[i];
		it[i].node.pos = 0;
		cr_assert_eq(keel_heap_push(&h, &it[i].node), KEEL_OK);
		cr_assert_eq(h.nodes[i], &it[i].node);
	}
	cr_assert_eq(keel_heap_remove(&h, &it[5].node), KEEL_OK);
	check_heap(&h);
	cr_assert_eq(key_of(h.nodes[2]), 7);
	cr_assert_eq(key_of(h.nodes[5]), 100);
	int want[] = {0, 1, 2, 3, 4, 5, 6, 7, 100, 102};
	for (size_t i = 0; i < KEEL_COUNTOF(want); i++)
		cr_assert_eq(key_of(keel_heap_pop(&h)), want[i]);
	cr_assert_null(keel_heap_pop(&h));
	keel_heap_deinit(&h);
}

Test(heap, update_moves_a_node_both_ways)
{
	enum { N = 40 };
	struct item it[N];
	keel_heap_t h;
	fill(&h, it, N);
	/* Decrease: the largest key becomes the new minimum. */
	struct item *big = KEEL_CONTAINER_OF(h.nodes[N - 1], struct item, node);
	int old = big->key;
	big->key = -1;
	cr_assert_eq(keel_heap_update(&h, &big->node), KEEL_OK);
	check_heap(&h);
	cr_assert_eq(keel_heap_top(&h), &big->node);
	/* Increase: the minimum becomes the maximum again. */
	big->key = old;
	cr_assert_eq(keel_heap_update(&h, &big->node), KEEL_OK);
	check_heap(&h);
	cr_assert_eq(key_of(keel_heap_top(&h)), 0);
	/* Increase the top itself past everything. */
	struct item *top =
	        KEEL_CONTAINER_OF(keel_heap_top(&h), struct item, node);
	top->key = 1000;
	cr_assert_eq(keel_heap_update(&h, &top->node), KEEL_OK);
	check_heap(&h);
	cr_assert_eq(key_of(keel_heap_top(&h)), 1);
	/* An update with no change keeps everything in place. */
	cr_assert_eq(keel_heap_update(&h, keel_heap_top(&h)), KEEL_OK);
	check_heap(&h);
	for (int k = 1; k < N; k++)
		cr_assert_eq(key_of(keel_heap_pop(&h)), k);
	cr_assert_eq(keel_heap_pop(&h), &top->node);
	keel_heap_deinit(&h);
}

Test(heap, remove_or_update_of_a_foreign_node_is_refused)
{
	struct item a = {.key = 1}, b = {.key = 2}, c = {.key = 3};
	keel_heap_t h, other;
	keel_heap_init(&h, item_less);
	keel_heap_init(&other, item_less);
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_OK);
	cr_assert_eq(keel_heap_push(&h, &b.node), KEEL_OK);
	cr_assert_eq(keel_heap_push(&other, &c.node), KEEL_OK);
	/* In no heap at all. */
	struct item loose = {.key = 0};
	cr_assert_eq(keel_heap_remove(&h, &loose.node), KEEL_ENOENT);
	cr_assert_eq(keel_heap_update(&h, &loose.node), KEEL_ENOENT);
	/* In another heap: c sits in slot 0 there, a in slot 0 here. */
	cr_assert_eq(keel_heap_remove(&h, &c.node), KEEL_ENOENT);
	cr_assert_eq(keel_heap_update(&h, &c.node), KEEL_ENOENT);
	/* Already removed. */
	cr_assert_eq(keel_heap_remove(&h, &b.node), KEEL_OK);
	cr_assert_eq(keel_heap_remove(&h, &b.node), KEEL_ENOENT);
	/* Nothing changed by the refusals. */
	cr_assert_eq(keel_heap_size(&h), 1);
	cr_assert_eq(keel_heap_top(&h), &a.node);
	cr_assert_eq(keel_heap_size(&other), 1);
	cr_assert(keel_heap_contains(&c.node));
	keel_heap_deinit(&h);
	keel_heap_deinit(&other);
}

Test(heap, deinit_detaches_nodes_still_inside)
{
	struct item it[20];
	keel_heap_t h;
	fill(&h, it, 20);
	keel_heap_deinit(&h);
	for (size_t i = 0; i < 20; i++)
		cr_assert(!keel_heap_contains(&it[i].node));
	cr_assert_eq(keel_heap_size(&h), 0);
	/* The heap is usable again after deinit. */
	cr_assert_eq(keel_heap_push(&h, &it[3].node), KEEL_OK);
	cr_assert_eq(keel_heap_top(&h), &it[3].node);
	keel_heap_deinit(&h);
}

Test(heap, reserve_failure_leaves_heap_unchanged)
{
	struct item a = {.key = 5};
	keel_heap_t h;
	keel_heap_init(&h, item_less);
	cr_assert_eq(keel_heap_push(&h, &a.node), KEEL_OK);
	keel_heap_node_t **before = h.nodes;
	size_t cap = h.cap;
	cr_assert_eq(keel_heap_reserve(&h, SIZE_MAX), KEEL_ENOMEM);
	cr_assert_eq(h.nodes, before);
	cr_assert_eq(h.cap, cap);
	cr_assert_eq(keel_heap_top(&h), &a.node);
	/* A sane reservation holds and a smaller one is a no-op. */
	cr_assert_eq(keel_heap_reserve(&h, 1000), KEEL_OK);
	cr_assert_geq(h.cap, 1000);
	cr_assert_eq(keel_heap_reserve(&h, 10), KEEL_OK);
	cr_assert_geq(h.cap, 1000);
	cr_assert_eq(key_of(keel_heap_pop(&h)), 5);
	keel_heap_deinit(&h);
}

/* The model: a flag per item saying whether it is in the heap; its minimum
 * key is found by a linear scan. */
static int model_min(const struct item *it, const bool *in, size_t n)
{
	int best = INT32_MAX;
	for (size_t i = 0; i < n; i++)
		if (in[i] && it[i].key < best)
			best = it[i].key;
	return best;
}

/* Pick a random item whose membership equals `want`, or -1 when none. */
static int pick(const bool *in, size_t n, bool want)
{
	size_t start = heap_rand((uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		if (in[i] == want)
			return (int)i;
	}
	return -1;
}

/* One random operation, applied to the heap and to the model. */
static void random_op(keel_heap_t *h, struct item *it, bool *in, size_t n)
{
	int i;
	switch (heap_rand(4)) {
	case 0:
		if ((i = pick(in, n, false)) < 0)
			return;
		it[i].key = (int)heap_rand(1000);
		cr_assert_eq(keel_heap_push(h, &it[i].node), KEEL_OK);
		in[i] = true;
		return;
	case 1: {
		keel_heap_node_t *top = keel_heap_pop(h);
		if (top == NULL)
			return;
		cr_assert_eq(key_of(top), model_min(it, in, n));
		in[KEEL_CONTAINER_OF(top, struct item, node) - it] = false;
		return;
	}
	case 2:
		if ((i = pick(in, n, true)) < 0)
			return;
		cr_assert_eq(keel_heap_remove(h, &it[i].node), KEEL_OK);
		in[i] = false;
		return;
	default:
		if ((i = pick(in, n, true)) < 0)
			return;
		it[i].key = (int)heap_rand(1000);
		cr_assert_eq(keel_heap_update(h, &it[i].node), KEEL_OK);
		return;
	}
}

Test(heap, random_operations_match_a_simple_model)
{
	enum { N = 257, OPS = 20000 };
	static struct item it[N];
	static bool in[N];
	keel_heap_t h;
	keel_heap_init(&h, item_less);
	heap_rng_state = 0x9e3779b97f4a7c15ull;
	for (int op = 0; op < OPS; op++) {
		random_op(&h, it, in, N);
		size_t count = 0;
		for (size_t i = 0; i < N; i++) {
			count += in[i];
			cr_assert_eq(keel_heap_contains(&it[i].node), in[i]);
		}
		cr_assert_eq(keel_heap_size(&h), count);
		if (count)
			cr_assert_eq(key_of(keel_heap_top(&h)),
			             model_min(it, in, N));
		if (op % 97 == 0)
			check_heap(&h);
	}
	check_heap(&h);
	keel_heap_deinit(&h);
}
