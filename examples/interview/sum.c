/*
 * sum - 1 + 2 + ... + n, by Gauss's formula and by a loop, side by side.
 *
 *   sum N
 *
 * Prints, one "name: value" per line: n, the formula's sum, the loop's sum
 * (or "skipped" when n > 10^8), whether the two agree, and whether the sum
 * still fits a signed 32-bit int.
 *
 * Complexity: the formula n(n+1)/2 is O(1); the loop is O(n), 10^8 additions
 * take a fraction of a second.  Both use uint64_t.
 *
 * Overflow: the sum grows like n^2/2.  A signed 32-bit int first overflows
 * at n = 65536 (sum 2147516416 > 2^31 - 1), unsigned 32-bit at n = 92682.
 * For n = 10^8 the sum is 5000000050000000, about 2^52: it needs 64 bits.
 * uint64_t holds the sum up to n = 6074000999; a larger n is refused with a
 * message and exit 1, as is anything that is not a whole number >= 0 (exit 2).
 * Note that n(n+1) overflows before the division by 2 would bring it back,
 * so the formula halves whichever of n and n+1 is even first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define LOOP_MAX  UINT64_C(100000000)
#define INT32_TOP UINT64_C(65535) /* largest n whose sum fits int32_t */

/* n(n+1)/2 without a wider intermediate; false when it overflows. */
static bool sum_formula(uint64_t n, uint64_t *out)
{
	uint64_t a = n, b = n + 1;

	if (n == UINT64_MAX)
		return false;
	if (a % 2 == 0)
		a /= 2;
	else
		b /= 2;
	return !__builtin_mul_overflow(a, b, out);
}

static uint64_t sum_loop(uint64_t n)
{
	uint64_t s = 0;

	for (uint64_t i = 1; i <= n; i++)
		s += i;
	return s;
}

/* Strict: digits only (no sign, spaces or "0x"), no overflow. */
static bool parse_n(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	uint64_t n, f, l = 0;
	bool looped;

	if (argc != 2) {
		fprintf(stderr, "usage: sum N   (0 <= N <= 6074000999)\n");
		return 2;
	}
	if (!parse_n(argv[1], &n)) {
		fprintf(stderr, "sum: not a whole number >= 0: %s\n", argv[1]);
		return 2;
	}
	if (!sum_formula(n, &f)) {
		fprintf(stderr,
		        "sum: 1 + ... + %s overflows uint64 "
		        "(largest n is 6074000999)\n",
		        argv[1]);
		return 1;
	}
	looped = n <= LOOP_MAX;
	if (looped)
		l = sum_loop(n);
	printf("n: %" PRIu64 "\nformula: %" PRIu64 "\n", n, f);
	if (looped)
		printf("loop: %" PRIu64 "\nagree: %s\n", l,
		       l == f ? "yes" : "no");
	else
		printf("loop: skipped (n > 100000000)\nagree: -\n");
	printf("int32: %s\n", n <= INT32_TOP ? "fits" : "overflows");
	return looped && l != f;
}
