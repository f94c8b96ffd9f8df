/*
 * fuzz_form - urlencoded form bodies.  A body either fails as a whole or
 * yields at most the allowed number of fields, each valid UTF-8 without
 * NUL, in the same order and with the same bytes as an independent
 * decoding of the pairs; decoded text never outgrows the body.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Reference decoder: '+' and %XX, written apart from the library. */
static bool ref_decode(keel_str_t s, char *out, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c == '%') {
			if (i + 2 >= s.len || hexval(s.ptr[i + 1]) < 0 ||
			    hexval(s.ptr[i + 2]) < 0)
				return false;
			c = (char)(hexval(s.ptr[i + 1]) * 16 +
			           hexval(s.ptr[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		out[(*n)++] = c;
	}
	return true;
}

/* Field i matches the i-th non-empty pair of the body. */
static void compare(keel_str_t body, const keel_form_t *f)
{
	char *tmp = malloc(body.len + 1);
	CHECK(tmp != NULL);
	size_t i = 0;
	while (body.len > 0) {
		keel_str_t pair = keel_str_cut(&body, '&');
		if (pair.len == 0)
			continue;
		CHECK(i < f->count);
		keel_str_t key = keel_str_cut(&pair, '=');
		size_t n;
		CHECK(ref_decode(key, tmp, &n));
		CHECK(n == f->fields[i].name.len &&
		      memcmp(tmp, f->fields[i].name.ptr, n) == 0);
		CHECK(ref_decode(pair, tmp, &n));
		CHECK(n == f->fields[i].value.len &&
		      memcmp(tmp, f->fields[i].value.ptr, n) == 0);
		CHECK(memchr(f->fields[i].name.ptr, 0, f->fields[i].name.len) ==
		      NULL);
		i++;
	}
	CHECK(i == f->count);
	free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	keel_str_t body = {(const char *)data, size};
	size_t max = size > 0 ? data[0] % 16 : 0;
	keel_arena_t a;
	keel_arena_init(&a, 0, 0);
	keel_form_t f;
	int rc = keel_form_parse(&a, body, max, &f);
	CHECK(rc == KEEL_OK || rc == KEEL_EINVAL || rc == KEEL_ELIMIT);
	if (rc == KEEL_OK) {
		CHECK(f.count <= max);
		size_t total = 0;
		for (size_t i = 0; i < f.count; i++)
			total += f.fields[i].name.len + f.fields[i].value.len;
		CHECK(total <= size);
		compare(body, &f);
	} else {
		CHECK(f.count == 0 && f.fields == NULL);
	}
	keel_arena_deinit(&a);
	return 0;
}
