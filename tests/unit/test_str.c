#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "keel/str.h"

/* Slices of a buffer with an embedded NUL: lengths, not terminators, rule. */
static const char nul_mid[] = {'a', '\0', 'b'};

Test(str, from_cstr_measures_and_null_is_empty)
{
	keel_str_t s = keel_str_from_cstr("hello");
	cr_assert_eq(s.len, 5);
	cr_assert(memcmp(s.ptr, "hello", 5) == 0);
	keel_str_t e = keel_str_from_cstr(NULL);
	cr_assert_eq(e.len, 0);
	cr_assert_not_null(e.ptr);
	cr_assert_eq(keel_str_from_cstr("").len, 0);
}

Test(str, eq_compares_lengths_and_bytes)
{
	keel_str_t null_slice = {NULL, 0};
	cr_assert(keel_str_eq(KEEL_STR("abc"), KEEL_STR("abc")));
	cr_assert_not(keel_str_eq(KEEL_STR("abc"), KEEL_STR("abd")));
	cr_assert_not(keel_str_eq(KEEL_STR("abc"), KEEL_STR("ab")));
	cr_assert_not(keel_str_eq(KEEL_STR("abc"), KEEL_STR("ABC")));
	cr_assert(keel_str_eq(null_slice, KEEL_STR("")));
	cr_assert(keel_str_eq(null_slice, null_slice));
	keel_str_t a = {nul_mid, 3}, b = {"a\0c", 3};
	cr_assert_not(keel_str_eq(a, b), "bytes after a NUL must count");
	cr_assert(keel_str_eq(a, (keel_str_t){"a\0b", 3}));
}

Test(str, eq_nocase_folds_ascii_only)
{
	cr_assert(keel_str_eq_nocase(KEEL_STR("Content-Length"),
	                             KEEL_STR("content-LENGTH")));
	cr_assert_not(keel_str_eq_nocase(KEEL_STR("abc"), KEEL_STR("abcd")));
	cr_assert_not(keel_str_eq_nocase(KEEL_STR("a-b"), KEEL_STR("a_b")));
	/* '@' and '`' sit next to 'A' and 'a'; '[' next to 'Z'. */
	cr_assert_not(keel_str_eq_nocase(KEEL_STR("@"), KEEL_STR("`")));
	cr_assert_not(keel_str_eq_nocase(KEEL_STR("["), KEEL_STR("{")));
	cr_assert_not(keel_str_eq_nocase(KEEL_STR("\xc4"), KEEL_STR("\xe4")));
	cr_assert(keel_str_eq_nocase((keel_str_t){NULL, 0}, KEEL_STR("")));
}

Test(str, cmp_orders_bytes_then_length)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
	        {"", "", 0},        {"a", "", 1},      {"", "a", -1},
	        {"abc", "abd", -1}, {"abd", "abc", 1}, {"ab", "abc", -1},
	        {"abc", "ab", 1},   {"abc", "abc", 0}, {"\x80", "\x7f", 1},
	        {"B", "a", -1},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		int got = keel_str_cmp(keel_str_from_cstr(cases[i].a),
		                       keel_str_from_cstr(cases[i].b));
		cr_assert_eq(got, cases[i].want, "cmp(\"%s\", \"%s\") = %d",
		             cases[i].a, cases[i].b, got);
	}
	cr_assert_eq(keel_str_cmp((keel_str_t){NULL, 0}, KEEL_STR("x")), -1);
}

Test(str, cmp_nocase_orders_folded_bytes)
{
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("B"), KEEL_STR("a")), 1);
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("abc"), KEEL_STR("ABD")), -1);
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("HOST"), KEEL_STR("host")),
	             0);
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("ho"), KEEL_STR("HOST")), -1);
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("hostx"), KEEL_STR("HOST")),
	             1);
	cr_assert_eq(keel_str_cmp_nocase(KEEL_STR("\xff"), KEEL_STR("a")), 1);
}

Test(str, prefix_and_suffix)
{
	keel_str_t s = KEEL_STR("/api/articles");
	cr_assert(keel_str_has_prefix(s, KEEL_STR("/api/")));
	cr_assert(keel_str_has_prefix(s, KEEL_STR("")));
	cr_assert(keel_str_has_prefix(s, s));
	cr_assert_not(keel_str_has_prefix(s, KEEL_STR("/apx")));
	cr_assert_not(keel_str_has_prefix(KEEL_STR("/a"), KEEL_STR("/api")));
	cr_assert(keel_str_has_suffix(s, KEEL_STR("articles")));
	cr_assert(keel_str_has_suffix(s, KEEL_STR("")));
	cr_assert_not(keel_str_has_suffix(s, KEEL_STR("Articles")));
	cr_assert_not(keel_str_has_suffix(KEEL_STR("es"), KEEL_STR("les")));
	cr_assert(keel_str_has_suffix((keel_str_t){NULL, 0}, KEEL_STR("")));
	cr_assert_not(
	        keel_str_has_prefix((keel_str_t){NULL, 0}, KEEL_STR("a")));
}

Test(str, index_finds_first_byte_or_minus_one)
{
	cr_assert_eq(keel_str_index(KEEL_STR("a=b=c"), '='), 1);
	cr_assert_eq(keel_str_index(KEEL_STR("abc"), 'a'), 0);
	cr_assert_eq(keel_str_index(KEEL_STR("abc"), 'c'), 2);
	cr_assert_eq(keel_str_index(KEEL_STR("abc"), 'x'), -1);
	cr_assert_eq(keel_str_index((keel_str_t){NULL, 0}, 'x'), -1);
	cr_assert_eq(keel_str_index((keel_str_t){nul_mid, 3}, '\0'), 1);
	cr_assert_eq(keel_str_index((keel_str_t){nul_mid, 3}, 'b'), 2);
	/* The byte right after the slice must not be found. */
	cr_assert_eq(keel_str_index((keel_str_t){"abc", 2}, 'c'), -1);
}

Test(str, trim_removes_spaces_and_tabs_only)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"  x  ", "x"}, {"\t x \t", "x"}, {"x", "x"},
	        {"", ""},       {"   ", ""},      {"\t", ""},
	        {"a b", "a b"}, {" a b ", "a b"}, {"\rx\n", "\rx\n"},
	        {"\vx", "\vx"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		keel_str_t got = keel_str_trim(keel_str_from_cstr(cases[i].in));
		cr_assert(keel_str_eq(got, keel_str_from_cstr(cases[i].out)),
		          "trim(\"%s\") = \"%.*s\"", cases[i].in,
		          KEEL_STR_FMT(got));
	}
	keel_str_t n = keel_str_trim((keel_str_t){NULL, 0});
	cr_assert_eq(n.len, 0);
}

Test(str, trim_returns_a_view_into_the_input)
{
	const char *in = "  mid  ";
	keel_str_t t = keel_str_trim(keel_str_from_cstr(in));
	cr_assert_eq(t.ptr, in + 2);
	cr_assert_eq(t.len, 3);
}

Test(str, sub_clamps_to_the_slice)
{
	keel_str_t s = KEEL_STR("abcdef");
	keel_str_t r = keel_str_sub(s, 1, 3);
	cr_assert(keel_str_eq(r, KEEL_STR("bcd")));
	cr_assert_eq(r.ptr, s.ptr + 1);
	cr_assert(keel_str_eq(keel_str_sub(s, 4, 100), KEEL_STR("ef")));
	cr_assert(keel_str_eq(keel_str_sub(s, 0, SIZE_MAX), s));
	cr_assert(keel_str_eq(keel_str_sub(s, 4, SIZE_MAX), KEEL_STR("ef")));
	cr_assert_eq(keel_str_sub(s, 6, 1).len, 0);
	cr_assert_eq(keel_str_sub(s, 7, 1).len, 0);
	cr_assert_eq(keel_str_sub(s, SIZE_MAX, SIZE_MAX).len, 0);
	cr_assert_eq(keel_str_sub(s, SIZE_MAX, 1).ptr, s.ptr + 6);
	cr_assert_eq(keel_str_sub(s, 2, 0).len, 0);
	cr_assert_eq(keel_str_sub((keel_str_t){NULL, 0}, 0, 5).len, 0);
}

Test(str, cut_splits_at_the_first_separator)
{
	keel_str_t s = KEEL_STR("a=1&b=&&c");
	const char *want[] = {"a=1", "b=", "", "c"};
	for (size_t i = 0; i < KEEL_COUNTOF(want); i++) {
		keel_str_t part = keel_str_cut(&s, '&');
		cr_assert(keel_str_eq(part, keel_str_from_cstr(want[i])),
		          "part %zu = \"%.*s\"", i, KEEL_STR_FMT(part));
	}
	cr_assert_eq(s.len, 0);
	/* Cutting an empty slice keeps giving empty parts. */
	cr_assert_eq(keel_str_cut(&s, '&').len, 0);
	cr_assert_eq(s.len, 0);
}

Test(str, cut_without_separator_takes_all)
{
	const char *text = "no-sep";
	keel_str_t s = keel_str_from_cstr(text);
	keel_str_t part = keel_str_cut(&s, ';');
	cr_assert(keel_str_eq(part, KEEL_STR("no-sep")));
	cr_assert_eq(s.len, 0);
	cr_assert_eq(s.ptr, text + 6, "rest points past the input");

	keel_str_t t = KEEL_STR("x;");
	cr_assert(keel_str_eq(keel_str_cut(&t, ';'), KEEL_STR("x")));
	cr_assert_eq(t.len, 0, "separator at the end leaves an empty rest");

	keel_str_t n = {NULL, 0};
	cr_assert_eq(keel_str_cut(&n, ';').len, 0);
}

/* ---------------------------------------------------------- integers */

struct i64_case {
	const char *in;
	int rc;
	int64_t want;
};

static const struct i64_case i64_cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"7", 0, 7},
        {"-7", 0, -7},
        {"000123", 0, 123},
        {"-000123", 0, -123},
        {"9223372036854775806", 0, INT64_MAX - 1},
        {"9223372036854775807", 0, INT64_MAX},
        {"9223372036854775808", KEEL_ERANGE, 0},
        {"09223372036854775807", 0, INT64_MAX},
        {"-9223372036854775807", 0, INT64_MIN + 1},
        {"-9223372036854775808", 0, INT64_MIN},
        {"-9223372036854775809", KEEL_ERANGE, 0},
        {"-0009223372036854775808", 0, INT64_MIN},
        {"18446744073709551615", KEEL_ERANGE, 0},
        {"18446744073709551616", KEEL_ERANGE, 0},
        {"99999999999999999999999999", KEEL_ERANGE, 0},
        {"-99999999999999999999999999", KEEL_ERANGE, 0},
        {"", KEEL_EINVAL, 0},
        {"-", KEEL_EINVAL, 0},
        {"+1", KEEL_EINVAL, 0},
        {"--1", KEEL_EINVAL, 0},
        {"-+1", KEEL_EINVAL, 0},
        {" 1", KEEL_EINVAL, 0},
        {"1 ", KEEL_EINVAL, 0},
        {"\t1", KEEL_EINVAL, 0},
        {"1x", KEEL_EINVAL, 0},
        {"x1", KEEL_EINVAL, 0},
        {"0x10", KEEL_EINVAL, 0},
        {"1e3", KEEL_EINVAL, 0},
        {"1.0", KEEL_EINVAL, 0},
        {"1-", KEEL_EINVAL, 0},
        {"1,000", KEEL_EINVAL, 0},
        {"a", KEEL_EINVAL, 0},
        {"99999999999999999999x", KEEL_EINVAL, 0},
};

Test(str, to_i64_table)
{
	for (size_t i = 0; i < KEEL_COUNTOF(i64_cases); i++) {
		const struct i64_case *c = &i64_cases[i];
		int64_t v = 42;
		int rc = keel_str_to_i64(keel_str_from_cstr(c->in), &v);
		cr_assert_eq(rc, c->rc, "\"%s\": rc %d, want %d", c->in, rc,
		             c->rc);
		if (c->rc == 0)
			cr_assert_eq(v, c->want, "\"%s\": %lld", c->in,
			             (long long)v);
		else
			cr_assert_eq(v, 42, "\"%s\": out written on error",
			             c->in);
	}
}

struct u64_case {
	const char *in;
	int rc;
	uint64_t want;
};

static const struct u64_case u64_cases[] = {
        {"0", 0, 0},
        {"1", 0, 1},
        {"00000000000000000000000000001", 0, 1},
        {"9223372036854775808", 0, (uint64_t)INT64_MAX + 1},
        {"18446744073709551614", 0, UINT64_MAX - 1},
        {"18446744073709551615", 0, UINT64_MAX},
        {"018446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", KEEL_ERANGE, 0},
        {"18446744073709551620", KEEL_ERANGE, 0},
        {"28446744073709551615", KEEL_ERANGE, 0},
        {"184467440737095516150", KEEL_ERANGE, 0},
        {"", KEEL_EINVAL, 0},
        {"-0", KEEL_EINVAL, 0},
        {"-1", KEEL_EINVAL, 0},
        {"+1", KEEL_EINVAL, 0},
        {" 1", KEEL_EINVAL, 0},
        {"1 ", KEEL_EINVAL, 0},
        {"12a", KEEL_EINVAL, 0},
        {"ff", KEEL_EINVAL, 0},
        {"1/", KEEL_EINVAL, 0},
        {"1:", KEEL_EINVAL, 0},
};

Test(str, to_u64_table)
{
	for (size_t i = 0; i < KEEL_COUNTOF(u64_cases); i++) {
		const struct u64_case *c = &u64_cases[i];
		uint64_t v = 42;
		int rc = keel_str_to_u64(keel_str_from_cstr(c->in), &v);
		cr_assert_eq(rc, c->rc, "\"%s\": rc %d, want %d", c->in, rc,
		             c->rc);
		cr_assert_eq(v, c->rc == 0 ? c->want : 42, "\"%s\": %llu",
		             c->in, (unsigned long long)v);
	}
}

static const struct u64_case hex_cases[] = {
        {"0", 0, 0},
        {"a", 0, 10},
        {"F", 0, 15},
        {"1aB", 0, 0x1ab},
        {"0000000000000000000ff", 0, 0xff},
        {"7fffffffffffffff", 0, (uint64_t)INT64_MAX},
        {"8000000000000000", 0, (uint64_t)INT64_MAX + 1},
        {"fffffffffffffffe", 0, UINT64_MAX - 1},
        {"ffffffffffffffff", 0, UINT64_MAX},
        {"FFFFFFFFFFFFFFFF", 0, UINT64_MAX},
        {"0ffffffffffffffff", 0, UINT64_MAX},
        {"10000000000000000", KEEL_ERANGE, 0},
        {"fffffffffffffffff", KEEL_ERANGE, 0},
        {"", KEEL_EINVAL, 0},
        {"0x1", KEEL_EINVAL, 0},
        {"-1", KEEL_EINVAL, 0},
        {"+1", KEEL_EINVAL, 0},
        {"g", KEEL_EINVAL, 0},
        {"G", KEEL_EINVAL, 0},
        {"@", KEEL_EINVAL, 0},
        {"`", KEEL_EINVAL, 0},
        {"1 ", KEEL_EINVAL, 0},
        {"1;ext=1", KEEL_EINVAL, 0},
        {"fffffffffffffffffz", KEEL_EINVAL, 0},
};

Test(str, hex_to_u64_table)
{
	for (size_t i = 0; i < KEEL_COUNTOF(hex_cases); i++) {
		const struct u64_case *c = &hex_cases[i];
		uint64_t v = 42;
		int rc = keel_str_hex_to_u64(keel_str_from_cstr(c->in), &v);
		cr_assert_eq(rc, c->rc, "\"%s\": rc %d, want %d", c->in, rc,
		             c->rc);
		cr_assert_eq(v, c->rc == 0 ? c->want : 42, "\"%s\": %llx",
		             c->in, (unsigned long long)v);
	}
}

Test(str, integers_stop_at_the_slice_end_and_reject_nul)
{
	int64_t i = 0;
	uint64_t u = 0;
	/* Only the first two bytes belong to the slice. */
	cr_assert_eq(keel_str_to_i64((keel_str_t){"12x", 2}, &i), 0);
	cr_assert_eq(i, 12);
	cr_assert_eq(keel_str_to_u64((keel_str_t){"345", 1}, &u), 0);
	cr_assert_eq(u, 3);
	cr_assert_eq(keel_str_hex_to_u64((keel_str_t){"ffz", 2}, &u), 0);
	cr_assert_eq(u, 0xff);
	cr_assert_eq(keel_str_to_u64((keel_str_t){"1\0"
	                                          "2",
	                                          3},
	                             &u),
	             KEEL_EINVAL);
	cr_assert_eq(keel_str_to_i64((keel_str_t){NULL, 0}, &i), KEEL_EINVAL);
	cr_assert_eq(keel_str_hex_to_u64((keel_str_t){NULL, 0}, &u),
	             KEEL_EINVAL);
}

Test(str, i64_roundtrips_every_power_of_ten_boundary)
{
	/* 10^k - 1, 10^k and their negatives all parse back exactly. */
	int64_t p = 1;
	for (int k = 0; k <= 18; k++) {
		int64_t vals[] = {p - 1, p, -p, -(p - 1)};
		if (k < 18)
			p *= 10;
		for (size_t j = 0; j < KEEL_COUNTOF(vals); j++) {
			char text[32];
			int n = snprintf(text, sizeof(text), "%lld",
			                 (long long)vals[j]);
			int64_t got = 0;
			cr_assert_eq(
			        keel_str_to_i64((keel_str_t){text, (size_t)n},
			                        &got),
			        0, "%s", text);
			cr_assert_eq(got, vals[j], "%s", text);
		}
	}
}
