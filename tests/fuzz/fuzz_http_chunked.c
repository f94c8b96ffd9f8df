/*
 * fuzz_http_chunked - the chunked decoder is indifferent to how its input
 * is cut.  Each input is decoded whole, in two pieces cut at a point
 * derived from the input, and (when short) a byte at a time; verdict,
 * status, bytes consumed and decoded body must agree, consumed bytes stay
 * within the input and decoded bytes within the consumed ones.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

struct result {
	int rc, status;
	size_t consumed, body_len;
	char *body;
};

/* Decode data fed in pieces of `step` bytes (0: all at once). */
static struct result run(const uint8_t *data, size_t size, size_t first,
                         size_t step, const keel_http_limits_t *lim)
{
	struct result res = {.rc = KEEL_AGAIN};
	char *buf = malloc(size != 0 ? size : 1);
	res.body = malloc(size != 0 ? size : 1);
	CHECK(buf != NULL && res.body != NULL);
	memcpy(buf, data, size);
	keel_http_chunked_t d;
	keel_http_chunked_init(&d, lim);
	size_t from = 0, to = first;
	while (res.rc == KEEL_AGAIN) {
		size_t used = 0, got = 0;
		res.rc = keel_http_chunked_decode(&d, buf + from, to - from,
		                                  &used, &got, &res.status);
		CHECK(used <= to - from && got <= used);
		CHECK(res.rc != KEEL_AGAIN || used == to - from);
		memcpy(res.body + res.body_len, buf + from, got);
		res.body_len += got;
		res.consumed += used;
		if (to == size)
			break;
		from = to;
		to = (step == 0 || size - to < step) ? size : to + step;
	}
	CHECK(res.rc == KEEL_AGAIN || res.rc == KEEL_OK ||
	      res.rc == KEEL_EINVAL);
	CHECK(res.rc != KEEL_EINVAL || res.status == 400 || res.status == 413 ||
	      res.status == 431);
	free(buf);
	return res;
}

static void same(const struct result *a, const struct result *b)
{
	CHECK(a->rc == b->rc && a->status == b->status);
	CHECK(a->consumed == b->consumed && a->body_len == b->body_len);
	CHECK(a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const keel_http_limits_t small = {40, 24, 3, 64, 64, 12};
	unsigned sum = 0;
	for (size_t i = 0; i < size; i++)
		sum = sum * 31 + data[i];
	const keel_http_limits_t *lim = (sum & 1) ? &small : NULL;
	size_t cut = size != 0 ? (sum >> 1) % (size + 1) : 0;

	struct result whole = run(data, size, size, 0, lim);
	CHECK(whole.consumed <= size);
	struct result two = run(data, size, cut, 0, lim);
	same(&whole, &two);
	free(two.body);
	if (size <= 512) {
		struct result bytes = run(data, size, size != 0, 1, lim);
		same(&whole, &bytes);
		free(bytes.body);
	}
	free(whole.body);
	return 0;
}
