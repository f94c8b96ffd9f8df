/*
 * fuzz_str - differential test of keel's strict integer parsers against
 * the C library, plus consistency checks between the slice comparisons.
 *
 * The rule checked: keel accepts an input exactly when it is a strictly
 * formed number (optional '-' for signed, then only digits), and then
 * agrees with strtoll/strtoull on the value and on overflow.  Everything
 * the C library would parse only partly, or after skipping spaces or a
 * '+', keel must reject.  Any disagreement aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool is_digit(char c, int base)
{
	if (c >= '0' && c <= '9')
		return true;
	return base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

/* The grammar keel promises, written independently of str.c. */
static bool strictly_formed(keel_str_t s, int base, bool sign)
{
	size_t i = (sign && s.len != 0 && s.ptr[0] == '-') ? 1 : 0;
	if (i == s.len)
		return false;
	for (; i < s.len; i++)
		if (!is_digit(s.ptr[i], base))
			return false;
	return true;
}

static void check_i64(keel_str_t s, const char *z)
{
	int64_t got = 0;
	int rc = keel_str_to_i64(s, &got);
	if (!strictly_formed(s, 10, true)) {
		CHECK(rc == KEEL_EINVAL);
		return;
	}
	char *end;
	errno = 0;
	long long want = strtoll(z, &end, 10);
	CHECK(end == z + s.len);
	if (errno == ERANGE) {
		CHECK(rc == KEEL_ERANGE);
		return;
	}
	CHECK(rc == KEEL_OK && got == want);
}

/*
 * strtoull accepts a '-' and wraps the result, but the strict grammar for
 * unsigned numbers has no sign, so such inputs never reach it.
 */
static void check_u64(keel_str_t s, const char *z, int base)
{
	uint64_t got = 0;
	int rc = base == 16 ? keel_str_hex_to_u64(s, &got)
	                    : keel_str_to_u64(s, &got);
	if (!strictly_formed(s, base, false)) {
		CHECK(rc == KEEL_EINVAL);
		return;
	}
	char *end;
	errno = 0;
	unsigned long long want = strtoull(z, &end, base);
	CHECK(end == z + s.len);
	if (errno == ERANGE) {
		CHECK(rc == KEEL_ERANGE);
		return;
	}
	CHECK(rc == KEEL_OK && got == want);
}

/* eq/cmp and their case-folding twins must tell the same story. */
static void check_compare(keel_str_t a, keel_str_t b)
{
	int c = keel_str_cmp(a, b);
	CHECK(c >= -1 && c <= 1);
	CHECK(c == -keel_str_cmp(b, a));
	CHECK((c == 0) == keel_str_eq(a, b));
	int n = keel_str_cmp_nocase(a, b);
	CHECK(n == -keel_str_cmp_nocase(b, a));
	CHECK((n == 0) == keel_str_eq_nocase(a, b));
	CHECK(!keel_str_eq(a, b) || keel_str_eq_nocase(a, b));
}

/* Cutting at any byte walks the whole input without losing a byte. */
static void check_cut(keel_str_t s, char sep)
{
	size_t total = 0, parts = 0;
	keel_str_t rest = s;
	while (rest.len != 0) {
		keel_str_t part = keel_str_cut(&rest, sep);
		CHECK(keel_str_index(part, sep) < 0);
		total += part.len;
		parts++;
	}
	size_t seps = 0;
	for (size_t i = 0; i < s.len; i++)
		seps += s.ptr[i] == sep;
	CHECK(total + seps == s.len);
	CHECK(parts >= seps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *z = malloc(size + 1);
	if (z == NULL)
		return 0;
	if (size != 0)
		memcpy(z, data, size);
	z[size] = '\0';
	keel_str_t s = {z, size};

	check_i64(s, z);
	check_u64(s, z, 10);
	check_u64(s, z, 16);

	size_t half = size / 2;
	check_compare(keel_str_sub(s, 0, half), keel_str_sub(s, half, size));
	keel_str_t t = keel_str_trim(s);
	CHECK(t.len <= s.len);
	CHECK(t.len == 0 || (t.ptr[0] != ' ' && t.ptr[0] != '\t'));
	if (size != 0)
		check_cut(s, z[0]);
	free(z);
	return 0;
}
