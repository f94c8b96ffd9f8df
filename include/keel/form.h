/*
 * keel/form.h - HTML form bodies sent as application/x-www-form-urlencoded:
 * "name=value&name=value", '+' for a space and %XX for any other byte, the
 * same grammar as a query string (keel_http_query_next does the decoding).
 *
 * The whole body is decoded once into the request's arena, so the fields
 * keep their order, a repeated name yields every value, and the slices
 * stay valid until the response is sent.  Parsing is strict: a '%' not
 * followed by two hex digits, %00 or a raw NUL, or a name or value that
 * is not UTF-8 fails the whole form (400) rather than guessing; more than
 * KEEL_FORM_MAX_FIELDS fields is 413, which bounds the work a request can
 * cause.  Empty pairs ("a=1&&b=2") are skipped, a pair without '=' has an
 * empty value.
 */
#ifndef KEEL_FORM_H
#define KEEL_FORM_H

#include "keel/arena.h"
#include "keel/common.h"
#include "keel/server.h"
#include "keel/str.h"

/** Fields keel_req_form accepts before answering 413. */
#define KEEL_FORM_MAX_FIELDS 1000

/** One decoded field. */
typedef struct keel_form_field {
	keel_str_t name;
	keel_str_t value;
} keel_form_field_t;

/** A decoded form: `count` fields in body order, memory in an arena. */
typedef struct keel_form {
	keel_form_field_t *fields;
	size_t count;
} keel_form_t;

/**
 * Decode the urlencoded `body` into `form` with memory from `a` (at most
 * body.len bytes plus the field array).  Returns 0, KEEL_EINVAL for a bad
 * escape, a NUL or invalid UTF-8, KEEL_ELIMIT for more than `max_fields`
 * fields, KEEL_ENOMEM when the arena refuses; `form` is empty on failure.
 */
KEEL_API int keel_form_parse(keel_arena_t *a, keel_str_t body,
                             size_t max_fields, keel_form_t *form);

/**
 * Decode the request body as a form (request arena, KEEL_FORM_MAX_FIELDS).
 * Returns 0, or the HTTP status to answer: 415 when Content-Type is not
 * application/x-www-form-urlencoded, 400 malformed, 413 too many fields,
 * 500 out of memory.  Usage: `if ((st = keel_req_form(req, &f))) return
 * keel_res_error(res, st, "bad form");`
 */
KEEL_API int keel_req_form(keel_req_t *req, keel_form_t *form);

/** Value of the first field called `name` in *value; 0 or KEEL_ENOENT. */
KEEL_API int keel_form_get(const keel_form_t *form, const char *name,
                           keel_str_t *value);

/**
 * Repeated names: the next field called `name` at index *pos or later;
 * sets *value and moves *pos past it.  Start with *pos = 0; returns 0 or
 * KEEL_ENOENT when no more.
 */
KEEL_API int keel_form_next(const keel_form_t *form, const char *name,
                            size_t *pos, keel_str_t *value);

#endif
