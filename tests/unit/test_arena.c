#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/arena.h"
#include "testutil.h"

#define MAXALIGN alignof(max_align_t)

static bool aligned(const void *p, size_t align)
{
	return ((uintptr_t)p & (align - 1)) == 0;
}

Test(arena, init_allocates_nothing_and_deinit_is_repeatable)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	cr_assert_eq(a.taken, 0);
	cr_assert_eq(a.chunk_size, KEEL_ARENA_CHUNK_DEFAULT);
	cr_assert_eq(keel_arena_used(&a), 0);
	keel_arena_deinit(&a);
	keel_arena_deinit(&a);
	cr_assert_eq(a.taken, 0);
	keel_arena_init(&a, 1, 0);
	cr_assert_eq(a.chunk_size, KEEL_ARENA_CHUNK_MIN);
	keel_arena_deinit(&a);
}

Test(arena, every_pointer_is_max_aligned_and_writable)
{
	keel_arena_t a;
	keel_arena_init(&a, 512, 0);
	char *prev = NULL;
	for (size_t n = 0; n < 2000; n += 7) {
		char *p = keel_arena_alloc(&a, n);
		cr_assert_not_null(p, "n=%zu", n);
		cr_assert(aligned(p, MAXALIGN), "n=%zu p=%p", n, (void *)p);
		cr_assert_neq(p, prev);
		memset(p, 0xab, n);
		prev = p;
	}
	keel_arena_deinit(&a);
}

Test(arena, alloc_aligned_honours_every_power_of_two)
{
	keel_arena_t a;
	keel_arena_init(&a, 1024, 0);
	for (size_t align = 1; align <= 8192; align *= 2) {
		for (size_t n = 1; n <= 3000; n = n * 3 + 1) {
			char *p = keel_arena_alloc_aligned(&a, n, align);
			cr_assert_not_null(p);
			cr_assert(aligned(p, align), "align=%zu n=%zu", align,
			          n);
			memset(p, 1, n);
		}
	}
	keel_arena_deinit(&a);
}

Test(arena, alloc_aligned_rejects_bad_alignment)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	cr_assert_null(keel_arena_alloc_aligned(&a, 8, 0));
	cr_assert_null(keel_arena_alloc_aligned(&a, 8, 3));
	cr_assert_null(keel_arena_alloc_aligned(&a, 8, 24));
	cr_assert_null(keel_arena_alloc_aligned(&a, 8, SIZE_MAX));
	cr_assert_eq(a.taken, 0, "a refused call takes no memory");
	keel_arena_deinit(&a);
}

Test(arena, small_allocations_share_a_chunk)
{
	keel_arena_t a;
	keel_arena_init(&a, 4096, 0);
	char *p = keel_arena_alloc(&a, 16);
	char *q = keel_arena_alloc(&a, 16);
	cr_assert_eq(q, p + 16, "bump allocation is contiguous");
	cr_assert_eq(a.taken, 4096);
	cr_assert_eq(keel_arena_used(&a), 32);
	keel_arena_deinit(&a);
}

Test(arena, large_request_gets_its_own_chunk_and_keeps_the_current)
{
	keel_arena_t a;
	keel_arena_init(&a, 1024, 0);
	char *p = keel_arena_alloc(&a, 16);
	char *big = keel_arena_alloc(&a, 10000);
	cr_assert_not_null(big);
	memset(big, 7, 10000);
	cr_assert_gt(a.taken, 1024 + 10000);
	char *q = keel_arena_alloc(&a, 16);
	cr_assert_eq(q, p + 16, "the current chunk still serves small ones");
	keel_arena_deinit(&a);
}

Test(arena, zero_size_gives_distinct_valid_pointers)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	char *p = keel_arena_alloc(&a, 0);
	char *q = keel_arena_alloc(&a, 0);
	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_assert_neq(p, q);
	*p = 'x'; /* served as one byte, so one byte is writable */
	cr_assert_eq(keel_arena_used(&a), 2);
	void *m = keel_arena_memdup(&a, NULL, 0);
	cr_assert_not_null(m);
	keel_arena_deinit(&a);
}

Test(arena, huge_sizes_return_null_without_touching_the_arena)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 1 << 20);
	cr_assert_not_null(keel_arena_alloc(&a, 10));
	size_t taken = a.taken, used = keel_arena_used(&a);
	size_t sizes[] = {SIZE_MAX,     SIZE_MAX - 1,       SIZE_MAX - 15,
	                  SIZE_MAX / 2, (SIZE_MAX / 2) + 1, (size_t)1 << 21};
	for (size_t i = 0; i < KEEL_COUNTOF(sizes); i++) {
		cr_assert_null(keel_arena_alloc(&a, sizes[i]), "%zx", sizes[i]);
		cr_assert_null(keel_arena_alloc_aligned(&a, sizes[i], 4096));
		cr_assert_null(
		        keel_arena_alloc_aligned(&a, 1, (size_t)1 << 63));
		cr_assert_null(keel_arena_calloc(&a, sizes[i], 1));
	}
	cr_assert_null(keel_arena_calloc(&a, SIZE_MAX / 2, 3));
	cr_assert_null(keel_arena_calloc(&a, (size_t)1 << 32, (size_t)1 << 32));
	cr_assert_null(keel_arena_strndup(&a, (keel_str_t){"x", SIZE_MAX}));
	cr_assert_eq(a.taken, taken);
	cr_assert_eq(keel_arena_used(&a), used);
	keel_arena_deinit(&a);
}

/*
 * Allocate `size` bytes at a time until the arena refuses; the bytes held
 * from malloc never pass the cap, and what is left at the end is too small
 * for one more chunk header plus the request.
 */
static size_t fill_to_cap(size_t chunk, size_t cap, size_t size)
{
	keel_arena_t a;
	keel_arena_init(&a, chunk, cap);
	size_t count = 0;
	while (keel_arena_alloc(&a, size) != NULL) {
		count++;
		cr_assert_leq(a.taken, cap);
	}
	cr_assert_leq(a.taken, cap);
	cr_assert_lt(cap - a.taken, 64 + size, "cap %zu taken %zu size %zu",
	             cap, a.taken, size);
	cr_assert_eq(keel_arena_used(&a), count * size);
	keel_arena_deinit(&a);
	return count;
}

Test(arena, cap_is_honoured_to_the_byte)
{
	size_t caps[] = {256, 1000, 4096, 4097, 10000, 65536};
	size_t sizes[] = {1, 16, 100, 777, 5000};
	for (size_t i = 0; i < KEEL_COUNTOF(caps); i++)
		for (size_t j = 0; j < KEEL_COUNTOF(sizes); j++)
			fill_to_cap(1024, caps[i], sizes[j]);
	/* 16-byte requests tile regular chunks exactly: with a cap of three
	 * chunks, everything but three chunk headers is handed out. */
	size_t n = fill_to_cap(1024, 3 * 1024, 16);
	cr_assert_geq(n * 16, 3 * 1024 - 3 * 64);
}

Test(arena, cap_smaller_than_a_chunk_still_serves)
{
	keel_arena_t a;
	keel_arena_init(&a, 4096, 300);
	char *p = keel_arena_alloc(&a, 200);
	cr_assert_not_null(p, "the chunk shrinks to fit the cap");
	cr_assert_leq(a.taken, 300);
	cr_assert_null(keel_arena_alloc(&a, 200));
	cr_assert_null(keel_arena_alloc(&a, 300));
	keel_arena_deinit(&a);
}

Test(arena, cap_refuses_large_requests_exactly)
{
	keel_arena_t a;
	keel_arena_init(&a, 256, 100000);
	cr_assert_null(keel_arena_alloc(&a, 100000), "no room for a header");
	cr_assert_eq(a.taken, 0);
	cr_assert_not_null(keel_arena_alloc(&a, 100000 - 64));
	cr_assert_leq(a.taken, 100000);
	cr_assert_null(keel_arena_alloc(&a, 1000));
	keel_arena_deinit(&a);
}

Test(arena, calloc_zeroes_and_checks_overflow)
{
	keel_arena_t a;
	keel_arena_init(&a, 256, 0);
	/* Dirty the memory first so the zeroes are calloc's doing. */
	memset(keel_arena_alloc(&a, 200), 0xff, 200);
	keel_arena_reset(&a);
	uint32_t *v = keel_arena_calloc(&a, 50, sizeof(uint32_t));
	cr_assert_not_null(v);
	for (size_t i = 0; i < 50; i++)
		cr_assert_eq(v[i], 0);
	cr_assert_null(keel_arena_calloc(&a, SIZE_MAX / 4 + 1, 4));
	cr_assert_not_null(keel_arena_calloc(&a, 0, 8));
	cr_assert_not_null(keel_arena_calloc(&a, 8, 0));
	keel_arena_deinit(&a);
}

Test(arena, memdup_and_strndup_copy)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	const char src[] = {'k', '\0', 'e', 'l'};
	char *m = keel_arena_memdup(&a, src, sizeof(src));
	cr_assert(memcmp(m, src, sizeof(src)) == 0);
	cr_assert_neq(m, src);
	cr_assert(aligned(m, MAXALIGN));

	char *s = keel_arena_strndup(&a, KEEL_STR("hello world"));
	cr_assert_str_eq(s, "hello world");
	char *part = keel_arena_strndup(&a, (keel_str_t){"abcdef", 3});
	cr_assert_str_eq(part, "abc");
	char *empty = keel_arena_strndup(&a, (keel_str_t){NULL, 0});
	cr_assert_str_eq(empty, "");
	char *nul = keel_arena_strndup(&a, (keel_str_t){src, 4});
	cr_assert(memcmp(nul, src, 4) == 0 && nul[4] == '\0');
	keel_arena_deinit(&a);
}

/* Cleanups append their tag to a log so order and count can be checked. */
struct defer_log {
	char seen[16];
	size_t n;
};

struct defer_item {
	struct defer_log *log;
	char tag;
};

static void record(void *arg)
{
	struct defer_item *it = arg;
	it->log->seen[it->log->n++] = it->tag;
}

Test(arena, defer_runs_newest_first_once_per_reset)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	struct defer_log log = {{0}, 0};
	struct defer_item items[] = {{&log, 'a'}, {&log, 'b'}, {&log, 'c'}};
	for (size_t i = 0; i < KEEL_COUNTOF(items); i++)
		cr_assert_eq(keel_arena_defer(&a, record, &items[i]), 0);
	cr_assert_eq(log.n, 0, "nothing runs before reset");
	keel_arena_reset(&a);
	cr_assert_str_eq(log.seen, "cba");
	keel_arena_reset(&a);
	keel_arena_deinit(&a);
	cr_assert_str_eq(log.seen, "cba", "each cleanup ran exactly once");
}

Test(arena, deinit_runs_cleanups)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	struct defer_log log = {{0}, 0};
	struct defer_item x = {&log, 'x'}, y = {&log, 'y'};
	keel_arena_defer(&a, record, &x);
	keel_arena_reset(&a);
	keel_arena_defer(&a, record, &y);
	keel_arena_deinit(&a);
	cr_assert_str_eq(log.seen, "xy");
}

/* A cleanup that registers another one: it must still run, once. */
static struct defer_item chained_item;
static keel_arena_t *chained_arena;

static void register_more(void *arg)
{
	record(arg);
	keel_arena_defer(chained_arena, record, &chained_item);
}

Test(arena, cleanup_registered_by_a_cleanup_runs_in_the_same_pass)
{
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	struct defer_log log = {{0}, 0};
	struct defer_item first = {&log, '1'};
	chained_item = (struct defer_item){&log, '2'};
	chained_arena = &a;
	keel_arena_defer(&a, register_more, &first);
	keel_arena_reset(&a);
	cr_assert_str_eq(log.seen, "12");
	keel_arena_deinit(&a);
	cr_assert_str_eq(log.seen, "12");
}

Test(arena, defer_rejects_null_and_fails_at_the_cap)
{
	keel_arena_t a;
	keel_arena_init(&a, 256, 256);
	cr_assert_eq(keel_arena_defer(&a, NULL, NULL), KEEL_EINVAL);
	while (keel_arena_alloc(&a, 1) != NULL)
		;
	struct defer_log log = {{0}, 0};
	struct defer_item it = {&log, 'z'};
	cr_assert_eq(keel_arena_defer(&a, record, &it), KEEL_ENOMEM);
	keel_arena_deinit(&a);
	cr_assert_eq(log.n, 0, "a refused cleanup is never called");
}

Test(arena, reset_reuses_the_first_chunk_without_malloc)
{
	keel_arena_t a;
	keel_arena_init(&a, 1024, 0);
	char *first = keel_arena_alloc(&a, 100);
	for (int i = 0; i < 50; i++)
		cr_assert_not_null(keel_arena_alloc(&a, 300));
	cr_assert_not_null(keel_arena_alloc(&a, 50000));
	cr_assert_gt(a.taken, 1024);
	keel_arena_reset(&a);
	cr_assert_eq(a.taken, 1024, "exactly one regular chunk is kept");
	cr_assert_eq(keel_arena_used(&a), 0);
	for (int req = 0; req < 3; req++) {
		char *p = keel_arena_alloc(&a, 100);
		cr_assert_eq(p, first, "request %d reuses the same memory",
		             req);
		cr_assert_eq(a.taken, 1024);
		keel_arena_reset(&a);
	}
	keel_arena_deinit(&a);
	cr_assert_eq(a.taken, 0);
}

Test(arena, reset_of_a_large_only_arena_frees_everything)
{
	keel_arena_t a;
	keel_arena_init(&a, 256, 0);
	cr_assert_not_null(keel_arena_alloc(&a, 5000));
	keel_arena_reset(&a);
	cr_assert_eq(a.taken, 0);
	cr_assert_not_null(keel_arena_alloc(&a, 10));
	keel_arena_deinit(&a);
}

Test(arena, malloc_failure_returns_null_and_arena_stays_usable)
{
	if (getenv("KEEL_TEST_MALLOC_NULL") == NULL) {
		cr_assert(keel_test_passes_with_null_malloc(
		        "--filter=arena/malloc_failure_*"));
		return;
	}
	keel_arena_t a;
	keel_arena_init(&a, 256, 0);
	char *p = keel_arena_alloc(&a, 10);
	size_t taken = a.taken;
	cr_assert_null(keel_arena_alloc(&a, (size_t)1 << 50));
	cr_assert_eq(a.taken, taken);
	cr_assert_eq(keel_arena_used(&a), 10);
	cr_assert_eq(keel_arena_alloc(&a, 10), p + 16);
	keel_arena_deinit(&a);
	keel_test_null_malloc_done();
}
