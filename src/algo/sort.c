/*
 * Introsort for elements of any size (see keel/sort.h).
 *
 * Shape: sort_range() picks a pivot, partitions, recurses into the smaller
 * side and loops on the larger one, so the stack holds O(log n) frames.  A
 * depth budget of 2*floor(log2 n) partitions bounds the quicksort phase;
 * a range that exhausts it is heapsorted, which caps the whole sort at
 * O(n log n) comparisons whatever the input.
 *
 * The comparator is an indirect call the compiler cannot inline, so the
 * costs that matter are the number of calls and the branch mispredictions
 * on their results.  The partition therefore records comparison results
 * into small offset buffers and swaps afterwards (block partitioning), which
 * turns the unpredictable "is it smaller?" branch into arithmetic.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "keel/sort.h"

/* Ranges up to this length are finished by insertion sort. */
#define INSERTION_MAX 16
/* Ranges at least this long take Tukey's ninther as pivot. */
#define NINTHER_MIN   128
/* Elements per block of the partition; offsets must fit in a byte. */
#define BLOCK         64
/* Positions a "probably sorted" insertion pass may shift before giving up. */
#define PARTIAL_MOVES 8

/* How to exchange two elements; chosen once per sort from the size. */
enum swap_kind { SWAP_4, SWAP_8, SWAP_ANY };

struct sorter {
	size_t size;
	enum swap_kind kind;
	keel_sort_cmp_fn cmp;     /* exactly one of cmp and cmp_r is set */
	keel_sort_cmp_r_fn cmp_r; /* called with ctx as third argument */
	void *ctx;
};

/* One test on a pointer that never changes during a sort predicts well, and
 * saves keel_sort a trampoline call per comparison. */
static inline bool less(const struct sorter *s, const void *a, const void *b)
{
	int c = s->cmp ? s->cmp(a, b) : s->cmp_r(a, b, s->ctx);
	return c < 0;
}

/* Swaps through registers 8, then 4, then 1 byte at a time; the memcpy
 * calls compile to plain loads and stores and never see overlapping
 * buffers, even when a == b. */
static void swap_any(char *a, char *b, size_t size)
{
	for (; size >= 8; size -= 8, a += 8, b += 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(a, &y, 8);
		memcpy(b, &x, 8);
	}
	for (; size > 0; size--, a++, b++) {
		char t = *a;
		*a = *b;
		*b = t;
	}
}

/* The common sizes (int, pointer, double) get a two-move swap inline. */
static inline void swap(const struct sorter *s, char *a, char *b)
{
	if (s->kind == SWAP_4) {
		uint32_t x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		memcpy(a, &y, 4);
		memcpy(b, &x, 4);
	} else if (s->kind == SWAP_8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(a, &y, 8);
		memcpy(b, &x, 8);
	} else {
		swap_any(a, b, s->size);
	}
}

/*
 * Insertion sort, the fastest way to order a handful of elements.  With a
 * bound it doubles as the check "is this range already (almost) sorted?":
 * it gives up, returning false, once it has shifted elements by more than
 * `max_moves` positions in total.
 */
static bool insertion_sort(const struct sorter *s, char *base, size_t n,
                           size_t max_moves)
{
	size_t sz = s->size, moves = 0;
	for (size_t i = 1; i < n; i++) {
		char *p = base + i * sz;
		while (p > base && less(s, p, p - sz)) {
			swap(s, p, p - sz);
			p -= sz;
			moves++;
		}
		if (moves > max_moves)
			return false;
	}
	return true;
}

/* Restores the max-heap below `root` in base[0, n). */
static void sift_down(const struct sorter *s, char *base, size_t root, size_t n)
{
	size_t sz = s->size;
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n &&
		    less(s, base + child * sz, base + (child + 1) * sz))
			child++;
		if (!less(s, base + root * sz, base + child * sz))
			return;
		swap(s, base + root * sz, base + child * sz);
		root = child;
	}
}

/* The fallback that makes the worst case O(n log n): slower than quicksort
 * on average, but immune to any input pattern. */
static void heap_sort(const struct sorter *s, char *base, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(s, base, i, n);
	for (size_t end = n - 1; end > 0; end--) {
		swap(s, base, base + end * s->size);
		sift_down(s, base, 0, end);
	}
}

/* Median of three elements, found with two or three comparisons and no
 * moves (moving them would cost swaps for large elements). */
static char *median3(const struct sorter *s, char *a, char *b, char *c)
{
	if (less(s, b, a)) {
		char *t = a;
		a = b;
		b = t;
	}
	if (less(s, c, b))
		b = less(s, c, a) ? a : c;
	return b;
}

/*
 * A pivot near the true median keeps partitions balanced.  The middle of
 * three samples costs little; on large ranges the median of three such
 * medians (Tukey's ninther) resists patterns such as organ pipes and the
 * classic median-of-three killer sequences.
 */
static char *choose_pivot(const struct sorter *s, char *base, size_t n)
{
	size_t sz = s->size;
	char *lo = base, *mid = base + n / 2 * sz, *hi = base + (n - 1) * sz;
	if (n < NINTHER_MIN)
		return median3(s, lo, mid, hi);
	size_t step = n / 8 * sz;
	lo = median3(s, lo, lo + step, lo + 2 * step);
	mid = median3(s, mid - step, mid, mid + step);
	hi = median3(s, hi - 2 * step, hi - step, hi);
	return median3(s, lo, mid, hi);
}

/* Records, branch-free, which of `len` elements from `l` upwards are not
 * less than the pivot; returns how many. */
static size_t scan_left(const struct sorter *s, const char *pivot,
                        const char *l, size_t len, unsigned char *off)
{
	size_t cnt = 0;
	for (size_t i = 0; i < len; i++) {
		off[cnt] = (unsigned char)i;
		cnt += !less(s, l + i * s->size, pivot);
	}
	return cnt;
}

/* Records which of `len` elements from `r` downwards are less than the
 * pivot (offset i is the element at r - (i + 1)); returns how many. */
static size_t scan_right(const struct sorter *s, const char *pivot,
                         const char *r, size_t len, unsigned char *off)
{
	size_t cnt = 0;
	for (size_t i = 0; i < len; i++) {
		off[cnt] = (unsigned char)i;
		cnt += less(s, r - (i + 1) * s->size, pivot);
	}
	return cnt;
}

/* Exchanges `m` misplaced pairs found by the two scans. */
static void swap_pairs(const struct sorter *s, char *l, char *r,
                       const unsigned char *off_l, const unsigned char *off_r,
                       size_t m)
{
	size_t sz = s->size;
	for (size_t j = 0; j < m; j++)
		swap(s, l + off_l[j] * sz, r - (off_r[j] + 1) * sz);
}

/* Offsets of misplaced elements found by the scans but not yet swapped. */
struct blocks {
	unsigned char off_l[BLOCK], off_r[BLOCK];
	size_t nl, nr; /* misplaced elements not yet swapped */
	size_t sl, sr; /* index of the first of them in off_l / off_r */
};

/* Scans fresh blocks where the previous ones are used up, then swaps as
 * many misplaced pairs as both sides have; a side whose block is done
 * moves its edge inwards. */
static void block_step(const struct sorter *s, const char *pivot,
                       struct blocks *b, char **l, char **r, size_t len_l,
                       size_t len_r)
{
	if (b->nl == 0) {
		b->sl = 0;
		b->nl = scan_left(s, pivot, *l, len_l, b->off_l);
	}
	if (b->nr == 0) {
		b->sr = 0;
		b->nr = scan_right(s, pivot, *r, len_r, b->off_r);
	}
	size_t m = b->nl < b->nr ? b->nl : b->nr;
	swap_pairs(s, *l, *r, b->off_l + b->sl, b->off_r + b->sr, m);
	b->nl -= m;
	b->nr -= m;
	b->sl += m;
	b->sr += m;
	if (b->nl == 0)
		*l += len_l * s->size;
	if (b->nr == 0)
		*r -= len_r * s->size;
}

/*
 * Finishes a block partition once at most two blocks are left: sizes the
 * last blocks to cover the unseen elements exactly, then moves what one
 * side still holds misplaced to the edge of its block.  Returns the split.
 */
static char *block_finish(const struct sorter *s, const char *pivot,
                          struct blocks *b, char *l, char *r)
{
	size_t sz = s->size, len_l, len_r;
	size_t rest = (size_t)(r - l) / sz - (b->nl || b->nr ? BLOCK : 0);
	if (b->nl) {
		len_l = BLOCK;
		len_r = rest;
	} else if (b->nr) {
		len_l = rest;
		len_r = BLOCK;
	} else {
		len_l = rest / 2;
		len_r = rest - len_l;
	}
	block_step(s, pivot, b, &l, &r, len_l, len_r);
	if (b->nl > 0) {
		while (b->nl > 0) {
			b->nl--;
			r -= sz;
			swap(s, l + b->off_l[b->sl + b->nl] * sz, r);
		}
		return r;
	}
	while (b->nr > 0) {
		b->nr--;
		swap(s, r - (b->off_r[b->sr + b->nr] + 1) * sz, l);
		l += sz;
	}
	return l;
}

/* Splits [l, r) into elements less than the pivot and the rest, a block of
 * BLOCK elements per side at a time (Edelkamp and Weiss's BlockQuicksort
 * idea); returns the first element of the second part. */
static char *block_partition(const struct sorter *s, const char *pivot, char *l,
                             char *r)
{
	struct blocks b = {.nl = 0, .nr = 0, .sl = 0, .sr = 0};
	while ((size_t)(r - l) > 2 * BLOCK * s->size)
		block_step(s, pivot, &b, &l, &r, BLOCK, BLOCK);
	return block_finish(s, pivot, &b, l, r);
}

/*
 * Partitions around the pivot at base[0]: smaller elements first, then the
 * pivot, then the others; returns the pivot's new index.  `*in_order` is
 * set when no element had to move, a hint that the range may be sorted.
 */
static size_t partition_right(const struct sorter *s, char *base, size_t n,
                              bool *in_order)
{
	size_t sz = s->size;
	char *l = base + sz, *r = base + n * sz;
	while (l < r && less(s, l, base))
		l += sz;
	while (l < r && !less(s, r - sz, base))
		r -= sz;
	*in_order = l >= r;
	if (!*in_order)
		l = block_partition(s, base, l, r);
	swap(s, base, l - sz);
	return (size_t)(l - sz - base) / sz;
}

/*
 * Used when the pivot equals the element just before the range, so no
 * element of the range is smaller: gathers the elements equal to the pivot
 * at the front, where they are final, and returns the index of the last
 * one.  This is what makes inputs with few distinct keys O(n log k).
 */
static size_t partition_left(const struct sorter *s, char *base, size_t n)
{
	size_t sz = s->size;
	char *l = base + sz, *r = base + n * sz;
	for (;;) {
		while (l < r && !less(s, base, l))
			l += sz;
		while (l < r && less(s, base, r - sz))
			r -= sz;
		if (l >= r)
			break;
		swap(s, l, r - sz);
		l += sz;
		r -= sz;
	}
	swap(s, base, l - sz);
	return (size_t)(l - sz - base) / sz;
}

/*
 * The introsort loop.  `budget` counts the partitions still allowed on this
 * path before heapsort takes over; `leftmost` says whether an element (a
 * former pivot, not greater than anything here) sits just before base.
 */
static void sort_range(const struct sorter *s, char *base, size_t n,
                       unsigned budget, bool leftmost)
{
	size_t sz = s->size;
	while (n > INSERTION_MAX) {
		if (budget == 0) {
			heap_sort(s, base, n);
			return;
		}
		budget--;
		swap(s, base, choose_pivot(s, base, n));
		if (!leftmost && !less(s, base - sz, base)) {
			size_t p = partition_left(s, base, n);
			base += (p + 1) * sz;
			n -= p + 1;
			continue;
		}
		bool in_order;
		size_t p = partition_right(s, base, n, &in_order);
		char *right = base + (p + 1) * sz;
		size_t nr = n - p - 1;
		if (in_order && insertion_sort(s, base, p, PARTIAL_MOVES) &&
		    insertion_sort(s, right, nr, PARTIAL_MOVES))
			return;
		if (p < nr) {
			sort_range(s, base, p, budget, leftmost);
			base = right;
			n = nr;
			leftmost = false;
		} else {
			sort_range(s, right, nr, budget, false);
			n = p;
		}
	}
	insertion_sort(s, base, n, SIZE_MAX);
}

static unsigned floor_log2(size_t n)
{
	unsigned r = 0;
	while (n >>= 1)
		r++;
	return r;
}

/*
 * A descending input would cost a full quicksort: moving the pivot to the
 * front breaks its mirror symmetry.  Reversing it is linear, and checking
 * costs one or two comparisons on most other inputs.  Returns whether the
 * range was non-increasing and is now sorted.
 */
static bool reverse_if_descending(const struct sorter *s, char *base, size_t n)
{
	size_t sz = s->size;
	for (size_t i = 1; i < n; i++)
		if (less(s, base + (i - 1) * sz, base + i * sz))
			return false;
	for (size_t i = 0, j = n - 1; i < j; i++, j--)
		swap(s, base + i * sz, base + j * sz);
	return true;
}

static void sort_start(struct sorter *s, void *base, size_t n)
{
	if (n < 2 || s->size == 0 || base == NULL)
		return;
	s->kind = s->size == 4 ? SWAP_4 : s->size == 8 ? SWAP_8 : SWAP_ANY;
	if (!reverse_if_descending(s, base, n))
		sort_range(s, base, n, 2 * floor_log2(n), true);
}

void keel_sort(void *base, size_t n, size_t size,
               int (*cmp)(const void *, const void *))
{
	struct sorter s = {.size = size, .cmp = cmp, .cmp_r = NULL};
	sort_start(&s, base, n);
}

void keel_sort_r(void *base, size_t n, size_t size,
                 int (*cmp)(const void *, const void *, void *), void *ctx)
{
	struct sorter s = {.size = size, .cmp = NULL, .cmp_r = cmp, .ctx = ctx};
	sort_start(&s, base, n);
}
