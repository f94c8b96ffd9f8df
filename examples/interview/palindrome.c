/*
 * palindrome - does a text read the same backwards?  Checked recursively.
 *
 *   palindrome [-i] [--iter] [TEXT ...]   (no TEXT: each line of stdin)
 *
 *   -i      ignore case and everything but ASCII letters and digits, so
 *           "A man, a plan, a canal: Panama" counts.  Without -i every byte
 *           counts, spaces and case included.
 *   --iter  use the loop version instead of the recursive one.
 *
 * Prints "yes: TEXT" or "no: TEXT" per input.  Exit 0 when every input is a
 * palindrome, 1 when one is not (as grep does), 2 on bad usage or input.
 * The empty text and one-character texts are palindromes.  Bytes are
 * compared, not characters: a UTF-8 letter of several bytes does not read
 * the same reversed, and -i drops all non-ASCII bytes.
 *
 * Complexity: O(n) time for both versions.  Memory: the recursion makes one
 * call per pair of compared bytes, so up to n/2 stack frames - O(n) stack,
 * which a long enough line turns into a crash.  Hence the bound: inputs over
 * MAX_RECURSIVE bytes are refused in recursive mode (depth <= 32768 frames,
 * well inside the default 8 MiB stack even with sanitizers).  The iterative
 * version has O(1) memory and no limit: the same two indices, moved by a
 * loop instead of by calls.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECURSIVE 65536

struct opts {
	bool fold; /* -i */
	bool iter; /* --iter */
};

static bool keep(const struct opts *o, unsigned char c)
{
	return !o->fold || (c < 128 && isalnum(c));
}

static bool same(const struct opts *o, unsigned char a, unsigned char b)
{
	return o->fold ? tolower(a) == tolower(b) : a == b;
}

/* Is s[lo..hi] a palindrome?  lo and hi walk inwards, one call per pair. */
static bool pal_rec(const struct opts *o, const char *s, size_t lo, size_t hi)
{
	while (lo < hi && !keep(o, (unsigned char)s[lo]))
		lo++;
	while (lo < hi && !keep(o, (unsigned char)s[hi]))
		hi--;
	if (lo >= hi)
		return true;
	if (!same(o, (unsigned char)s[lo], (unsigned char)s[hi]))
		return false;
	return pal_rec(o, s, lo + 1, hi - 1);
}

/* The same walk as a loop: no stack growth, any length. */
static bool pal_iter(const struct opts *o, const char *s, size_t n)
{
	size_t lo = 0, hi = n ? n - 1 : 0;

	while (lo < hi) {
		if (!keep(o, (unsigned char)s[lo])) {
			lo++;
		} else if (!keep(o, (unsigned char)s[hi])) {
			hi--;
		} else if (!same(o, (unsigned char)s[lo],
		                 (unsigned char)s[hi])) {
			return false;
		} else {
			lo++;
			hi--;
		}
	}
	return true;
}

/* Check and print one text; returns 0 yes, 1 no, 2 refused. */
static int check(const struct opts *o, const char *s, size_t n)
{
	bool yes;

	if (!o->iter && n > MAX_RECURSIVE) {
		fprintf(stderr,
		        "palindrome: input of %zu bytes is over the recursion "
		        "bound of %d; use --iter\n",
		        n, MAX_RECURSIVE);
		return 2;
	}
	yes = o->iter ? pal_iter(o, s, n) : n == 0 || pal_rec(o, s, 0, n - 1);
	printf("%s: ", yes ? "yes" : "no");
	fwrite(s, 1, n, stdout);
	putchar('\n');
	return yes ? 0 : 1;
}

/* Each stdin line, without its "\n" or "\r\n"; keeps the worst result. */
static int check_stdin(const struct opts *o)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0, r;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		r = check(o, line, (size_t)n);
		rc = r > rc ? r : rc;
	}
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int i = 1, rc = 0, r;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-i")) {
			o.fold = true;
		} else if (!strcmp(argv[i], "--iter")) {
			o.iter = true;
		} else {
			fprintf(stderr, "palindrome: unknown option %s\n",
			        argv[i]);
			fprintf(stderr, "usage: palindrome [-i] [--iter] "
			                "[TEXT ...]\n");
			return 2;
		}
	}
	if (i == argc)
		return check_stdin(&o);
	for (; i < argc; i++) {
		r = check(&o, argv[i], strlen(argv[i]));
		rc = r > rc ? r : rc;
	}
	return rc;
}
