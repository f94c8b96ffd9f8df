/*
 * keel/json.h - JSON in and out.  Responses are written by a streaming
 * writer that appends straight into a keel_buf_t (usually the response
 * body): no tree is built, commas and nesting are tracked for the caller,
 * every string is checked to be valid UTF-8 and escaped, and numbers are
 * printed in their shortest exact form.  Request bodies are parsed with
 * jansson on demand by keel_req_json, after checks that keep a hostile
 * body from costing more than a 400: the media type, the nesting depth (a
 * handler's coroutine stack is small) and duplicate keys.
 *
 * Writer rules.  Errors are sticky: the first failure is remembered, the
 * buffer is cut back to its length at keel_json_init, and every later call
 * does nothing and returns that error; keel_json_finish reports it, so a
 * handler may check once at the end.  Failures: KEEL_EINVAL for a string
 * or key that is not valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF are invalid) and for NaN or an infinity, which
 * JSON cannot express; KEEL_ESTATE for a call out of place (a value where
 * a key is due, a second top-level value, an unbalanced end); KEEL_ELIMIT
 * past KEEL_JSON_MAX_DEPTH levels or when the buffer's byte cap is
 * reached; KEEL_ENOMEM.
 *
 * Escaping: '"', '\\' and every control character (\b \f \n \r \t, the
 * rest as \u00XX; DEL is left as is); '/' is not escaped.  By default '<',
 * '>', '&', U+2028 and U+2029 are written as \u003c, \u003e, \u0026,
 * \u2028 and \u2029 too, so the output stays inert when embedded in an
 * HTML <script> element or read by an old JavaScript parser; any JSON
 * parser reads back the same text.  KEEL_JSON_NO_HTML_ESCAPE turns that off.
 */
#ifndef KEEL_JSON_H
#define KEEL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "keel/buf.h"
#include "keel/common.h"
#include "keel/server.h"
#include "keel/str.h"

/** Deepest nesting of arrays and objects, for the writer and the reader. */
#define KEEL_JSON_MAX_DEPTH 64

/** Writer flag: leave < > & U+2028 U+2029 unescaped (not HTML-safe). */
#define KEEL_JSON_NO_HTML_ESCAPE 0x1u

/**
 * Writer state, in caller storage (the stack is fine); set up with
 * keel_json_init.  Fields are private.
 */
typedef struct keel_json {
	keel_buf_t *out;
	size_t start;     /* out->len at init: restored on error */
	uint64_t objects; /* bit d-1 set: nesting level d is an object */
	int err;          /* first error, sticky */
	unsigned flags;
	unsigned depth;
	bool first; /* current container has no member yet */
	bool key;   /* object: key written, its value is due */
	bool done;  /* the top-level value is complete */
} keel_json_t;

/**
 * Start writing one JSON value at the end of `out` (not owned; it must
 * outlive the writer).  `flags`: 0 or KEEL_JSON_NO_HTML_ESCAPE.
 */
KEEL_API void keel_json_init(keel_json_t *w, keel_buf_t *out, unsigned flags);
/**
 * 0 when one complete value was written; otherwise the sticky error, or
 * KEEL_ESTATE when the value is missing or a container is still open.
 */
KEEL_API int keel_json_finish(const keel_json_t *w);

/** Open an object ('{'); KEEL_ELIMIT beyond KEEL_JSON_MAX_DEPTH. */
KEEL_API int keel_json_begin_object(keel_json_t *w);
/** Close the innermost object; KEEL_ESTATE if it is not one or a value is due.
 */
KEEL_API int keel_json_end_object(keel_json_t *w);
/** Open an array ('['); KEEL_ELIMIT beyond KEEL_JSON_MAX_DEPTH. */
KEEL_API int keel_json_begin_array(keel_json_t *w);
/** Close the innermost array; KEEL_ESTATE if it is not an array. */
KEEL_API int keel_json_end_array(keel_json_t *w);

/** Write an object member's key (NUL-terminated); the value comes next. */
KEEL_API int keel_json_key(keel_json_t *w, const char *key);
/** Write an object member's key from a slice (may hold escaped NULs). */
KEEL_API int keel_json_key_str(keel_json_t *w, keel_str_t key);

/** Write a string value from a slice; KEEL_EINVAL if not valid UTF-8. */
KEEL_API int keel_json_write_str(keel_json_t *w, keel_str_t s);
/** Write a NUL-terminated string value; NULL writes null. */
KEEL_API int keel_json_write_cstr(keel_json_t *w, const char *s);
/** Write a signed integer. */
KEEL_API int keel_json_write_int(keel_json_t *w, int64_t v);
/** Write an unsigned integer. */
KEEL_API int keel_json_write_uint(keel_json_t *w, uint64_t v);
/**
 * Write a number in the fewest digits that read back as the same double
 * (-0 stays -0); KEEL_EINVAL for NaN and infinities.
 */
KEEL_API int keel_json_write_double(keel_json_t *w, double v);
/** Write true or false. */
KEEL_API int keel_json_write_bool(keel_json_t *w, bool v);
/** Write null. */
KEEL_API int keel_json_write_null(keel_json_t *w);
/**
 * Write `json`, one already-encoded value, as it is: it is trusted, not
 * checked, so it must be valid JSON (KEEL_EINVAL only when empty).
 */
KEEL_API int keel_json_write_raw(keel_json_t *w, keel_str_t json);

/**
 * End a handler that wrote its JSON into keel_res_buf(res): on success add
 * Content-Type: application/json (unless one is set) and return `status`;
 * if the writer failed, log why and return keel_res_error(res, 500, ..).
 */
KEEL_API int keel_json_respond(const keel_json_t *w, keel_res_t *res,
                               int status);

/** Why keel_req_json refused a body: what to answer and a safe message. */
typedef struct keel_json_error {
	int status;        /* HTTP status to answer: 400, 415 or 500 */
	int line, column;  /* of a syntax error, from 1; 0 when not one */
	size_t position;   /* byte offset of a syntax error */
	char message[200]; /* printable ASCII, fit for keel_res_error */
} keel_json_error_t;

/**
 * Parse the request body as JSON (any value, RFC 8259) into *out.  The
 * request holds the only reference and drops it when the request ends;
 * json_incref to keep it longer.  Each call parses again.  Returns 0, or
 * with *err filled (err may be NULL): KEEL_ENOENT, 415: Content-Type is
 * not application/json (charset=utf-8 is the one parameter allowed);
 * KEEL_EINVAL, 400: empty body, syntax error (with line, column and byte
 * in the message), duplicate key, \u0000 in a string, integer too big;
 * KEEL_ELIMIT, 400: nested deeper than KEEL_JSON_MAX_DEPTH; KEEL_ENOMEM,
 * 500.  A handler answers with keel_res_error(res, err.status, err.message).
 */
KEEL_API int keel_req_json(keel_req_t *req, json_t **out,
                           keel_json_error_t *err);

/**
 * Deepest nesting of arrays and objects in `body`, counting brackets
 * outside strings, without parsing; the reader's guard before jansson.
 */
KEEL_API size_t keel_json_depth(keel_str_t body);

/**
 * The string member `key` of `obj` as a slice (valid while obj lives; may
 * hold no NUL).  0, KEEL_ENOENT when absent (or obj is not an object),
 * KEEL_EINVAL when present with another type, null included.
 */
KEEL_API int keel_json_get_str(const json_t *obj, const char *key,
                               keel_str_t *out);
/** The integer member `key` (a JSON number without fraction); as get_str. */
KEEL_API int keel_json_get_int(const json_t *obj, const char *key,
                               int64_t *out);
/** The number member `key`, integer or not, as a double; as get_str. */
KEEL_API int keel_json_get_double(const json_t *obj, const char *key,
                                  double *out);
/** The boolean member `key`; as get_str. */
KEEL_API int keel_json_get_bool(const json_t *obj, const char *key, bool *out);

#endif
