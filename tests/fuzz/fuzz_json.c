/*
 * fuzz_json - the JSON writer and the request body reader against jansson.
 *
 * The first input byte picks a mode, the rest is the payload:
 *  0: one string through the writer (bit 0 of the mode byte off: HTML-safe).
 *     It must be accepted exactly when jansson's own UTF-8 check accepts
 *     it, and then the output must contain no raw control byte (nor < > &
 *     when HTML-safe) and parse back to the same bytes.
 *  1: the payload as a request body through keel_req_json.  The depth
 *     pre-scan must equal the real depth of anything jansson parses, the
 *     reader must accept exactly what is shallow enough and parses, and
 *     every refusal must carry a status and a printable message.
 *  2: the payload as a program driving the writer (open, close, key,
 *     values in any order): whenever keel_json_finish says 0, the output
 *     must be one valid JSON document; on any error the buffer is empty.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "keel/json.h"
#include "keel/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* Parses doc as one JSON value with NULs allowed; NULL if invalid. */
static json_t *load(const keel_buf_t *doc)
{
	json_error_t e;
	return json_loadb(doc->data, doc->len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	                  &e);
}

static void fuzz_string(const uint8_t *s, size_t n, unsigned flags)
{
	keel_buf_t b;
	keel_json_t w;
	keel_buf_init(&b, 0);
	keel_json_init(&w, &b, flags);
	int rc = keel_json_write_str(&w, (keel_str_t){(const char *)s, n});
	json_t *ref = json_stringn((const char *)s, n);
	CHECK((rc == 0) == (ref != NULL));
	json_decref(ref);
	if (rc != 0) {
		CHECK(rc == KEEL_EINVAL && b.len == 0);
		keel_buf_deinit(&b);
		return;
	}
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		CHECK(c >= 0x20);
		CHECK(flags || (c != '<' && c != '>' && c != '&'));
	}
	json_t *back = load(&b);
	CHECK(back != NULL && json_is_string(back));
	CHECK(json_string_length(back) == n);
	CHECK(n == 0 || memcmp(json_string_value(back), s, n) == 0);
	json_decref(back);
	keel_buf_deinit(&b);
}

/* Nesting depth of a parsed tree: a scalar 0, [] 1. */
static size_t tree_depth(json_t *j)
{
	size_t max = 0;
	if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			size_t d = tree_depth(json_array_get(j, i));
			max = d > max ? d : max;
		}
		return max + 1;
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
		{
			size_t d = tree_depth(v);
			max = d > max ? d : max;
		}
		return max + 1;
	}
	return 0;
}

static void fuzz_reader(const uint8_t *body, size_t n)
{
	keel_str_t s = {(const char *)body, n};
	size_t depth = keel_json_depth(s);
	json_error_t e;
	json_t *ref = json_loadb(s.ptr, n,
	                         JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (ref != NULL)
		CHECK(tree_depth(ref) == depth);

	keel_req_t req;
	keel_http_header_t hdr = {KEEL_STR("Content-Type"),
	                          KEEL_STR("application/json")};
	memset(&req, 0, sizeof(req));
	req.head.headers = &hdr;
	req.head.header_count = 1;
	keel_buf_init(&req.body, 0);
	keel_arena_init(&req.arena, 4096, (size_t)8 << 20);
	CHECK(keel_buf_append(&req.body, body, n) == 0);
	json_t *got = NULL;
	keel_json_error_t err;
	int rc = keel_req_json(&req, &got, &err);
	bool want = n > 0 && depth <= KEEL_JSON_MAX_DEPTH && ref != NULL;
	CHECK((rc == 0) == want);
	if (rc == 0)
		CHECK(json_equal(got, ref));
	else
		CHECK(err.status == 400 && err.message[0] != '\0');
	for (const char *p = err.message; rc != 0 && *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e);
	json_decref(ref);
	keel_arena_deinit(&req.arena);
	keel_buf_deinit(&req.body);
}

/* One writer call chosen by the byte `op`; strings come from `arg`. */
static void writer_step(keel_json_t *w, uint8_t op, keel_str_t arg)
{
	switch (op % 11) {
	case 0: keel_json_begin_object(w); break;
	case 1: keel_json_end_object(w); break;
	case 2: keel_json_begin_array(w); break;
	case 3: keel_json_end_array(w); break;
	case 4: keel_json_key_str(w, arg); break;
	case 5: keel_json_write_str(w, arg); break;
	case 6: keel_json_write_int(w, (int64_t)op * -77777777777LL); break;
	case 7: keel_json_write_uint(w, (uint64_t)op << 56); break;
	case 8: keel_json_write_double(w, (double)op / 7.0); break;
	case 9: keel_json_write_bool(w, op & 16); break;
	default: keel_json_write_null(w); break;
	}
}

static void fuzz_program(const uint8_t *p, size_t n, unsigned flags)
{
	keel_buf_t b;
	keel_json_t w;
	keel_buf_init(&b, 0);
	keel_json_init(&w, &b, flags);
	for (size_t i = 0; i < n; i++) {
		/* the next two bytes double as a short string argument */
		size_t alen = n - i - 1 < 2 ? n - i - 1 : 2;
		writer_step(&w, p[i],
		            (keel_str_t){(const char *)p + i + 1, alen});
	}
	int rc = keel_json_finish(&w);
	if (rc == 0) {
		/* as reals: jansson's integers stop at INT64_MAX; and it
		 * cannot hold a NUL in a key, which JSON allows */
		json_error_t e;
		json_t *j =
		        json_loadb(b.data, b.len,
		                   JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL |
		                           JSON_ALLOW_NUL,
		                   &e);
		CHECK(j != NULL ||
		      json_error_code(&e) == json_error_null_byte_in_key);
		json_decref(j);
	} else if (w.err != 0) { /* a failed call, not just unfinished */
		CHECK(b.len == 0);
	}
	keel_buf_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	unsigned flags = data[0] & 4 ? KEEL_JSON_NO_HTML_ESCAPE : 0;
	switch (data[0] % 3) {
	case 0: fuzz_string(p, n, flags); break;
	case 1: fuzz_reader(p, n); break;
	default: fuzz_program(p, n, flags); break;
	}
	return 0;
}
