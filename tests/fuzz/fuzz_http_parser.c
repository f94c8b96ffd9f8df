/*
 * fuzz_http_parser - the request-head parser against its own promises.
 *
 * For each input: the verdict is one of the documented ones; a complete
 * head is no longer than the input and every slice lies inside the buffer;
 * a prefix of the input (cut at a point derived from the input) either
 * asks for more or already gives the whole input's verdict; the scan gate,
 * fed the prefix then everything, agrees with one call on everything and
 * only says "ready" when the parser has a verdict.  A parsed path must
 * decode to something free of dot segments, and query pairs must decode
 * within the query's length.  Any breach aborts.
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

#define CAP 16

static bool inside(keel_str_t s, const char *buf, size_t len)
{
	if (s.len == 0)
		return true;
	return s.ptr >= buf && s.ptr + s.len <= buf + len;
}

/* Only absolute-form without a path may point outside: at a static "/". */
static void check_slices(const keel_http_request_t *r, const char *buf,
                         size_t len)
{
	CHECK(inside(r->method_name, buf, len));
	CHECK(inside(r->target, buf, len));
	CHECK(inside(r->authority, buf, len));
	CHECK(inside(r->query, buf, len));
	CHECK(r->path.len != 0);
	CHECK(inside(r->path, buf, len) ||
	      (r->form == KEEL_HTTP_FORM_ABSOLUTE && r->path.len == 1 &&
	       r->path.ptr[0] == '/'));
	CHECK(r->header_count <= CAP);
	for (size_t i = 0; i < r->header_count; i++) {
		CHECK(r->headers[i].name.len != 0);
		CHECK(inside(r->headers[i].name, buf, len));
		CHECK(inside(r->headers[i].value, buf, len));
	}
	CHECK(r->minor_version == 0 || r->minor_version == 1);
	CHECK(!(r->chunked && r->content_length != 0));
}

/* A decoded path starts with '/' and holds no "." or ".." segment. */
static void check_path(keel_str_t raw)
{
	char *out = malloc(raw.len + 1);
	size_t n = 0;
	CHECK(out != NULL);
	if (keel_http_path_decode(raw, out, raw.len, &n) == KEEL_OK) {
		CHECK(n >= 1 && n <= raw.len && out[0] == '/');
		out[n] = '/';
		for (size_t i = 0; i + 1 < n; i++) {
			if (out[i] != '/' || out[i + 1] != '.')
				continue;
			CHECK(out[i + 2] != '/');
			CHECK(!(i + 3 <= n && out[i + 2] == '.' &&
			        out[i + 3] == '/'));
		}
		for (size_t i = 0; i < n; i++)
			CHECK(out[i] != '\0' && out[i] != '\\');
	}
	free(out);
}

/* Query pairs decode into a buffer as long as the query, never longer. */
static void check_query(keel_str_t q)
{
	char *buf = malloc(q.len != 0 ? q.len : 1);
	CHECK(buf != NULL);
	keel_http_query_iter_t it;
	keel_http_query_init(&it, q);
	keel_str_t k, v;
	int rc;
	size_t pairs = 0;
	while ((rc = keel_http_query_next(&it, buf, q.len, &k, &v)) !=
	       KEEL_ENOENT) {
		CHECK(rc == KEEL_OK || rc == KEEL_EINVAL);
		CHECK(rc != KEEL_OK || k.len + v.len <= q.len);
		CHECK(++pairs <= q.len);
	}
	free(buf);
}

static int parse(const char *buf, size_t len, const keel_http_limits_t *lim,
                 keel_http_request_t *r, keel_http_header_t *h, int *status)
{
	int rc = keel_http_parse_request(buf, len, lim, r, h, CAP, status);
	if (rc == KEEL_EINVAL) {
		static const int allowed[] = {400, 413, 414, 417,
		                              431, 501, 505};
		bool ok = false;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
			ok = ok || *status == allowed[i];
		CHECK(ok);
	} else {
		CHECK(rc == KEEL_AGAIN || (rc > 0 && (size_t)rc <= len));
		CHECK(*status == 0);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const keel_http_limits_t small = {40, 32, 4, 128, 100, 16};
	unsigned sum = 0;
	for (size_t i = 0; i < size; i++)
		sum = sum * 31 + data[i];
	const keel_http_limits_t *lim = (sum & 1) ? &small : NULL;
	size_t cut = size != 0 ? (sum >> 1) % (size + 1) : 0;

	char *buf = malloc(size != 0 ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, data, size);
	keel_http_header_t h[CAP];
	keel_http_request_t r;
	int st = 0, pst = 0;
	int pre = parse(buf, cut, lim, &r, h, &pst);
	int rc = parse(buf, size, lim, &r, h, &st);
	if (pre != KEEL_AGAIN)
		CHECK(pre == rc && pst == st);
	if (rc > 0) {
		check_slices(&r, buf, size);
		if (r.form != KEEL_HTTP_FORM_ASTERISK)
			check_path(r.path);
		check_query(r.query);
	}

	keel_http_scan_t split = {0}, one = {0};
	int g = keel_http_scan(&one, buf, size, lim);
	if (keel_http_scan(&split, buf, cut, lim) == KEEL_OK)
		CHECK(g == KEEL_OK && pre != KEEL_AGAIN);
	else
		CHECK(keel_http_scan(&split, buf, size, lim) == g);
	if (g == KEEL_OK)
		CHECK(rc != KEEL_AGAIN);
	else
		CHECK(rc == KEEL_AGAIN || rc == KEEL_EINVAL);
	free(buf);
	return 0;
}
