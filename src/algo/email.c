/*
 * Email address syntax check: a hand-written scanner for the language that
 * KEEL_EMAIL_REGEX and the length limits in keel/email.h describe.  One
 * pass, no backtracking, no allocation; the unit test and the fuzz target
 * hold it to the regex.
 */
#include <string.h>

#include "keel/email.h"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* RFC 5322 atext: the bytes a dot-atom may hold besides its dots. */
static bool is_atext(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * Local part as a dot-atom: atext runs separated by single dots.  A dot
 * is valid only right after an atext byte and only if one follows.
 */
static bool local_ok(keel_str_t s)
{
	bool after_atext = false;

	if (s.len == 0 || s.len > KEEL_EMAIL_LOCAL_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '.' && after_atext)
			after_atext = false;
		else if (is_atext(s.ptr[i]))
			after_atext = true;
		else
			return false;
	}
	return after_atext;
}

/*
 * One label: 1..63 letters, digits, hyphens, no hyphen at either end.
 * `*has_non_digit` tells the caller whether it could be a top-level label.
 */
static bool label_ok(keel_str_t s, bool *has_non_digit)
{
	*has_non_digit = false;
	if (s.len == 0 || s.len > KEEL_EMAIL_LABEL_MAX)
		return false;
	if (s.ptr[0] == '-' || s.ptr[s.len - 1] == '-')
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!is_alnum(c) && c != '-')
			return false;
		if (c < '0' || c > '9')
			*has_non_digit = true;
	}
	return true;
}

/* Two or more labels; the last one must not be all digits. */
static bool domain_ok(keel_str_t s)
{
	size_t start = 0, labels = 0;
	bool non_digit = false;

	if (s.len > KEEL_EMAIL_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= s.len; i++) {
		if (i < s.len && s.ptr[i] != '.')
			continue;
		if (!label_ok((keel_str_t){s.ptr + start, i - start},
		              &non_digit))
			return false;
		labels++;
		start = i + 1;
	}
	return labels >= 2 && non_digit;
}

int keel_email_check(keel_str_t s)
{
	const char *at;
	size_t local_len;

	if (s.ptr == NULL || s.len > KEEL_EMAIL_MAX)
		return KEEL_EINVAL;
	at = memchr(s.ptr, '@', s.len);
	if (at == NULL)
		return KEEL_EINVAL;
	local_len = (size_t)(at - s.ptr);
	if (!local_ok((keel_str_t){s.ptr, local_len}))
		return KEEL_EINVAL;
	if (!domain_ok((keel_str_t){at + 1, s.len - local_len - 1}))
		return KEEL_EINVAL;
	return KEEL_OK;
}
