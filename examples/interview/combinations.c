/*
 * combinations - every subset of a list, or every k-subset with -k.
 *
 *   combinations [-k K] [ITEM ...]     (no ITEM: items are read from stdin)
 *
 * One combination per line, its items separated by one space, the empty
 * combination as an empty line.  Order: lexicographic by item positions,
 * e.g. for "a b c":  (empty) / a / a b / a b c / a c / b / b c / c,
 * and with -k 2:  a b / a c / b c.  Items are taken as given: a repeated
 * item is a different position, so "x x" has the subsets "", "x", "x x", "x".
 *
 * Complexity, n items: all subsets are 2^n lines, each up to n items long,
 * so O(n * 2^n) time and output; -k K prints C(n, K) lines in
 * O(K * C(n, K)).  Each step from one combination to the next is O(1)
 * amortised; memory is O(n) besides the input.  Since the output is the
 * cost, a request for more than 2^30 lines is refused (n > 30 without -k).
 * Exit 0, or 2 on bad input with a message on stderr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES (UINT64_C(1) << 30)

/* The items: pointers into argv, or into `buf`, all of stdin. */
struct items {
	char **v;
	size_t n;
	char *buf;
};

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "combinations: %s%s%s\n", msg, arg ? ": " : "",
	        arg ? arg : "");
	exit(2);
}

static void *xmalloc(size_t n, size_t size)
{
	void *p = n < SIZE_MAX / size ? calloc(n * size + 1, 1) : NULL;

	if (!p)
		die("out of memory", NULL);
	return p;
}

/* Strict non-negative decimal for -k. */
static uint64_t parse_k(const char *s)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		die("-k needs a non-negative integer", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		die("-k needs a non-negative integer", s);
	if (errno == ERANGE)
		die("-k out of range", s);
	return v;
}

/* Split all of stdin at whitespace; the tokens point into one buffer. */
static void read_stdin(struct items *it)
{
	size_t len = 0, cap = 4096, got;
	char *buf = xmalloc(cap, 1), *p;

	while ((got = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += got;
		if (len < cap)
			continue;
		p = cap <= SIZE_MAX / 4 ? realloc(buf, 2 * cap + 1) : NULL;
		if (!p)
			die("out of memory", NULL);
		buf = p;
		cap *= 2;
	}
	buf[len] = '\0';
	it->buf = buf;
	it->v = xmalloc(len / 2 + 1, sizeof *it->v);
	for (p = buf; *p;) {
		p += strspn(p, " \t\r\n");
		if (*p) {
			it->v[it->n++] = p;
			p += strcspn(p, " \t\r\n");
			if (*p)
				*p++ = '\0';
		}
	}
}

static void print_comb(const struct items *it, const size_t *idx, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		fputs(it->v[idx[i]], stdout);
		putchar(i + 1 < len ? ' ' : '\n');
	}
	if (len == 0)
		putchar('\n');
}

/*
 * All subsets, lexicographic: from the current index list, extend it by the
 * next position if there is one; otherwise drop the last index and advance
 * the one before it.  Each step prints exactly one new subset.
 */
static void all_subsets(const struct items *it, size_t *idx)
{
	size_t len = 0;

	print_comb(it, idx, 0);
	for (;;) {
		size_t next = len ? idx[len - 1] + 1 : 0;

		if (next < it->n) {
			idx[len++] = next;
		} else if (len <= 1) {
			return; /* "n-1" alone (or n = 0): the last subset */
		} else {
			len--;
			idx[len - 1]++;
		}
		print_comb(it, idx, len);
	}
}

/*
 * k-subsets, lexicographic: start at 0..k-1; to advance, find the rightmost
 * index that can still move right (idx[i] < n - k + i), move it, and reset
 * everything after it to follow on consecutively.
 */
static void k_subsets(const struct items *it, size_t *idx, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		idx[i] = i;
	for (;;) {
		print_comb(it, idx, k);
		for (i = k; i > 0 && idx[i - 1] == it->n - k + i - 1; i--)
			;
		if (i == 0)
			return;
		idx[i - 1]++;
		for (; i < k; i++)
			idx[i] = idx[i - 1] + 1;
	}
}

/* C(n, k), or UINT64_MAX once it passes MAX_LINES (no overflow on the way). */
static uint64_t count_k(uint64_t n, uint64_t k)
{
	uint64_t c = 1;

	if (k > n - k)
		k = n - k;
	for (uint64_t i = 1; i <= k; i++) {
		if (n - k + i > UINT64_MAX / c)
			return UINT64_MAX;
		c = c * (n - k + i) / i; /* exact: C(n-k+i, i) at each step */
		if (c > MAX_LINES)
			return UINT64_MAX;
	}
	return c;
}

int main(int argc, char **argv)
{
	struct items it = {0};
	uint64_t k = UINT64_MAX; /* no -k: all subsets */
	int i = 1;
	size_t *idx;

	if (i + 1 < argc && !strcmp(argv[i], "-k")) {
		k = parse_k(argv[i + 1]);
		i += 2;
	} else if (i < argc && !strcmp(argv[i], "-k")) {
		die("-k needs a value", NULL);
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i < argc) {
		it.v = argv + i;
		it.n = (size_t)(argc - i);
	} else {
		read_stdin(&it);
	}
	if (k == UINT64_MAX && it.n > 30)
		die("more than 30 items: 2^n lines is too many", NULL);
	if (k != UINT64_MAX && k <= it.n && count_k(it.n, k) == UINT64_MAX)
		die("more than 2^30 combinations", NULL);
	idx = xmalloc(it.n + 1, sizeof *idx);
	if (k == UINT64_MAX)
		all_subsets(&it, idx);
	else if (k <= it.n) /* no k-subset of fewer than k items */
		k_subsets(&it, idx, (size_t)k);
	free(idx);
	if (it.buf) {
		free(it.buf);
		free(it.v);
	}
	return 0;
}
