/*
 * pairs - every pair of values in an unsorted list whose difference is d.
 *
 *   pairs [-m sort|hash|both] D [N ...]     (no N: integers are read from
 * stdin)
 *
 * Complexity, n numbers:
 *   -m sort   O(n log n) time (keel_sort, then two pointers moving forward
 *             only: O(n)), O(n) memory for the copy that is sorted.
 *   -m hash   O(n) expected time (one pass to fill an open-addressing set,
 *             one pass to look up x + D), O(n) memory; worst case O(n^2)
 *             if every key collides.  The default.
 *   -m both   runs the two and fails (exit 1) unless they found the same set.
 *
 * What counts as a pair: values, not positions.  A pair is printed once as
 * "a b" with b - a = |D|, however often a and b occur.  D = 0 pairs a value
 * with itself, so "x x" needs x at least twice in the list.  A negative D
 * finds the same pairs as |D|: a pair has no direction.  Differences are
 * computed without overflow over the whole int64 range.
 *
 * Output order: -m sort prints ascending by a; -m hash prints in the order
 * in which each a first occurs in the input (sorting its output would cost
 * the O(n log n) it avoids).  Exit 0, 1 when -m both disagrees, 2 on bad
 * input (a message goes to stderr).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/sort.h"

/* A growable list of int64 values: the input, or the pairs found. */
struct vec {
	int64_t *v;
	size_t n, cap;
};

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "pairs: %s%s%s\n", msg, arg ? ": " : "",
	        arg ? arg : "");
	exit(2);
}

static void vec_push(struct vec *a, int64_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		int64_t *p = NULL;

		if (cap <= SIZE_MAX / sizeof *p)
			p = realloc(a->v, cap * sizeof *p);
		if (!p)
			die("out of memory", NULL);
		a->v = p;
		a->cap = cap;
	}
	a->v[a->n++] = x;
}

/* Strict decimal: the whole token, an optional '-', no '+' or spaces. */
static int64_t parse_i64(const char *s)
{
	char *end;
	long long v;

	if (*s != '-' && (*s < '0' || *s > '9'))
		die("not an integer", s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		die("not an integer", s);
	if (errno == ERANGE)
		die("integer out of range", s);
	return v;
}

/* Every whitespace-separated token on stdin, parsed as an integer. */
static void read_stdin(struct vec *a)
{
	char tok[32];
	int c;
	size_t len = 0;

	do {
		c = getchar();
		if (c != EOF && c != ' ' && c != '\n' && c != '\t' &&
		    c != '\r') {
			if (len + 1 == sizeof tok) {
				tok[len] = '\0';
				die("integer too long", tok);
			}
			tok[len++] = (char)c;
		} else if (len > 0) {
			tok[len] = '\0';
			vec_push(a, parse_i64(tok));
			len = 0;
		}
	} while (c != EOF);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* b - a for a <= b, exact: the true difference always fits in uint64. */
static uint64_t gap(int64_t a, int64_t b)
{
	return (uint64_t)b - (uint64_t)a;
}

/*
 * Sort, then walk two indices i < j forward: a gap too small moves j, too
 * large moves i.  On a match both jump past their run of equal values, so
 * each value pair is found once.  Neither index moves back: O(n).
 */
static void pairs_sort(const struct vec *in, uint64_t d, struct vec *out)
{
	int64_t *v = malloc((in->n ? in->n : 1) * sizeof *v);
	size_t i = 0, j = 0, n = in->n;

	if (!v)
		die("out of memory", NULL);
	memcpy(v, in->v, n * sizeof *v);
	keel_sort(v, n, sizeof *v, cmp_i64);
	while (j < n) {
		if (i == j) {
			j++;
		} else if (gap(v[i], v[j]) < d) {
			j++;
		} else if (gap(v[i], v[j]) > d) {
			i++;
		} else {
			vec_push(out, v[i]);
			vec_push(out, v[j]);
			for (int64_t a = v[i]; i < n && v[i] == a;)
				i++;
			for (int64_t b = v[j]; j < n && v[j] == b;)
				j++;
		}
	}
	free(v);
}

/* Open-addressing set of the input values, with a count capped at 2. */
struct slot {
	int64_t key;
	unsigned char count; /* 0: empty slot */
	bool printed;        /* already printed as the smaller value */
};

struct set {
	struct slot *s;
	size_t mask;
};

static size_t hash_i64(int64_t k)
{
	uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15u;

	return (size_t)(h ^ (h >> 32));
}

/* The slot holding `k`, or the empty slot where it belongs. */
static struct slot *set_find(const struct set *t, int64_t k)
{
	size_t i = hash_i64(k) & t->mask;

	while (t->s[i].count && t->s[i].key != k)
		i = (i + 1) & t->mask;
	return &t->s[i];
}

/* A table at least twice the input keeps probe runs short. */
static void set_build(struct set *t, const struct vec *in)
{
	size_t cap = 16;

	while (cap < 2 * in->n)
		cap *= 2;
	t->s = calloc(cap, sizeof *t->s);
	if (!t->s)
		die("out of memory", NULL);
	t->mask = cap - 1;
	for (size_t i = 0; i < in->n; i++) {
		struct slot *s = set_find(t, in->v[i]);

		s->key = in->v[i];
		s->count += s->count < 2;
	}
}

/* For each value a in input order, look up a + d: O(1) expected each. */
static void pairs_hash(const struct vec *in, uint64_t d, struct vec *out)
{
	struct set t;

	set_build(&t, in);
	for (size_t i = 0; i < in->n; i++) {
		int64_t a = in->v[i], b;
		struct slot *sa = set_find(&t, a);

		if (sa->printed || (d == 0 && sa->count < 2))
			continue;
		if (d > (uint64_t)INT64_MAX - (uint64_t)a)
			continue; /* a + d would pass INT64_MAX: no such b */
		b = (int64_t)((uint64_t)a + d);
		if (d == 0 || set_find(&t, b)->count) {
			sa->printed = true;
			vec_push(out, a);
			vec_push(out, b);
		}
	}
	free(t.s);
}

/*
 * Same set of pairs?  `x` is ascending by a (pairs_sort); each a occurs in
 * one pair only, so sorting `y` by a, as whole (a, b) elements, makes equal
 * sets equal arrays.  cmp_i64 looks at the first int64 of an element: a.
 */
static bool same_pairs(const struct vec *x, struct vec *y)
{
	keel_sort(y->v, y->n / 2, 2 * sizeof *y->v, cmp_i64);
	return x->n == y->n &&
	       (x->n == 0 || !memcmp(x->v, y->v, x->n * sizeof *x->v));
}

static void print_pairs(const struct vec *p)
{
	for (size_t i = 0; i < p->n; i += 2)
		printf("%lld %lld\n", (long long)p->v[i],
		       (long long)p->v[i + 1]);
}

int main(int argc, char **argv)
{
	const char *method = "hash";
	struct vec in = {0}, a = {0}, b = {0};
	int i = 1, rc = 0;
	int64_t d;
	uint64_t ad;

	if (i + 1 < argc && !strcmp(argv[i], "-m")) {
		method = argv[i + 1];
		i += 2;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		die("usage: pairs [-m sort|hash|both] D [N ...]", NULL);
	if (strcmp(method, "sort") && strcmp(method, "hash") &&
	    strcmp(method, "both"))
		die("unknown method (sort, hash or both)", method);
	d = parse_i64(argv[i++]);
	ad = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
	for (; i < argc; i++)
		vec_push(&in, parse_i64(argv[i]));
	if (in.n == 0)
		read_stdin(&in);
	if (strcmp(method, "hash"))
		pairs_sort(&in, ad, &a);
	if (strcmp(method, "sort"))
		pairs_hash(&in, ad, &b);
	if (!strcmp(method, "both") && !same_pairs(&a, &b)) {
		fprintf(stderr, "pairs: sort and hash disagree\n");
		rc = 1;
	}
	print_pairs(strcmp(method, "hash") ? &a : &b);
	free(in.v);
	free(a.v);
	free(b.v);
	return rc;
}
