#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keel/buf.h"
#include "testutil.h"

/* Content, length and terminating NUL, all in one assertion. */
static void expect_content(const keel_buf_t *b, const char *want, size_t n)
{
	cr_assert_eq(b->len, n, "len %zu, want %zu", b->len, n);
	cr_assert(memcmp(b->data, want, n) == 0, "content \"%.*s\"",
	          (int)b->len, b->data);
	cr_assert_eq(b->data[n], '\0', "data[len] must be NUL");
	cr_assert_leq(b->len, b->cap);
	cr_assert_leq(b->cap, b->max);
}

Test(buf, init_is_empty_terminated_and_allocates_nothing)
{
	keel_buf_t b;
	keel_buf_init(&b, 100);
	cr_assert_not_null(b.data);
	cr_assert_eq(b.cap, 0);
	cr_assert_eq(b.max, 100);
	expect_content(&b, "", 0);
	keel_buf_reset(&b);
	keel_buf_consume(&b, 5);
	expect_content(&b, "", 0);
	keel_buf_deinit(&b);
	keel_buf_deinit(&b);
	cr_assert_eq(b.max, 100, "deinit keeps the limit");
}

Test(buf, appends_of_every_kind)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "GET ", 4), 0);
	cr_assert_eq(keel_buf_append_str(&b, KEEL_STR("/path")), 0);
	cr_assert_eq(keel_buf_append_char(&b, ' '), 0);
	cr_assert_eq(keel_buf_appendf(&b, "HTTP/%d.%d", 1, 1), 0);
	expect_content(&b, "GET /path HTTP/1.1", 18);
	cr_assert_eq(keel_buf_append(&b, NULL, 0), 0);
	cr_assert_eq(keel_buf_append_str(&b, (keel_str_t){NULL, 0}), 0);
	cr_assert_eq(keel_buf_appendf(&b, "%s", ""), 0);
	expect_content(&b, "GET /path HTTP/1.1", 18);
	keel_buf_deinit(&b);
}

Test(buf, content_may_hold_nul_bytes)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "a\0b", 3), 0);
	cr_assert_eq(keel_buf_append_char(&b, '\0'), 0);
	expect_content(&b, "a\0b\0", 4);
	keel_buf_deinit(&b);
}

Test(buf, growth_doubles_and_keeps_content)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	char expect[10000];
	for (size_t i = 0; i < sizeof(expect); i++) {
		expect[i] = (char)('a' + i % 26);
		size_t cap = b.cap;
		cr_assert_eq(keel_buf_append_char(&b, expect[i]), 0);
		if (b.cap != cap && cap != 0)
			cr_assert_eq(b.cap, cap * 2, "growth by doubling");
	}
	expect_content(&b, expect, sizeof(expect));
	keel_buf_deinit(&b);
}

Test(buf, max_is_reachable_exactly_and_never_passed)
{
	keel_buf_t b;
	keel_buf_init(&b, 100);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(keel_buf_append_char(&b, 'x'), 0, "byte %d", i);
	cr_assert_eq(b.len, 100);
	cr_assert_eq(b.cap, 100, "growth is clamped to max");
	cr_assert_eq(keel_buf_append_char(&b, 'y'), KEEL_ELIMIT);
	cr_assert_eq(keel_buf_append(&b, "yz", 2), KEEL_ELIMIT);
	cr_assert_eq(keel_buf_appendf(&b, "%d", 7), KEEL_ELIMIT);
	cr_assert_eq(keel_buf_reserve(&b, 1), KEEL_ELIMIT);
	cr_assert_eq(keel_buf_reserve(&b, 0), 0);
	cr_assert_eq(b.len, 100);
	cr_assert_eq(b.data[100], '\0');
	keel_buf_consume(&b, 1);
	cr_assert_eq(keel_buf_append_char(&b, 'y'), 0, "room again");
	cr_assert_eq(b.data[99], 'y');
	keel_buf_deinit(&b);
}

Test(buf, one_big_append_up_to_max)
{
	keel_buf_t b;
	keel_buf_init(&b, 1000);
	char big[1001];
	memset(big, 'q', sizeof(big));
	cr_assert_eq(keel_buf_append(&b, big, 1001), KEEL_ELIMIT);
	cr_assert_eq(b.cap, 0, "a refused append allocates nothing");
	cr_assert_eq(keel_buf_append(&b, big, 1000), 0);
	expect_content(&b, big, 1000);
	keel_buf_deinit(&b);
}

Test(buf, overflowing_sizes_are_refused_and_change_nothing)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "abc", 3), 0);
	char *data = b.data;
	size_t cap = b.cap;
	size_t sizes[] = {SIZE_MAX, SIZE_MAX - 2, SIZE_MAX - 3,
	                  (size_t)PTRDIFF_MAX, (size_t)PTRDIFF_MAX - 3};
	for (size_t i = 0; i < KEEL_COUNTOF(sizes); i++) {
		cr_assert_eq(keel_buf_reserve(&b, sizes[i]), KEEL_ELIMIT, "%zx",
		             sizes[i]);
		cr_assert_eq(keel_buf_append(&b, "x", sizes[i]), KEEL_ELIMIT);
	}
	cr_assert_eq(b.data, data);
	cr_assert_eq(b.cap, cap);
	expect_content(&b, "abc", 3);
	keel_buf_deinit(&b);
}

Test(buf, appendf_longer_than_the_free_room)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "head:", 5), 0);
	char long_arg[5000];
	memset(long_arg, 'L', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = '\0';
	cr_assert_eq(keel_buf_appendf(&b, "[%s]%d", long_arg, 42), 0);
	cr_assert_eq(b.len, 5 + 1 + 4999 + 1 + 2);
	cr_assert(memcmp(b.data, "head:[LLL", 9) == 0);
	cr_assert_str_eq(b.data + b.len - 3, "]42");
	cr_assert_eq(b.data[b.len], '\0');
	keel_buf_deinit(&b);
}

Test(buf, appendf_over_max_leaves_buffer_unchanged)
{
	keel_buf_t b;
	keel_buf_init(&b, 20);
	cr_assert_eq(keel_buf_append(&b, "0123456789", 10), 0);
	/* The first, truncated attempt writes past len; that must not show. */
	cr_assert_eq(keel_buf_appendf(&b, "%s", "abcdefghijklmnop"),
	             KEEL_ELIMIT);
	expect_content(&b, "0123456789", 10);
	cr_assert_eq(keel_buf_appendf(&b, "%s", "abcdefghij"), 0);
	expect_content(&b, "0123456789abcdefghij", 20);
	keel_buf_deinit(&b);
}

Test(buf, appendf_on_a_fresh_buffer)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_appendf(&b, "%05d|%x|%s", 42, 255u, "z"), 0);
	expect_content(&b, "00042|ff|z", 10);
	keel_buf_deinit(&b);
}

Test(buf, append_from_itself_survives_growth)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "abcd", 4), 0);
	for (int i = 0; i < 10; i++) {
		size_t n = b.len;
		cr_assert_eq(keel_buf_append(&b, b.data, n), 0);
		cr_assert(memcmp(b.data, b.data + n, n) == 0);
	}
	cr_assert_eq(b.len, 4u << 10);
	cr_assert_eq(keel_buf_append(&b, b.data + 1, 2), 0);
	cr_assert(memcmp(b.data + b.len - 2, "bc", 2) == 0);
	keel_buf_deinit(&b);
}

Test(buf, consume_drops_from_the_front)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "GET / HTTP/1.1\r\nGET /2", 22), 0);
	size_t cap = b.cap;
	keel_buf_consume(&b, 16);
	expect_content(&b, "GET /2", 6);
	keel_buf_consume(&b, 0);
	expect_content(&b, "GET /2", 6);
	keel_buf_consume(&b, 6);
	expect_content(&b, "", 0);
	cr_assert_eq(b.cap, cap, "memory is kept");
	cr_assert_eq(keel_buf_append(&b, "abc", 3), 0);
	keel_buf_consume(&b, 1000);
	expect_content(&b, "", 0);
	cr_assert_eq(keel_buf_append(&b, "xyz", 3), 0);
	keel_buf_consume(&b, SIZE_MAX);
	expect_content(&b, "", 0);
	keel_buf_deinit(&b);
}

Test(buf, reset_keeps_memory)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_appendf(&b, "%s", "some text"), 0);
	char *data = b.data;
	size_t cap = b.cap;
	keel_buf_reset(&b);
	expect_content(&b, "", 0);
	cr_assert_eq(b.data, data);
	cr_assert_eq(b.cap, cap);
	keel_buf_deinit(&b);
}

Test(buf, reserve_guarantees_room)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_reserve(&b, 1000), 0);
	cr_assert_geq(b.cap - b.len, 1000);
	expect_content(&b, "", 0);
	char *data = b.data;
	for (int i = 0; i < 1000; i++)
		keel_buf_append_char(&b, 'r');
	cr_assert_eq(b.data, data, "no move while within the reservation");
	keel_buf_deinit(&b);
}

Test(buf, detach_hands_over_the_memory)
{
	keel_buf_t b;
	keel_buf_init(&b, 50);
	cr_assert_eq(keel_buf_append(&b, "body", 4), 0);
	size_t n = 0;
	char *s = keel_buf_detach(&b, &n);
	cr_assert_str_eq(s, "body");
	cr_assert_eq(n, 4);
	free(s);
	expect_content(&b, "", 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_eq(b.max, 50);

	char *e = keel_buf_detach(&b, NULL);
	cr_assert_not_null(e);
	cr_assert_str_eq(e, "");
	free(e);
	keel_buf_deinit(&b);
}

Test(buf, malloc_failure_leaves_buffer_unchanged)
{
	if (getenv("KEEL_TEST_MALLOC_NULL") == NULL) {
		cr_assert(keel_test_passes_with_null_malloc(
		        "--filter=buf/malloc_failure_*"));
		return;
	}
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(keel_buf_append(&b, "keep", 4), 0);
	char *data = b.data;
	size_t cap = b.cap;
	size_t huge = (size_t)1 << 50;
	cr_assert_eq(keel_buf_reserve(&b, huge), KEEL_ENOMEM);
	cr_assert_eq(keel_buf_append(&b, "x", huge), KEEL_ENOMEM);
	cr_assert_eq(b.data, data);
	cr_assert_eq(b.cap, cap);
	expect_content(&b, "keep", 4);
	keel_buf_deinit(&b);
	keel_test_null_malloc_done();
}
