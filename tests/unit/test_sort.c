/*
 * keel_sort / keel_sort_r: property tests against qsort(3) on many input
 * shapes, sizes and element sizes, plus comparison-count bounds that only
 * hold when the heapsort fallback, the equal-key pass and the sorted-range
 * check work.  The hardest input is built by McIlroy's "killer adversary"
 * idea: a comparator that decides element values lazily, during the sort,
 * so as to make every pivot as bad as possible.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/sort.h"

enum pattern {
	PAT_RANDOM,
	PAT_SORTED,
	PAT_REVERSED,
	PAT_EQUAL,
	PAT_FEW,
	PAT_ORGAN,
	PAT_SAW,
	PAT_KILLER,
};

static const char *const pattern_names[] = {
        "random", "sorted", "reversed", "equal",
        "few",    "organ",  "sawtooth", "killer",
};

static const size_t elem_sizes[] = {1, 3, 4, 8, 12, 16, 64};

static const size_t big_counts[] = {63,   64,   65,   100,   127,   128,
                                    129,  200,  255,  256,   257,   500,
                                    1000, 1023, 4096, 10007, 100000};

static uint64_t rng_state;

/* Small deterministic generator; each test seeds it, so runs repeat. */
static uint32_t next_rand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Element size seen by the qsort-style comparators below. */
static size_t g_esz;

/* Keys are the first min(esz, 4) bytes of an element; the rest is payload
 * that tells equal-keyed elements apart for the permutation check. */
static uint32_t key_of(const void *e, size_t esz)
{
	uint32_t k = 0;
	memcpy(&k, e, esz < 4 ? esz : 4);
	return k;
}

static int cmp_key(const void *a, const void *b)
{
	uint32_t x = key_of(a, g_esz), y = key_of(b, g_esz);
	return (x > y) - (x < y);
}

/* McIlroy-style adversary: values start as "gas" (above every solid value)
 * and are frozen to the next solid value only when a comparison forces it. */
struct adversary {
	uint32_t *val;
	uint32_t gas, nsolid;
	uint32_t candidate;
	size_t calls, limit;
};

static uint32_t elem_id(const void *e)
{
	uint32_t id;
	memcpy(&id, e, sizeof(id));
	return id;
}

static int adversary_cmp(const void *a, const void *b, void *ctx)
{
	struct adversary *adv = ctx;
	uint32_t x = elem_id(a), y = elem_id(b);
	if (++adv->calls > adv->limit)
		cr_assert_fail("more than %zu comparisons: no O(n log n) bound",
		               adv->limit);
	if (adv->val[x] == adv->gas && adv->val[y] == adv->gas)
		adv->val[x == adv->candidate ? x : y] = adv->nsolid++;
	if (adv->val[x] == adv->gas)
		adv->candidate = x;
	else if (adv->val[y] == adv->gas)
		adv->candidate = y;
	return (adv->val[x] > adv->val[y]) - (adv->val[x] < adv->val[y]);
}

static double n_log2_n(size_t n)
{
	return n < 2 ? 0.0 : (double)n * log2((double)n);
}

/* Bound used in the tests: the quicksort phase may spend up to 2 log2 n
 * partitions (about n comparisons each), heapsort about 2 n log2 n more. */
static size_t killer_bound(size_t n)
{
	return (size_t)(5.0 * n_log2_n(n)) + 16 * n;
}

/* Sorts ids 0..n-1 against the adversary; `val` receives the input that
 * replays the same comparisons.  Returns the comparator calls made; fails
 * the test as soon as they exceed killer_bound(n), so that a sort without
 * a worst-case bound fails quickly instead of running for hours. */
static size_t run_adversary(size_t n, size_t esz, uint32_t *val)
{
	unsigned char *a = calloc(n + 1, esz);
	cr_assert_not_null(a);
	struct adversary adv = {
	        .val = val, .gas = (uint32_t)n, .limit = killer_bound(n)};
	for (uint32_t i = 0; i < n; i++) {
		val[i] = adv.gas;
		memcpy(a + i * esz, &i, sizeof(i));
	}
	keel_sort_r(a, n, esz, adversary_cmp, &adv);
	for (size_t i = 0; i < n; i++)
		if (val[i] == adv.gas)
			val[i] = adv.nsolid++;
	free(a);
	return adv.calls;
}

static void make_keys(enum pattern p, size_t n, uint32_t *keys)
{
	if (p == PAT_KILLER) {
		run_adversary(n, 4, keys);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t r = next_rand(), k = (uint32_t)i;
		switch (p) {
		case PAT_RANDOM: k = r; break;
		case PAT_SORTED: break;
		case PAT_REVERSED: k = (uint32_t)(n - i); break;
		case PAT_EQUAL: k = 42; break;
		case PAT_FEW: k = r % 4; break;
		case PAT_ORGAN: k = (uint32_t)(i < n / 2 ? i : n - i); break;
		default: k = (uint32_t)(i % 37); break;
		}
		keys[i] = k;
	}
}

/*
 * Builds n elements of esz bytes from the keys.  From 8 bytes up an element
 * also carries its input index (bytes 4..7) and filler derived from it, so
 * that the output can be checked to be a permutation in linear time.
 */
static unsigned char *make_elems(const uint32_t *keys, size_t n, size_t esz)
{
	unsigned char *a = malloc(n * esz + 1);
	cr_assert_not_null(a);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *e = a + i * esz;
		memcpy(e, &keys[i], esz < 4 ? esz : 4);
		if (esz >= 8)
			memcpy(e + 4, &i, 4);
		for (size_t j = 8; j < esz; j++)
			e[j] = (unsigned char)(i * 131 + j);
	}
	return a;
}

/* Each input index appears once, with its own key and intact filler. */
static bool is_permutation(const unsigned char *a, const uint32_t *keys,
                           size_t n, size_t esz)
{
	bool ok = true, *seen = calloc(n + 1, sizeof(*seen));
	cr_assert_not_null(seen);
	for (size_t i = 0; i < n && ok; i++) {
		const unsigned char *e = a + i * esz;
		uint32_t idx = elem_id(e + 4);
		ok = idx < n && !seen[idx] &&
		     key_of(e, esz) == key_of(&keys[idx], 4);
		for (size_t j = 8; j < esz && ok; j++)
			ok = e[j] == (unsigned char)(idx * 131 + j);
		if (ok)
			seen[idx] = true;
	}
	free(seen);
	return ok;
}

/* keel_sort must give qsort's key sequence and a permutation of its input
 * (for elements under 8 bytes the key is the whole element, so equal key
 * sequences are equal multisets); returns NULL or a short reason. */
static const char *sort_matches_qsort(const uint32_t *keys, size_t n,
                                      size_t esz)
{
	const char *why = NULL;
	unsigned char *a = make_elems(keys, n, esz);
	unsigned char *b = make_elems(keys, n, esz);
	g_esz = esz;
	keel_sort(a, n, esz, cmp_key);
	qsort(b, n, esz, cmp_key);
	for (size_t i = 0; i < n && why == NULL; i++)
		if (key_of(a + i * esz, esz) != key_of(b + i * esz, esz))
			why = "keys differ from qsort";
	if (why == NULL && esz >= 8 && !is_permutation(a, keys, n, esz))
		why = "not a permutation of the input";
	free(a);
	free(b);
	return why;
}

/* Every count 0..40 and a spread up to 1e5, for every element size. */
static void check_pattern(enum pattern p)
{
	size_t max = 100000;
	uint32_t *keys = malloc(max * sizeof(*keys));
	cr_assert_not_null(keys);
	rng_state = 0x2545f4914f6cdd1du + (uint64_t)p;
	for (size_t c = 0; c <= 40 + KEEL_COUNTOF(big_counts); c++) {
		size_t n = c <= 40 ? c : big_counts[c - 41];
		make_keys(p, n, keys);
		for (size_t e = 0; e < KEEL_COUNTOF(elem_sizes); e++) {
			const char *why =
			        sort_matches_qsort(keys, n, elem_sizes[e]);
			cr_assert_null(why, "%s input, n=%zu, size=%zu: %s",
			               pattern_names[p], n, elem_sizes[e], why);
		}
	}
	free(keys);
}

Test(sort, random_input_matches_qsort)
{
	check_pattern(PAT_RANDOM);
}

Test(sort, sorted_input_matches_qsort)
{
	check_pattern(PAT_SORTED);
}

Test(sort, reversed_input_matches_qsort)
{
	check_pattern(PAT_REVERSED);
}

Test(sort, all_equal_input_matches_qsort)
{
	check_pattern(PAT_EQUAL);
}

Test(sort, few_distinct_input_matches_qsort)
{
	check_pattern(PAT_FEW);
}

Test(sort, organ_pipe_input_matches_qsort)
{
	check_pattern(PAT_ORGAN);
}

Test(sort, sawtooth_input_matches_qsort)
{
	check_pattern(PAT_SAW);
}

Test(sort, killer_input_matches_qsort)
{
	check_pattern(PAT_KILLER);
}

/* Counting comparator for keel_sort_r over uint32 keys. */
static int cmp_count(const void *a, const void *b, void *ctx)
{
	uint32_t x, y;
	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	++*(size_t *)ctx;
	return (x > y) - (x < y);
}

/* Without the heapsort fallback the adversary forces a quadratic number of
 * comparisons; with it the count stays below killer_bound (measured: about
 * 3.8 n log2 n), and replaying the input it built costs exactly as many. */
Test(sort, killer_adversary_stays_within_n_log_n)
{
	static const size_t counts[] = {1000, 10000, 100000};
	static const size_t sizes[] = {4, 12, 64};
	uint32_t *val = malloc(100000 * sizeof(*val));
	cr_assert_not_null(val);
	for (size_t c = 0; c < KEEL_COUNTOF(counts); c++) {
		size_t n = counts[c];
		for (size_t s = 0; s < KEEL_COUNTOF(sizes); s++) {
			size_t calls = run_adversary(n, sizes[s], val);
			cr_assert_leq(calls, killer_bound(n),
			              "n=%zu size=%zu: %zu comparisons", n,
			              sizes[s], calls);
			size_t replay = 0;
			keel_sort_r(val, n, 4, cmp_count, &replay);
			cr_assert_eq(replay, calls, "n=%zu replay %zu vs %zu",
			             n, replay, calls);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(val[i], i);
		}
	}
	free(val);
}

/* The killer input really is harder than random data: a sort that merely
 * ignored it would not exercise the fallback at all. */
Test(sort, killer_adversary_costs_more_than_random)
{
	size_t n = 100000, random_calls = 0;
	uint32_t *val = malloc(n * sizeof(*val));
	cr_assert_not_null(val);
	size_t killer_calls = run_adversary(n, 4, val);
	rng_state = 7;
	for (size_t i = 0; i < n; i++)
		val[i] = next_rand();
	keel_sort_r(val, n, 4, cmp_count, &random_calls);
	cr_assert_gt(killer_calls, random_calls * 3 / 2,
	             "killer %zu random %zu", killer_calls, random_calls);
	free(val);
}

static size_t count_sort(uint32_t *v, size_t n)
{
	size_t calls = 0;
	keel_sort_r(v, n, sizeof(*v), cmp_count, &calls);
	for (size_t i = 1; i < n; i++)
		cr_assert_leq(v[i - 1], v[i], "unsorted at %zu", i);
	return calls;
}

/* Sorted, reversed and all-equal inputs are recognised in linear time. */
Test(sort, presorted_and_equal_inputs_take_linear_comparisons)
{
	size_t n = 100000;
	uint32_t *v = malloc(n * sizeof(*v));
	cr_assert_not_null(v);
	for (int p = PAT_SORTED; p <= PAT_EQUAL; p++) {
		make_keys((enum pattern)p, n, v);
		size_t calls = count_sort(v, n);
		cr_assert_leq(calls, 3 * n, "%s: %zu comparisons",
		              pattern_names[p], calls);
	}
	/* Two keys: the pass that skips keys equal to the previous pivot
	 * keeps this near 3n; without it the count is about 12n. */
	rng_state = 11;
	for (size_t i = 0; i < n; i++)
		v[i] = next_rand() % 2;
	size_t calls = count_sort(v, n);
	cr_assert_leq(calls, 5 * n, "two keys: %zu comparisons", calls);
	free(v);
}

/* Random input needs close to the information-theoretic n log2 n. */
Test(sort, random_input_takes_about_n_log_n_comparisons)
{
	size_t n = 100000;
	uint32_t *v = malloc(n * sizeof(*v));
	cr_assert_not_null(v);
	rng_state = 3;
	make_keys(PAT_RANDOM, n, v);
	size_t calls = count_sort(v, n);
	cr_assert_leq((double)calls, 1.3 * n_log2_n(n), "%zu comparisons",
	              calls);
	free(v);
}

struct bounds {
	const char *base;
	size_t n, size, calls;
};

/* Fails the test if the sort hands the comparator anything but whole
 * elements of its array. */
static int cmp_in_bounds(const void *a, const void *b, void *ctx)
{
	struct bounds *bd = ctx;
	const void *p[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		const char *c = p[i];
		cr_assert(c >= bd->base && c < bd->base + bd->n * bd->size);
		cr_assert_eq((size_t)(c - bd->base) % bd->size, 0);
	}
	bd->calls++;
	g_esz = bd->size;
	return cmp_key(a, b);
}

Test(sort, comparator_only_sees_elements_of_the_array)
{
	static const size_t sizes[] = {1, 12, 64};
	size_t n = 5000;
	uint32_t keys[5000];
	for (int p = PAT_RANDOM; p <= PAT_KILLER; p++) {
		rng_state = 5;
		make_keys((enum pattern)p, n, keys);
		for (size_t s = 0; s < KEEL_COUNTOF(sizes); s++) {
			unsigned char *a = make_elems(keys, n, sizes[s]);
			struct bounds bd = {(char *)a, n, sizes[s], 0};
			keel_sort_r(a, n, sizes[s], cmp_in_bounds, &bd);
			cr_assert_gt(bd.calls, 0);
			free(a);
		}
	}
}

static int cmp_desc_ctx(const void *a, const void *b, void *ctx)
{
	int x = *(const int *)a, y = *(const int *)b;
	int dir = *(const int *)ctx;
	return dir * ((x > y) - (x < y));
}

Test(sort, sort_r_passes_its_context_to_the_comparator)
{
	int v[300], dir = -1;
	rng_state = 9;
	for (size_t i = 0; i < KEEL_COUNTOF(v); i++)
		v[i] = (int)(next_rand() % 1000) - 500;
	keel_sort_r(v, KEEL_COUNTOF(v), sizeof(v[0]), cmp_desc_ctx, &dir);
	for (size_t i = 1; i < KEEL_COUNTOF(v); i++)
		cr_assert_geq(v[i - 1], v[i], "not descending at %zu", i);
	dir = 1;
	keel_sort_r(v, KEEL_COUNTOF(v), sizeof(v[0]), cmp_desc_ctx, &dir);
	for (size_t i = 1; i < KEEL_COUNTOF(v); i++)
		cr_assert_leq(v[i - 1], v[i], "not ascending at %zu", i);
}

static int cmp_never(const void *a, const void *b, void *ctx)
{
	(void)a;
	(void)b;
	(void)ctx;
	cr_assert_fail("comparator called on a trivial input");
	return 0;
}

Test(sort, trivial_inputs_are_left_alone)
{
	int one = 7, two[2] = {2, 1};
	keel_sort_r(NULL, 0, sizeof(int), cmp_never, NULL);
	keel_sort_r(&one, 1, sizeof(int), cmp_never, NULL);
	keel_sort_r(two, 2, 0, cmp_never, NULL);
	cr_assert_eq(one, 7);
	cr_assert(two[0] == 2 && two[1] == 1);
}

/* qsort comparators may return any int, not just -1, 0 and 1. */
static int cmp_extreme(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? INT_MIN : x > y ? INT_MAX : 0;
}

Test(sort, comparator_results_of_any_magnitude_work)
{
	int v[1000];
	rng_state = 13;
	for (size_t i = 0; i < KEEL_COUNTOF(v); i++)
		v[i] = (int)next_rand();
	keel_sort(v, KEEL_COUNTOF(v), sizeof(v[0]), cmp_extreme);
	for (size_t i = 1; i < KEEL_COUNTOF(v); i++)
		cr_assert_leq(v[i - 1], v[i], "unsorted at %zu", i);
}
