/*
 * list_bench - sorting a singly linked list three ways:
 *   merge   keel_slist_sort (bottom-up merge sort, relinks nodes)
 *   quick   keel_slist_sort_quick (first-node pivot, relinks nodes)
 *   qsort   copy the keys to an array, qsort(3) it, write them back
 * on random and on already sorted keys.  The quicksort is quadratic on
 * sorted input, so there it runs only on small n, where doubling n should
 * roughly quadruple its time.
 *
 * Usage: list_bench [n]   (default 1000000 nodes for the large rows)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/list.h"

struct bnode {
	keel_slist_node_t link;
	uint64_t key;
};

enum method { MERGE, QUICK, QSORT, NMETHODS };

static const char *const method_name[NMETHODS] = {"merge", "quick", "qsort"};

static int bnode_cmp(const keel_slist_node_t *a, const keel_slist_node_t *b)
{
	uint64_t x = KEEL_CONTAINER_OF(a, struct bnode, link)->key;
	uint64_t y = KEEL_CONTAINER_OF(b, struct bnode, link)->key;
	return (x > y) - (x < y);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* CPU time rather than wall time: the benchmark machines are shared, and a
 * single-threaded sort's CPU time does not count the time it sat waiting
 * for a core. */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Fresh input: nodes linked in array order, keys random or ascending. */
static keel_slist_node_t *make_list(struct bnode *v, size_t n, int sorted)
{
	uint64_t s = 0x853c49e6748fea9bull;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		v[i].key = sorted ? i : s;
		v[i].link.next = i + 1 < n ? &v[i + 1].link : NULL;
	}
	return n ? &v[0].link : NULL;
}

/* The array route: what one would do instead of sorting the list itself.
 * Returns -1 when the scratch array cannot be allocated. */
static int sort_via_array(keel_slist_node_t *head, size_t n)
{
	uint64_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	if (keys == NULL)
		return -1;
	size_t i = 0;
	for (keel_slist_node_t *p = head; p != NULL; p = p->next)
		keys[i++] = KEEL_CONTAINER_OF(p, struct bnode, link)->key;
	qsort(keys, n, sizeof(*keys), u64_cmp);
	i = 0;
	for (keel_slist_node_t *p = head; p != NULL; p = p->next)
		KEEL_CONTAINER_OF(p, struct bnode, link)->key = keys[i++];
	free(keys);
	return 0;
}

/* A result counts only if it still holds n nodes in ascending order. */
static int check_sorted(const keel_slist_node_t *p, size_t n)
{
	size_t count = 0;
	uint64_t prev = 0;
	for (; p != NULL; p = p->next, count++) {
		uint64_t k =
		        KEEL_CONTAINER_OF(p, const struct bnode, link)->key;
		if (count > 0 && k < prev)
			return -1;
		prev = k;
	}
	return count == n ? 0 : -1;
}

/* Time one method on fresh input; negative on failure. */
static double run_one(enum method m, struct bnode *v, size_t n, int sorted)
{
	keel_slist_node_t *head = make_list(v, n, sorted);
	double t0 = now_ms();
	if (m == MERGE)
		head = keel_slist_sort(head, bnode_cmp);
	else if (m == QUICK)
		head = keel_slist_sort_quick(head, bnode_cmp);
	else if (sort_via_array(head, n) != 0)
		return -1;
	double ms = now_ms() - t0;
	return check_sorted(head, n) == 0 ? ms : -1;
}

/* One table row; `skip_quick` leaves out the quadratic case. */
static int row(struct bnode *v, size_t n, int sorted, int skip_quick)
{
	printf("%-7s %9zu", sorted ? "sorted" : "random", n);
	for (int m = 0; m < NMETHODS; m++) {
		if (m == QUICK && skip_quick) {
			printf(" %12s", "(n^2: skip)");
			continue;
		}
		double ms = run_one((enum method)m, v, n, sorted);
		if (ms < 0) {
			fprintf(stderr, "\n%s: wrong result\n", method_name[m]);
			return -1;
		}
		printf(" %12.2f", ms);
		fflush(stdout);
	}
	printf("\n");
	return 0;
}

static int parse_n(int argc, char **argv, size_t *n)
{
	if (argc < 2)
		return 0;
	char *end;
	unsigned long long v = strtoull(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || v == 0 || v > (1ull << 28))
		return -1;
	*n = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 1000000;
	static const size_t small[] = {4000, 8000, 16000};
	if (parse_n(argc, argv, &n) != 0) {
		fprintf(stderr, "usage: %s [n (1..2^28)]\n", argv[0]);
		return 2;
	}
	size_t cap = n > small[2] ? n : small[2];
	struct bnode *v = malloc(cap * sizeof(*v));
	if (v == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("list sort, CPU milliseconds (one run each, uint64 keys)\n");
	printf("%-7s %9s %12s %12s %12s\n", "input", "n", "merge", "quick",
	       "array+qsort");
	int rc = row(v, n, 0, 0) || row(v, n, 1, 1);
	for (size_t i = 0; rc == 0 && i < KEEL_COUNTOF(small); i++)
		rc = row(v, small[i], 1, 0);
	free(v);
	return rc ? 1 : 0;
}
