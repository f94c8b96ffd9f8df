#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/email.h"

static keel_str_t em_cs(const char *s)
{
	return (keel_str_t){s, strlen(s)};
}

static uint64_t em_rand(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static unsigned em_below(uint64_t *st, unsigned n)
{
	return (unsigned)(em_rand(st) % n);
}

/* Check from an exact-size heap copy so ASan sees any read past the end. */
static int em_check_exact(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int r;

	cr_assert_not_null(copy);
	memcpy(copy, s, len);
	r = keel_email_check((keel_str_t){copy, len});
	free(copy);
	return r;
}

/* The length rules the regex leaves out: total, local part, each label. */
static bool em_lengths_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t run = 0;

	if (len > KEEL_EMAIL_MAX || at == NULL)
		return false;
	if ((size_t)(at - s) > KEEL_EMAIL_LOCAL_MAX)
		return false;
	if (len - (size_t)(at - s) - 1 > KEEL_EMAIL_DOMAIN_MAX)
		return false;
	for (const char *p = at + 1; p < s + len; p++) {
		run = *p == '.' ? 0 : run + 1;
		if (run > KEEL_EMAIL_LABEL_MAX)
			return false;
	}
	return true;
}

/* The reference: KEEL_EMAIL_REGEX plus the length rules, via regexec. */
static bool em_reference(const regex_t *re, const char *s, size_t len)
{
	char buf[1024];

	if (memchr(s, '\0', len) != NULL || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return regexec(re, buf, 0, NULL, 0) == 0 && em_lengths_ok(s, len);
}

static void em_compile(regex_t *re)
{
	int r = regcomp(re, KEEL_EMAIL_REGEX, REG_EXTENDED | REG_NOSUB);

	cr_assert_eq(r, 0, "regcomp failed: %d", r);
}

/* Both the checker and the reference must give `want` for `s`. */
static void em_expect(const regex_t *re, const char *s, size_t len, bool want)
{
	int r = em_check_exact(s, len);

	cr_assert_eq(r == 0, want, "keel %s \"%.*s\"",
	             r ? "rejects" : "accepts", (int)len, s);
	cr_assert(r == 0 || r == KEEL_EINVAL);
	cr_assert_eq(em_reference(re, s, len), want,
	             "regex disagrees on \"%.*s\"", (int)len, s);
}

/* A string of `n` copies of `c` followed by `tail`, in `buf`. */
static const char *em_fill(char *buf, char c, size_t n, const char *tail)
{
	memset(buf, c, n);
	memcpy(buf + n, tail, strlen(tail) + 1);
	return buf;
}

static const char *em_valid[] = {
        "a@b.co",
        "user@example.com",
        "first.last@example.org",
        "x+tag@sub.example.co.uk",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "o'brien@example.ie",
        "a@b-c.de",
        "a@b--c.de",
        "a@xn--bcher-kva.example",
        "A.B.C@EXAMPLE.COM",
        "1@2.3a",
        "a@1-2.3-4",
        "a@123.com",
        "a@b.c",
        "_@a.b.c.d.e.f.g",
        "a.b.c.d@x.y",
        "-@x.y",
        "a-@x.y",
        "a@x.y1",
        "a@x.1y",
        "a@a1-b2.c3-d",
};

static const char *em_invalid[] = {
        "",
        "@",
        "a@",
        "@b.co",
        "a",
        "a.b.co",
        "a@b",
        "a@b.",
        "a@.b.co",
        "a@b..co",
        ".a@b.co",
        "a.@b.co",
        "a..b@c.co",
        "a@b@c.co",
        "a@@b.co",
        "a b@c.co",
        "\"a b\"@c.co",
        "\"ab\"@c.co",
        "a(comment)@b.co",
        "a@b.co(comment)",
        "a@[192.0.2.1]",
        "a@[IPv6:::1]",
        "a@192.0.2.1",
        "a@b.123",
        "a@-b.co",
        "a@b-.co",
        "a@b.co-",
        "a@b.-co",
        "a@b_c.co",
        "a@b.c_o",
        "jos\xc3\xa9@example.com",
        "a@ex\xc3\xa4mple.com",
        "a\\b@c.co",
        "a@b.co ",
        " a@b.co",
        "a@b.co\n",
        "a@b,co",
        "a@b.co.",
        "a,b@c.co",
        "a:b@c.co",
        "a;b@c.co",
        "<a@b.co>",
        "a@b.co>",
        "a[b]@c.co",
        "a@b!.co",
        "a@b.c\x7f",
        "a\t@b.co",
};

Test(email, valid_table_passes_checker_and_regex)
{
	regex_t re;

	em_compile(&re);
	for (size_t i = 0; i < KEEL_COUNTOF(em_valid); i++)
		em_expect(&re, em_valid[i], strlen(em_valid[i]), true);
	regfree(&re);
}

Test(email, invalid_table_fails_checker_and_regex)
{
	regex_t re;

	em_compile(&re);
	for (size_t i = 0; i < KEEL_COUNTOF(em_invalid); i++)
		em_expect(&re, em_invalid[i], strlen(em_invalid[i]), false);
	em_expect(&re, "a\0b@c.co", 8, false);
	em_expect(&re, "a@b.co\0", 7, false);
	cr_assert_eq(keel_email_check((keel_str_t){NULL, 0}), KEEL_EINVAL);
	regfree(&re);
}

Test(email, reads_only_its_slice)
{
	/* The slice stops before "m": "a@b.co" is valid, the rest unseen. */
	cr_assert_eq(keel_email_check((keel_str_t){"a@b.com@@", 6}), 0);
	cr_assert_eq(keel_email_check((keel_str_t){"a@b.com", 4}), KEEL_EINVAL);
	cr_assert_eq(keel_email_check(em_cs("a@b.com")), 0);
}

Test(email, length_limits_at_their_boundaries)
{
	regex_t re;
	char buf[400], label63[70], label64[70];

	em_compile(&re);
	/* local part: 64 is the limit */
	em_expect(&re, em_fill(buf, 'l', 64, "@x.co"), 69, true);
	em_expect(&re, em_fill(buf, 'l', 65, "@x.co"), 70, false);
	/* one label: 63 is the limit, wherever it stands */
	em_fill(label63, 'd', 63, "");
	em_fill(label64, 'd', 64, "");
	snprintf(buf, sizeof(buf), "a@%s.co", label63);
	em_expect(&re, buf, strlen(buf), true);
	snprintf(buf, sizeof(buf), "a@%s.co", label64);
	em_expect(&re, buf, strlen(buf), false);
	snprintf(buf, sizeof(buf), "a@co.%s", label63);
	em_expect(&re, buf, strlen(buf), true);
	snprintf(buf, sizeof(buf), "a@co.%s", label64);
	em_expect(&re, buf, strlen(buf), false);
	/* whole address: 64 + 1 + 63.63.61 = 254 is the limit */
	em_fill(buf, 'l', 64, "@");
	snprintf(buf + 65, sizeof(buf) - 65, "%s.%s.%.61s", label63, label63,
	         label63);
	cr_assert_eq(strlen(buf), 254);
	em_expect(&re, buf, 254, true);
	snprintf(buf + 65, sizeof(buf) - 65, "%s.%s.%.62s", label63, label63,
	         label63);
	em_expect(&re, buf, 255, false);
	/* a shorter local part does not make room for more than 254 */
	snprintf(buf, sizeof(buf), "a@%s.%s.%s.%.61s", label63, label63,
	         label63, label63);
	cr_assert_eq(strlen(buf), 2 + KEEL_EMAIL_DOMAIN_MAX);
	em_expect(&re, buf, strlen(buf), false);
	regfree(&re);
}

/* Append a random run of `n` bytes from `alpha` at buf[*len]. */
static void em_append(uint64_t *st, char *buf, size_t *len, size_t n,
                      const char *alpha)
{
	size_t na = strlen(alpha);

	for (size_t i = 0; i < n; i++)
		buf[(*len)++] = alpha[em_below(st, (unsigned)na)];
	buf[*len] = '\0';
}

/* Random bytes from an alphabet where every rule has a way to fail. */
static size_t em_gen_noise(uint64_t *st, char *buf)
{
	size_t len = 0;

	em_append(st, buf, &len, em_below(st, 24),
	          "ab9Z.@.@-_+!~\"( )[]\xc3\t\\,:-.ab0");
	return len;
}

/*
 * A structured candidate: local part and labels of random length (around
 * the limits, sometimes), separators that are sometimes doubled or odd.
 */
static size_t em_gen_shaped(uint64_t *st, char *buf)
{
	static const char *local = "abcXYZ019!#$%&'*+-/=?^_`{|}~.";
	static const char *label = "abcxyzAZ0123456789-";
	size_t len = 0;
	unsigned labels =
	        em_below(st, 4) ? 2 + em_below(st, 3) : em_below(st, 5);
	bool big = em_below(st, 8) == 0;

	em_append(st, buf, &len,
	          big               ? 55 + em_below(st, 15)
	          : em_below(st, 9) ? 1 + em_below(st, 8)
	                            : 0,
	          local);
	buf[len++] = em_below(st, 30) ? '@' : '.';
	for (unsigned k = 0; k < labels; k++) {
		if (k > 0)
			buf[len++] = em_below(st, 40) ? '.' : '@';
		em_append(st, buf, &len,
		          big               ? 50 + em_below(st, 20)
		          : em_below(st, 9) ? 1 + em_below(st, 6)
		                            : 0,
		          label);
	}
	buf[len] = '\0';
	return len;
}

/* Flip, delete or insert a byte, to walk just off the valid strings. */
static size_t em_mutate(uint64_t *st, char *buf, size_t len)
{
	static const char *alpha = ".@-a0_\"\xe9 ";
	size_t at = len ? em_below(st, (unsigned)len) : 0;

	switch (em_below(st, 3)) {
	case 0:
		if (len)
			buf[at] = alpha[em_below(st, (unsigned)strlen(alpha))];
		return len;
	case 1:
		if (len)
			memmove(buf + at, buf + at + 1, len-- - at);
		return len;
	default:
		memmove(buf + at + 1, buf + at, len - at + 1);
		buf[at] = alpha[em_below(st, (unsigned)strlen(alpha))];
		return len + 1;
	}
}

Test(email, checker_agrees_with_regex_on_generated_strings)
{
	regex_t re;
	uint64_t st = 0xe3a11;
	unsigned accepted = 0, total = 150000;

	em_compile(&re);
	for (unsigned i = 0; i < total; i++) {
		char buf[512];
		size_t len = i % 3 == 0 ? em_gen_noise(&st, buf)
		                        : em_gen_shaped(&st, buf);
		if (i % 3 == 2)
			len = em_mutate(&st, buf, len);
		bool want = em_reference(&re, buf, len);
		int r = em_check_exact(buf, len);

		cr_assert_eq(r == 0, want, "\"%.*s\": keel %d, regex %d",
		             (int)len, buf, r, want);
		accepted += want;
	}
	regfree(&re);
	cr_assert_gt(accepted, total / 10, "generator too weak: %u", accepted);
	cr_assert_lt(accepted, total / 2, "generator too kind");
}
