#include <criterion/criterion.h>
#include <string.h>

#include "keel/utf8.h"

static size_t seq(const char *s)
{
	return keel_utf8_seq((const unsigned char *)s, strlen(s));
}

Test(utf8, sequence_lengths_of_valid_forms)
{
	cr_assert_eq(seq("a"), 1);
	cr_assert_eq(seq("\xc3\xa9"), 2);         /* é */
	cr_assert_eq(seq("\xe2\x82\xac"), 3);     /* € */
	cr_assert_eq(seq("\xf0\x9f\x98\x80"), 4); /* 😀 */
	cr_assert_eq(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	cr_assert_eq(seq("\xed\x9f\xbf"), 3);     /* U+D7FF */
}

Test(utf8, invalid_forms_are_zero)
{
	const char *bad[] = {
	        "\x80",             /* stray continuation */
	        "\xc0\xaf",         /* overlong '/' */
	        "\xc1\xbf",         /* overlong */
	        "\xe0\x80\xaf",     /* overlong three-byte */
	        "\xed\xa0\x80",     /* surrogate U+D800 */
	        "\xf0\x80\x80\xaf", /* overlong four-byte */
	        "\xf4\x90\x80\x80", /* past U+10FFFF */
	        "\xf5\x80\x80\x80", /* never a lead */
	        "\xc3",             /* cut short */
	        "\xe2\x82",         /* cut short */
	        "\xe2\x28\xa1",     /* bad continuation */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(seq(bad[i]), 0, "case %zu", i);
	cr_assert_eq(keel_utf8_seq((const unsigned char *)"", 0), 0);
}

Test(utf8, count_and_valid_over_a_slice)
{
	size_t n = 99;
	cr_assert_eq(keel_utf8_count(KEEL_STR("h\xc3\xa9llo \xe2\x82\xac"), &n),
	             0);
	cr_assert_eq(n, 7);
	cr_assert(keel_utf8_valid(KEEL_STR("")));
	cr_assert_not(keel_utf8_valid(KEEL_STR("ok\xed\xa0\x80")));
	n = 99;
	cr_assert_eq(keel_utf8_count(KEEL_STR("\xff"), &n), KEEL_EINVAL);
	cr_assert_eq(n, 99);
	/* An embedded NUL is a valid (ASCII) code point: slices are bytes. */
	cr_assert(keel_utf8_valid((keel_str_t){"a\0b", 3}));
}
