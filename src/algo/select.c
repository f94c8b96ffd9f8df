/*
 * Introselect and nearest-rank percentiles (see keel/select.h).
 *
 * select_range() is quickselect with a median-of-three pivot and a
 * three-way partition, so runs of equal keys end the search as soon as k
 * falls among them.  It watches progress: every two partitions must shrink
 * the range to 3/4 of its size, and when they do not (an adversarial or
 * unlucky input) the next pivot is a median of medians, which keeps at most
 * about 7/10 of the range.  Each such window of at most three partitions
 * therefore costs O(size) and shrinks the range by a constant factor, so
 * the total work is O(n) in the worst case, while random inputs almost
 * never pay for the slower pivot.
 */
#include <stdbool.h>
#include <string.h>

#include "keel/select.h"

/* Ranges up to this length are finished by insertion sort. */
#define SMALL   16
/* Percentiles are resolved to a millionth of a percent. */
#define P_SCALE 1000000u

typedef int (*cmp_fn)(const void *, const void *);

struct selector {
	size_t size;
	cmp_fn cmp;
};

/* Exchanges two elements through registers; 8-byte elements (the u64
 * percentiles) are the common case and take a single move each way. */
static void swap(const struct selector *s, char *a, char *b)
{
	size_t n = s->size;
	for (; n >= 8; n -= 8, a += 8, b += 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(a, &y, 8);
		memcpy(b, &x, 8);
	}
	for (; n > 0; n--, a++, b++) {
		char t = *a;
		*a = *b;
		*b = t;
	}
}

/* Orders a short range; also sorts the groups of five for the medians. */
static void insertion_sort(const struct selector *s, char *base, size_t n)
{
	size_t sz = s->size;
	for (size_t i = 1; i < n; i++)
		for (char *p = base + i * sz; p > base && s->cmp(p, p - sz) < 0;
		     p -= sz)
			swap(s, p, p - sz);
}

/* Median of the first, middle and last elements: cheap, and exact on
 * sorted or reversed ranges, where the first element would be the worst. */
static char *median3(const struct selector *s, char *base, size_t n)
{
	char *a = base, *b = base + n / 2 * s->size;
	char *c = base + (n - 1) * s->size;
	if (s->cmp(b, a) < 0) {
		char *t = a;
		a = b;
		b = t;
	}
	if (s->cmp(c, b) < 0)
		b = s->cmp(c, a) < 0 ? a : c;
	return b;
}

/*
 * Dijkstra's three-way partition around the pivot at base[0]: afterwards
 * [0, *lt) is smaller, [*lt, *gt) equal and [*gt, n) greater.  The equal
 * part is never empty and base[*lt] always belongs to it, so it serves as
 * the pivot while elements move.
 */
static void partition3(const struct selector *s, char *base, size_t n,
                       size_t *lt, size_t *gt)
{
	size_t sz = s->size, l = 0, i = 1, g = n;
	while (i < g) {
		int c = s->cmp(base + i * sz, base + l * sz);
		if (c < 0) {
			swap(s, base + l * sz, base + i * sz);
			l++;
			i++;
		} else if (c > 0) {
			g--;
			swap(s, base + i * sz, base + g * sz);
		} else {
			i++;
		}
	}
	*lt = l;
	*gt = g;
}

static void select_range(const struct selector *s, char *base, size_t n,
                         size_t k);

/*
 * Median of medians, in place: sorts each group of five, moves the group
 * medians to the front and selects their median recursively.  At least
 * about 3/10 of the range is then on each side of it.  Returns its index.
 */
static size_t mom_pivot(const struct selector *s, char *base, size_t n)
{
	size_t sz = s->size, groups = n / 5;
	for (size_t g = 0; g < groups; g++) {
		char *group = base + 5 * g * sz;
		insertion_sort(s, group, 5);
		swap(s, base + g * sz, group + 2 * sz);
	}
	select_range(s, base, groups, groups / 2);
	return groups / 2;
}

/* The introselect loop: narrows [base, base + n) to the part holding k;
 * `mark` is the size at the start of the current two-partition window. */
static void select_range(const struct selector *s, char *base, size_t n,
                         size_t k)
{
	size_t sz = s->size, mark = n, lt, gt;
	unsigned rounds = 0;
	while (n > SMALL) {
		bool mom = false;
		if (++rounds > 2) {
			mom = n > mark - mark / 4;
			mark = n;
			rounds = 1;
		}
		char *pivot = mom ? base + mom_pivot(s, base, n) * sz
		                  : median3(s, base, n);
		swap(s, base, pivot);
		partition3(s, base, n, &lt, &gt);
		if (k < lt) {
			n = lt;
		} else if (k >= gt) {
			base += gt * sz;
			n -= gt;
			k -= gt;
		} else {
			return;
		}
	}
	insertion_sort(s, base, n);
}

int keel_select(void *base, size_t n, size_t size, size_t k,
                int (*cmp)(const void *, const void *))
{
	if (base == NULL || cmp == NULL || size == 0 || k >= n)
		return KEEL_EINVAL;
	struct selector s = {.size = size, .cmp = cmp};
	select_range(&s, base, n, k);
	return KEEL_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Nearest rank ceil(p/100 * n), at least 1, in exact integer arithmetic:
 * p becomes a count of millionths of a percent first, so that 99.9 means
 * exactly 999/1000 and not the binary fraction just above it.
 */
static size_t nearest_rank(size_t n, double p)
{
	const uint64_t whole = 100u * (uint64_t)P_SCALE;
	uint64_t pm = (uint64_t)(p * P_SCALE + 0.5);
	uint64_t rank = n / whole * pm + (n % whole * pm + whole - 1) / whole;
	return rank == 0 ? 1 : (size_t)rank;
}

int keel_percentile_u64(uint64_t *v, size_t n, double p, uint64_t *out)
{
	if (v == NULL || out == NULL || n == 0 || !(p >= 0.0 && p <= 100.0))
		return KEEL_EINVAL;
	size_t k = nearest_rank(n, p) - 1;
	int rc = keel_select(v, n, sizeof(*v), k, cmp_u64);
	if (rc == KEEL_OK)
		*out = v[k];
	return rc;
}

int keel_median_u64(uint64_t *v, size_t n, uint64_t *out)
{
	return keel_percentile_u64(v, n, 50.0, out);
}
