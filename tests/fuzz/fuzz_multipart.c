/*
 * fuzz_multipart - the streaming multipart parser is indifferent to how
 * its input is cut.  Each input (its first byte picks the boundary and
 * the limits) is parsed whole, in pieces of pseudo-random sizes derived
 * from the input, and a byte at a time when short: the events (part
 * begins with their headers, data concatenated per part, ends), the final
 * code and the HTTP status must agree.  Events must also nest properly,
 * sizes must add up and stay within the limits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

typedef struct trace {
	keel_buf_t log;
	bool open;    /* between a begin and its end */
	uint64_t got; /* data bytes of the open part */
	const keel_multipart_limits_t *lim;
} trace_t;

static int on_begin(void *ud, const keel_multipart_part_t *p)
{
	trace_t *t = ud;
	CHECK(!t->open && p->size == 0);
	t->open = true;
	t->got = 0;
	keel_buf_appendf(&t->log, "<%zu|%d|", p->index, p->is_file);
	keel_buf_append_str(&t->log, p->name);
	keel_buf_append_char(&t->log, '|');
	keel_buf_append_str(&t->log, p->filename);
	keel_buf_append_char(&t->log, '|');
	keel_buf_append_str(&t->log, p->content_type);
	keel_buf_append_char(&t->log, '>');
	/* "stop" in a name exercises the callback refusal path */
	return keel_str_eq(p->name, KEEL_STR("stop")) ? 422 : 0;
}

static int on_data(void *ud, const keel_multipart_part_t *p, const char *d,
                   size_t n)
{
	trace_t *t = ud;
	CHECK(t->open && n > 0);
	t->got += n;
	CHECK(p->size == t->got);
	CHECK(p->size <=
	      (p->is_file ? t->lim->max_file_bytes : t->lim->max_field_bytes));
	keel_buf_append(&t->log, d, n);
	return 0;
}

static int on_end(void *ud, const keel_multipart_part_t *p)
{
	trace_t *t = ud;
	CHECK(t->open && p->size == t->got);
	t->open = false;
	keel_buf_appendf(&t->log, "</%zu>", p->index);
	return 0;
}

typedef struct result {
	int rc, status;
	char *log;
	size_t log_len;
} result_t;

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* Feed in pieces of at most `step` bytes (0: all at once; step > size:
 * pseudo-random sizes seeded by `seed`). */
static result_t run(keel_str_t boundary, const keel_multipart_limits_t *lim,
                    const char *body, size_t size, size_t step, uint32_t seed)
{
	static const keel_multipart_callbacks_t cb = {on_begin, on_data,
	                                              on_end};
	trace_t t = {.lim = lim};
	keel_buf_init(&t.log, 0);
	keel_multipart_t mp;
	CHECK(keel_multipart_init(&mp, boundary, lim, &cb, &t) == KEEL_OK);
	int rc = KEEL_AGAIN;
	size_t off = 0;
	do {
		size_t n = step == 0     ? size - off
		           : step > size ? next_rand(&seed) % 9
		                         : step;
		n = n > size - off ? size - off : n;
		rc = keel_multipart_feed(&mp, body + off, n);
		off += n;
	} while (off < size);
	if (rc == KEEL_AGAIN)
		rc = keel_multipart_finish(&mp);
	CHECK(rc == KEEL_OK || rc == KEEL_EINVAL || rc == KEEL_ELIMIT ||
	      rc == KEEL_ESTATE);
	int st = keel_multipart_status(&mp);
	CHECK((rc == KEEL_OK) == (st == 0));
	CHECK(rc != KEEL_EINVAL || st == 400);
	CHECK(rc != KEEL_ELIMIT || st == 413);
	CHECK(rc != KEEL_ESTATE || st == 422);
	keel_multipart_deinit(&mp);
	result_t r = {rc, st, NULL, 0};
	r.log = keel_buf_detach(&t.log, &r.log_len);
	CHECK(r.log != NULL);
	return r;
}

static void same(const result_t *a, const result_t *b)
{
	CHECK(a->rc == b->rc && a->status == b->status);
	CHECK(a->log_len == b->log_len &&
	      memcmp(a->log, b->log, a->log_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const boundaries[] = {"b", "XyZ", "--a-b",
	                                         "----WebKitFormBoundary7MA4Y"};
	static const keel_multipart_limits_t tight = {
	        .max_parts = 3,
	        .max_header_bytes = 64,
	        .max_field_bytes = 8,
	        .max_file_bytes = 16,
	        .max_total = 200,
	};
	static const keel_multipart_limits_t roomy = {
	        .max_parts = 100,
	        .max_header_bytes = 8192,
	        .max_field_bytes = 1 << 20,
	        .max_file_bytes = 1 << 20,
	        .max_total = 1 << 22,
	};
	if (size < 1)
		return 0;
	keel_str_t boundary = keel_str_from_cstr(boundaries[data[0] & 3]);
	const keel_multipart_limits_t *lim = (data[0] & 4) ? &tight : &roomy;
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	uint32_t seed = 0;
	for (size_t i = 0; i < size; i++)
		seed = seed * 31 + data[i];

	result_t whole = run(boundary, lim, body, n, 0, 0);
	result_t cut = run(boundary, lim, body, n, n + 1, seed);
	same(&whole, &cut);
	free(cut.log);
	if (n <= 512) {
		result_t bytes = run(boundary, lim, body, n, 1, 0);
		same(&whole, &bytes);
		free(bytes.log);
	}
	free(whole.log);
	return 0;
}
