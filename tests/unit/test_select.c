/*
 * keel_select and the percentile helpers: results checked against a full
 * sort on many input shapes and element sizes, a linear bound on the
 * comparisons an adversarial comparator can force, and the nearest-rank
 * edge cases (empty input, p = 0, p = 100, out-of-range and NaN p).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/select.h"

static uint64_t sel_rng;

static uint32_t sel_rand(void)
{
	sel_rng ^= sel_rng << 13;
	sel_rng ^= sel_rng >> 7;
	sel_rng ^= sel_rng << 17;
	return (uint32_t)(sel_rng >> 16);
}

/* Element size for the comparators; the key is the first min(size, 4)
 * bytes, and from 8 bytes up the next 4 hold the element's input index. */
static size_t sel_esz;

static uint32_t sel_key(const void *e)
{
	uint32_t k = 0;
	memcpy(&k, e, sel_esz < 4 ? sel_esz : 4);
	return k;
}

static int sel_cmp(const void *a, const void *b)
{
	uint32_t x = sel_key(a), y = sel_key(b);
	return (x > y) - (x < y);
}

static int sel_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int sel_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* McIlroy-style adversary (see test_sort.c): values are decided lazily so
 * that each pivot turns out as bad as possible.  keel_select takes no
 * context pointer, hence the file-scope state. */
static struct {
	uint32_t *val;
	uint32_t gas, nsolid, candidate;
	size_t calls, limit;
} adv;

static int adv_cmp(const void *a, const void *b)
{
	uint32_t x, y;
	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	if (++adv.calls > adv.limit)
		cr_assert_fail("more than %zu comparisons: not linear",
		               adv.limit);
	if (adv.val[x] == adv.gas && adv.val[y] == adv.gas)
		adv.val[x == adv.candidate ? x : y] = adv.nsolid++;
	if (adv.val[x] == adv.gas)
		adv.candidate = x;
	else if (adv.val[y] == adv.gas)
		adv.candidate = y;
	return (adv.val[x] > adv.val[y]) - (adv.val[x] < adv.val[y]);
}

/* Selects rank k of ids 0..n-1 against the adversary, fills `val` with the
 * input it built and returns the comparisons made (at most 40 n). */
static size_t run_adversary(size_t n, size_t k, uint32_t *val)
{
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	cr_assert_not_null(ids);
	adv.val = val;
	adv.gas = (uint32_t)n;
	adv.nsolid = adv.candidate = 0;
	adv.calls = 0;
	adv.limit = 40 * n + 1000;
	for (uint32_t i = 0; i < n; i++) {
		val[i] = adv.gas;
		ids[i] = i;
	}
	cr_assert_eq(keel_select(ids, n, sizeof(*ids), k, adv_cmp), 0);
	for (size_t i = 0; i < n; i++)
		if (val[i] == adv.gas)
			val[i] = adv.nsolid++;
	free(ids);
	return adv.calls;
}

enum sel_pattern {
	SP_RANDOM,
	SP_SORTED,
	SP_REVERSED,
	SP_EQUAL,
	SP_FEW,
	SP_ORGAN,
	SP_SAW,
	SP_KILLER,
	SP_COUNT
};

static void sel_keys(enum sel_pattern p, size_t n, uint32_t *keys)
{
	if (p == SP_KILLER) {
		run_adversary(n, n / 2, keys);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t r = sel_rand(), k = (uint32_t)i;
		switch (p) {
		case SP_RANDOM: k = r; break;
		case SP_SORTED: break;
		case SP_REVERSED: k = (uint32_t)(n - i); break;
		case SP_EQUAL: k = 9; break;
		case SP_FEW: k = r % 3; break;
		case SP_ORGAN: k = (uint32_t)(i < n / 2 ? i : n - i); break;
		default: k = (uint32_t)(i % 29); break;
		}
		keys[i] = k;
	}
}

/* Builds elements from keys; sizes from 8 up carry their input index. */
static unsigned char *sel_elems(const uint32_t *keys, size_t n, size_t esz)
{
	unsigned char *a = calloc(n + 1, esz);
	cr_assert_not_null(a);
	for (uint32_t i = 0; i < n; i++) {
		memcpy(a + i * esz, &keys[i], esz < 4 ? esz : 4);
		if (esz >= 8)
			memcpy(a + i * esz + 4, &i, 4);
	}
	return a;
}

/*
 * After selecting k: the key at k is the sorted key at k, nothing before
 * is greater, nothing after is smaller, and the multiset of keys (and of
 * indexes, where present) is unchanged.  Returns NULL or the reason.
 */
static const char *check_selected(const unsigned char *a, size_t n, size_t esz,
                                  size_t k, const uint32_t *sorted)
{
	uint32_t kth = sel_key(a + k * esz);
	uint32_t *got = malloc((n + 1) * sizeof(*got));
	cr_assert_not_null(got);
	const char *why = kth == sorted[k] ? NULL : "wrong element at k";
	for (size_t i = 0; i < n && why == NULL; i++) {
		uint32_t key = sel_key(a + i * esz);
		if ((i < k && key > kth) || (i > k && key < kth))
			why = "element on the wrong side of k";
		got[i] = key;
	}
	qsort(got, n, sizeof(*got), sel_cmp_u32);
	if (why == NULL && memcmp(got, sorted, n * sizeof(*got)) != 0)
		why = "keys are not a permutation of the input";
	for (size_t i = 0; esz >= 8 && i < n && why == NULL; i++) {
		memcpy(&got[i], a + i * esz + 4, 4);
		if (got[i] >= n)
			why = "element index corrupted";
	}
	qsort(got, n, sizeof(*got), sel_cmp_u32);
	for (size_t i = 0; esz >= 8 && i < n && why == NULL; i++)
		if (got[i] != i)
			why = "elements lost or duplicated";
	free(got);
	return why;
}

/* keys truncated to the element's key width, then sorted: the reference. */
static void sel_reference(const uint32_t *keys, size_t n, size_t esz,
                          uint32_t *sorted)
{
	unsigned char *a = sel_elems(keys, n, esz);
	for (size_t i = 0; i < n; i++)
		sorted[i] = sel_key(a + i * esz);
	qsort(sorted, n, sizeof(*sorted), sel_cmp_u32);
	free(a);
}

static void check_ranks(const uint32_t *keys, size_t n, size_t esz,
                        const char *name)
{
	uint32_t *sorted = malloc((n + 1) * sizeof(*sorted));
	cr_assert_not_null(sorted);
	sel_esz = esz;
	sel_reference(keys, n, esz, sorted);
	size_t ks[] = {0, 1, n / 4, n / 2, n - 2, n - 1, sel_rand() % n};
	for (size_t j = 0; j < KEEL_COUNTOF(ks); j++) {
		size_t k = ks[j] < n ? ks[j] : n - 1;
		unsigned char *a = sel_elems(keys, n, esz);
		cr_assert_eq(keel_select(a, n, esz, k, sel_cmp), 0);
		const char *why = check_selected(a, n, esz, k, sorted);
		cr_assert_null(why, "%s n=%zu size=%zu k=%zu: %s", name, n, esz,
		               k, why);
		free(a);
	}
	free(sorted);
}

Test(select, matches_sorting_on_every_input_shape)
{
	static const char *const names[] = {"random",   "sorted", "reversed",
	                                    "equal",    "few",    "organ",
	                                    "sawtooth", "killer"};
	static const size_t counts[] = {1,  2,  3,  4,   5,    6,    7,    15,
	                                16, 17, 31, 100, 1000, 4099, 20011};
	static const size_t sizes[] = {1, 4, 8, 12, 24};
	uint32_t *keys = malloc(20011 * sizeof(*keys));
	cr_assert_not_null(keys);
	sel_rng = 0x9e3779b97f4a7c15u;
	for (int p = 0; p < SP_COUNT; p++)
		for (size_t c = 0; c < KEEL_COUNTOF(counts); c++) {
			sel_keys((enum sel_pattern)p, counts[c], keys);
			for (size_t s = 0; s < KEEL_COUNTOF(sizes); s++)
				check_ranks(keys, counts[c], sizes[s],
				            names[p]);
		}
	free(keys);
}

/* Quickselect alone would take a quadratic number of comparisons against
 * the adversary; the median-of-medians fallback keeps it linear, for
 * every k, and replaying the built input costs the same again. */
Test(select, adversary_cannot_force_more_than_linear_work)
{
	static const size_t counts[] = {1000, 10000, 100000};
	uint32_t *val = malloc(100000 * sizeof(*val));
	cr_assert_not_null(val);
	for (size_t c = 0; c < KEEL_COUNTOF(counts); c++) {
		size_t n = counts[c];
		size_t ks[] = {0, n / 10, n / 2, n - 1};
		for (size_t j = 0; j < KEEL_COUNTOF(ks); j++) {
			size_t calls = run_adversary(n, ks[j], val);
			cr_assert_leq(calls, 12 * n, "n=%zu k=%zu: %zu calls",
			              n, ks[j], calls);
			sel_esz = 4;
			cr_assert_eq(keel_select(val, n, 4, ks[j], sel_cmp), 0);
			cr_assert_eq(val[ks[j]], ks[j]);
		}
	}
	free(val);
}

static size_t sel_calls;

static int sel_cmp_counted(const void *a, const void *b)
{
	sel_calls++;
	return sel_cmp_u32(a, b);
}

/* Expected cost of quickselect with median-of-three pivots is under 3n
 * comparisons for the median; a sort would need about 17n here. */
Test(select, random_median_takes_linear_comparisons)
{
	size_t n = 100000;
	uint32_t *v = malloc(n * sizeof(*v));
	cr_assert_not_null(v);
	sel_rng = 5;
	for (int rep = 0; rep < 5; rep++) {
		for (size_t i = 0; i < n; i++)
			v[i] = sel_rand();
		sel_calls = 0;
		cr_assert_eq(keel_select(v, n, 4, n / 2, sel_cmp_counted), 0);
		cr_assert_leq(sel_calls, 4 * n, "%zu comparisons", sel_calls);
	}
	free(v);
}

Test(select, bad_arguments_are_refused_and_change_nothing)
{
	uint32_t v[4] = {4, 3, 2, 1};
	sel_esz = 4;
	cr_assert_eq(keel_select(v, 4, 4, 4, sel_cmp), KEEL_EINVAL);
	cr_assert_eq(keel_select(v, 0, 4, 0, sel_cmp), KEEL_EINVAL);
	cr_assert_eq(keel_select(NULL, 4, 4, 0, sel_cmp), KEEL_EINVAL);
	cr_assert_eq(keel_select(v, 4, 4, 0, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_select(v, 4, 0, 0, sel_cmp), KEEL_EINVAL);
	cr_assert(v[0] == 4 && v[1] == 3 && v[2] == 2 && v[3] == 1);
	cr_assert_eq(keel_select(v, 1, 4, 0, sel_cmp), 0);
	cr_assert_eq(v[0], 4);
}

/* Reference nearest rank for p given in thousandths of a percent. */
static uint64_t ref_percentile(const uint64_t *sorted, size_t n, uint64_t pt)
{
	uint64_t rank = (pt * n + 99999) / 100000;
	return sorted[rank == 0 ? 0 : rank - 1];
}

Test(select, percentile_matches_nearest_rank_reference)
{
	sel_rng = 21;
	for (size_t n = 1; n <= 2000; n = n * 3 + 1) {
		uint64_t *v = malloc(n * sizeof(*v));
		uint64_t *sorted = malloc(n * sizeof(*sorted));
		cr_assert(v != NULL && sorted != NULL);
		for (size_t i = 0; i < n; i++)
			sorted[i] =
			        (uint64_t)sel_rand() << 20 | sel_rand() % 50;
		qsort(sorted, n, sizeof(*sorted), sel_cmp_u64);
		for (uint64_t pt = 0; pt <= 100000; pt += 997) {
			uint64_t got = 1;
			memcpy(v, sorted, n * sizeof(*v));
			for (size_t i = n; i > 1; i--) { /* shuffle */
				size_t j = sel_rand() % i;
				uint64_t t = v[i - 1];
				v[i - 1] = v[j];
				v[j] = t;
			}
			double p = (double)pt / 1000.0;
			cr_assert_eq(keel_percentile_u64(v, n, p, &got), 0);
			cr_assert_eq(got, ref_percentile(sorted, n, pt),
			             "n=%zu p=%g", n, p);
		}
		free(v);
		free(sorted);
	}
}

static uint64_t pct(const uint64_t *in, size_t n, double p)
{
	uint64_t v[1000], out = 0;
	cr_assert_leq(n, KEEL_COUNTOF(v));
	memcpy(v, in, n * sizeof(*v));
	cr_assert_eq(keel_percentile_u64(v, n, p, &out), 0, "p=%g", p);
	return out;
}

Test(select, percentile_edges_follow_the_documented_rule)
{
	uint64_t four[] = {4, 1, 3, 2};
	cr_assert_eq(pct(four, 4, 0), 1);
	cr_assert_eq(pct(four, 4, 25), 1);
	cr_assert_eq(pct(four, 4, 25.001), 2);
	cr_assert_eq(pct(four, 4, 50), 2);
	cr_assert_eq(pct(four, 4, 75), 3);
	cr_assert_eq(pct(four, 4, 76), 4);
	cr_assert_eq(pct(four, 4, 100), 4);
	uint64_t big[1000];
	for (size_t i = 0; i < 1000; i++)
		big[i] = 1000 - i;            /* 1000 .. 1 */
	cr_assert_eq(pct(big, 100, 99), 999); /* values 1000..901 */
	cr_assert_eq(pct(big, 1000, 99.9), 999);
	cr_assert_eq(pct(big, 1000, 99.95), 1000);
	cr_assert_eq(pct(big, 1000, 0.1), 1);
	cr_assert_eq(pct(big, 1000, 0.15), 2);
	cr_assert_eq(pct(big, 1000, 0.0), 1);
	uint64_t one = 77;
	cr_assert_eq(pct(&one, 1, 0), 77);
	cr_assert_eq(pct(&one, 1, 100), 77);
	uint64_t extreme[] = {UINT64_MAX, 0, UINT64_MAX - 1, 1};
	cr_assert_eq(pct(extreme, 4, 50), 1);
	cr_assert_eq(pct(extreme, 4, 75), UINT64_MAX - 1);
	cr_assert_eq(pct(extreme, 4, 100), UINT64_MAX);
}

Test(select, percentile_refuses_bad_input)
{
	uint64_t v[3] = {3, 1, 2}, out = 12345;
	double bad[] = {-0.001, 100.001, -INFINITY, INFINITY, NAN, 1e300};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_assert_eq(keel_percentile_u64(v, 3, bad[i], &out),
		             KEEL_EINVAL, "p=%g", bad[i]);
	cr_assert_eq(keel_percentile_u64(v, 0, 50, &out), KEEL_EINVAL);
	cr_assert_eq(keel_percentile_u64(NULL, 3, 50, &out), KEEL_EINVAL);
	cr_assert_eq(keel_percentile_u64(v, 3, 50, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_median_u64(v, 0, &out), KEEL_EINVAL);
	cr_assert_eq(keel_median_u64(NULL, 3, &out), KEEL_EINVAL);
	cr_assert_eq(keel_median_u64(v, 3, NULL), KEEL_EINVAL);
	cr_assert_eq(out, 12345);
	cr_assert(v[0] == 3 && v[1] == 1 && v[2] == 2);
}

Test(select, median_is_the_lower_middle_value)
{
	uint64_t odd[] = {9, 1, 5, 7, 3}, even[] = {8, 2, 6, 4}, out = 0;
	uint64_t dup[] = {5, 5, 1, 5, 9, 5};
	cr_assert_eq(keel_median_u64(odd, 5, &out), 0);
	cr_assert_eq(out, 5);
	cr_assert_eq(keel_median_u64(even, 4, &out), 0);
	cr_assert_eq(out, 4);
	cr_assert_eq(keel_median_u64(dup, 6, &out), 0);
	cr_assert_eq(out, 5);
	cr_assert_eq(keel_median_u64(odd, 1, &out), 0);
	cr_assert_eq(out, odd[0]);
}
