/*
 * Fuzz keel_email_check against its specification: KEEL_EMAIL_REGEX run by
 * glibc's regexec plus the length limits from keel/email.h.  Any input on
 * which the two disagree, and any crash, aborts.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "keel/email.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool lengths_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t run = 0;

	if (len > KEEL_EMAIL_MAX || at == NULL ||
	    (size_t)(at - s) > KEEL_EMAIL_LOCAL_MAX ||
	    len - (size_t)(at - s) - 1 > KEEL_EMAIL_DOMAIN_MAX)
		return false;
	for (const char *p = at + 1; p < s + len; p++) {
		run = *p == '.' ? 0 : run + 1;
		if (run > KEEL_EMAIL_LABEL_MAX)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static regex_t re;
	static bool compiled;
	char text[1024];
	const char *s = (const char *)data;
	bool want;

	if (!compiled) {
		if (regcomp(&re, KEEL_EMAIL_REGEX, REG_EXTENDED | REG_NOSUB))
			abort();
		compiled = true;
	}
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	want = memchr(s, '\0', size) == NULL &&
	       regexec(&re, text, 0, NULL, 0) == 0 && lengths_ok(s, size);
	if ((keel_email_check((keel_str_t){s, size}) == 0) != want)
		abort();
	return 0;
}
