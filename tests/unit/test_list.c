#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "keel/list.h"

/* A list element: `key` is what the sorts compare, `seq` its position in the
 * input, which tells whether equal keys kept their order. */
struct elem {
	keel_slist_node_t link;
	int key;
	size_t seq;
};

typedef keel_slist_node_t *(*sort_fn)(keel_slist_node_t *, keel_slist_cmp_t);

static int elem_cmp(const keel_slist_node_t *a, const keel_slist_node_t *b)
{
	int x = KEEL_CONTAINER_OF(a, struct elem, link)->key;
	int y = KEEL_CONTAINER_OF(b, struct elem, link)->key;
	return (x > y) - (x < y);
}

/* Counts comparisons, to show the quicksort's quadratic case, and records
 * the lowest and highest frame address seen, to measure stack depth. */
static size_t list_cmp_calls;
static uintptr_t list_frame_lo, list_frame_hi;

static int elem_cmp_counted(const keel_slist_node_t *a,
                            const keel_slist_node_t *b)
{
	uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
	if (list_cmp_calls++ == 0 || frame < list_frame_lo)
		list_frame_lo = frame;
	if (frame > list_frame_hi)
		list_frame_hi = frame;
	return elem_cmp(a, b);
}

static uint64_t list_rng_state;

static uint32_t list_rand(uint32_t bound)
{
	list_rng_state ^= list_rng_state << 13;
	list_rng_state ^= list_rng_state >> 7;
	list_rng_state ^= list_rng_state << 17;
	return (uint32_t)(list_rng_state % bound);
}

/* Link e[0..n) in array order, NULL-terminated; the head or NULL. */
static keel_slist_node_t *link_all(struct elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		e[i].seq = i;
		e[i].link.next = i + 1 < n ? &e[i + 1].link : NULL;
	}
	return n ? &e[0].link : NULL;
}

/* Reference order: by key, then by input position - the stable result. */
static int ref_cmp(const void *a, const void *b)
{
	const struct elem *x = *(struct elem *const *)a;
	const struct elem *y = *(struct elem *const *)b;
	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sort e[0..n) as a list with `sort` and compare node by node with a
 * stable array sort of the same elements. */
static void check_sort(sort_fn sort, struct elem *e, size_t n)
{
	struct elem **ref = calloc(n + 1, sizeof(*ref));
	cr_assert_not_null(ref);
	keel_slist_node_t *head = link_all(e, n);
	for (size_t i = 0; i < n; i++)
		ref[i] = &e[i];
	qsort(ref, n, sizeof(*ref), ref_cmp);
	head = sort(head, elem_cmp);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(head, "list ends early at %zu of %zu", i, n);
		cr_assert_eq(head, &ref[i]->link, "node %zu of %zu: key %d", i,
		             n,
		             KEEL_CONTAINER_OF(head, struct elem, link)->key);
		head = head->next;
	}
	cr_assert_null(head, "list longer than %zu", n);
	free(ref);
}

enum shape { RANDOM, FEW_KEYS, SORTED, REVERSED, ALL_EQUAL, ORGAN_PIPE };

static void make_keys(struct elem *e, size_t n, enum shape s)
{
	for (size_t i = 0; i < n; i++) {
		switch (s) {
		case RANDOM: e[i].key = (int)list_rand(1u << 30); break;
		case FEW_KEYS: e[i].key = (int)list_rand(5); break;
		case SORTED: e[i].key = (int)i / 3; break;
		case REVERSED: e[i].key = (int)(n - i) / 3; break;
		case ALL_EQUAL: e[i].key = 7; break;
		case ORGAN_PIPE: e[i].key = (int)(i < n / 2 ? i : n - i); break;
		}
	}
}

/* Every shape at every small size, plus a few large sizes. */
static void check_sort_everywhere(sort_fn sort)
{
	static const size_t big[] = {100, 1000, 4097, 20000};
	list_rng_state = 0x2545f4914f6cdd1dull;
	for (int s = RANDOM; s <= ORGAN_PIPE; s++) {
		for (size_t n = 0; n < 70 + KEEL_COUNTOF(big); n++) {
			size_t len = n < 70 ? n : big[n - 70];
			struct elem *e = calloc(len + 1, sizeof(*e));
			cr_assert_not_null(e);
			make_keys(e, len, (enum shape)s);
			check_sort(sort, e, len);
			free(e);
		}
	}
}

Test(list, merge_sort_is_correct_and_stable)
{
	check_sort_everywhere(keel_slist_sort);
}

Test(list, quicksort_is_correct_and_stable)
{
	check_sort_everywhere(keel_slist_sort_quick);
}

Test(list, sorts_accept_the_empty_list)
{
	cr_assert_null(keel_slist_sort(NULL, elem_cmp));
	cr_assert_null(keel_slist_sort_quick(NULL, elem_cmp));
}

Test(list, merge_sort_uses_n_log_n_comparisons)
{
	enum { N = 1 << 14 };
	struct elem *e = calloc(N, sizeof(*e));
	list_rng_state = 12345;
	make_keys(e, N, RANDOM);
	list_cmp_calls = 0;
	keel_slist_sort(link_all(e, N), elem_cmp_counted);
	/* n log2 n = 229376; a merge sort needs at most that many. */
	cr_assert_leq(list_cmp_calls, (size_t)N * 14);
	cr_assert_geq(list_cmp_calls, (size_t)N * 10);
	free(e);
}

Test(list, quicksort_is_quadratic_on_sorted_input)
{
	enum { N = 2000 };
	struct elem *e = calloc(N, sizeof(*e));
	for (size_t i = 0; i < N; i++)
		e[i].key = (int)i;
	list_cmp_calls = 0;
	keel_slist_node_t *head =
	        keel_slist_sort_quick(link_all(e, N), elem_cmp_counted);
	/* The first-node pivot is the minimum every time: n(n-1)/2. */
	cr_assert_eq(list_cmp_calls, (size_t)N * (N - 1) / 2);
	cr_assert_eq(head, &e[0].link);
	free(e);
}

Test(list, quicksort_recursion_stays_shallow_on_reversed_input)
{
	/* With reversed input every part below the pivot is the large one.
	 * Recursing into it would nest n frames (hundreds of KiB here);
	 * looping on the larger part keeps the depth near log2(n). */
	enum { N = 6000 };
	struct elem *e = calloc(N, sizeof(*e));
	for (size_t i = 0; i < N; i++)
		e[i].key = (int)(N - i);
	list_cmp_calls = 0;
	list_frame_hi = 0;
	keel_slist_node_t *head =
	        keel_slist_sort_quick(link_all(e, N), elem_cmp_counted);
	cr_assert_eq(head, &e[N - 1].link);
	cr_assert_lt(list_frame_hi - list_frame_lo, 16 * 1024,
	             "stack grew by %zu bytes",
	             (size_t)(list_frame_hi - list_frame_lo));
	free(e);
}

Test(list, quicksort_is_linear_on_equal_keys)
{
	/* All keys equal the pivot: one three-way partition finishes. */
	enum { N = 5000 };
	struct elem *e = calloc(N, sizeof(*e));
	make_keys(e, N, ALL_EQUAL);
	list_cmp_calls = 0;
	keel_slist_node_t *head =
	        keel_slist_sort_quick(link_all(e, N), elem_cmp_counted);
	cr_assert_eq(list_cmp_calls, N - 1);
	cr_assert_eq(head, &e[0].link);
	free(e);
}

/* Link n nodes and point the last one back at node `to` (n = no cycle). */
static keel_slist_node_t *make_rho(struct elem *e, size_t n, size_t to)
{
	keel_slist_node_t *head = link_all(e, n);
	if (n && to < n)
		e[n - 1].link.next = &e[to].link;
	return head;
}

Test(list, finds_a_cycle_starting_at_every_position)
{
	enum { MAX = 40 };
	struct elem e[MAX];
	for (size_t n = 1; n <= MAX; n++) {
		for (size_t to = 0; to < n; to++) {
			size_t len = 12345;
			keel_slist_node_t *head = make_rho(e, n, to);
			cr_assert_eq(keel_slist_find_cycle(head, &len),
			             &e[to].link, "n=%zu to=%zu", n, to);
			cr_assert_eq(len, n - to, "n=%zu to=%zu", n, to);
			/* The walk reads the nodes but never relinks them. */
			cr_assert_eq(e[n - 1].link.next, &e[to].link);
		}
	}
}

Test(list, self_loops_at_head_and_tail)
{
	struct elem e[5];
	size_t len = 0;
	/* One node pointing at itself. */
	keel_slist_node_t *head = make_rho(e, 1, 0);
	cr_assert_eq(keel_slist_find_cycle(head, &len), &e[0].link);
	cr_assert_eq(len, 1);
	/* The tail of a longer list pointing at itself. */
	head = make_rho(e, 5, 4);
	cr_assert_eq(keel_slist_find_cycle(head, &len), &e[4].link);
	cr_assert_eq(len, 1);
	/* The whole list is the cycle. */
	head = make_rho(e, 5, 0);
	cr_assert_eq(keel_slist_find_cycle(head, &len), &e[0].link);
	cr_assert_eq(len, 5);
}

Test(list, lists_without_a_cycle_report_none)
{
	enum { MAX = 40 };
	struct elem e[MAX];
	for (size_t n = 0; n <= MAX; n++) {
		size_t len = 99;
		keel_slist_node_t *head = make_rho(e, n, n);
		cr_assert_null(keel_slist_find_cycle(head, &len), "n=%zu", n);
		cr_assert_eq(len, 0, "n=%zu", n);
	}
	cr_assert_null(keel_slist_find_cycle(NULL, NULL));
}

Test(list, cycle_length_is_optional)
{
	struct elem e[8];
	cr_assert_eq(keel_slist_find_cycle(make_rho(e, 8, 3), NULL),
	             &e[3].link);
}

Test(list, finds_a_cycle_in_a_long_list)
{
	enum { N = 200000 };
	struct elem *e = calloc(N, sizeof(*e));
	size_t len = 0;
	keel_slist_node_t *head = make_rho(e, N, N - 777);
	cr_assert_eq(keel_slist_find_cycle(head, &len), &e[N - 777].link);
	cr_assert_eq(len, 777);
	head = make_rho(e, N, 1);
	cr_assert_eq(keel_slist_find_cycle(head, &len), &e[1].link);
	cr_assert_eq(len, N - 1);
	free(e);
}
