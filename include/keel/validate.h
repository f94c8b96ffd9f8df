/*
 * keel/validate.h - declared request validation, FastAPI in C.  A route
 * describes its inputs once, in `static const` tables: the path, query and
 * header parameters and the JSON body, each field naming its type, its
 * rules and where it lands in the handler's C struct (offsetof).  The
 * validator walks those tables, checks the request against them, fills the
 * struct and collects one message per broken rule, keyed by field path;
 * the OpenAPI generator (keel/openapi.h) walks the same tables, so the
 * documentation cannot drift from what is enforced.
 *
 * Where values land, by type:
 *   KEEL_T_STRING  keel_str_t: a NUL-terminated copy in the arena (so it
 *                  outlives the parsed JSON and can be used as a C string)
 *   KEEL_T_INT     int64_t (JSON integers only: 3.0 is refused)
 *   KEEL_T_NUMBER  double (JSON integers or reals)
 *   KEEL_T_BOOL    bool
 *   KEEL_T_ENUM    int: index of the value in `enum_values`
 *   KEEL_T_OBJECT  the struct `object` describes, embedded at `offset`
 *   KEEL_T_ARRAY   a KEEL_ARRAY(T) member: arena array of `items` + count
 * A field that is absent or null keeps the zero value (or its `def`); a
 * field with a `presence` member records which of absent / null / set it
 * was, which is how an update tells "leave as is" from "clear it".
 *
 * Messages follow the Rails wording RealWorld clients expect ("can't be
 * blank", "is too long (maximum is 64 characters)", "is invalid").  Paths
 * are relative to the body's wrapper key: "email", "profile.bio",
 * "tags[2]".  Lengths of strings count code points, not bytes.  Patterns
 * are POSIX extended regular expressions, unanchored as in JSON Schema
 * (write ^...$ to match the whole value), compiled once per process and
 * cached; keep them in the subset ECMAScript shares so the OpenAPI
 * document means the same thing to clients.
 */
#ifndef KEEL_VALIDATE_H
#define KEEL_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "keel/arena.h"
#include "keel/buf.h"
#include "keel/server.h"
#include "keel/str.h"

/** Value types of fields and parameters (0 is invalid on purpose). */
typedef enum keel_type {
	KEEL_T_STRING = 1,
	KEEL_T_INT,
	KEEL_T_NUMBER,
	KEEL_T_BOOL,
	KEEL_T_ENUM,
	KEEL_T_OBJECT,
	KEEL_T_ARRAY,
} keel_type_t;

/** Extra string checks, also published as the OpenAPI "format". */
typedef enum keel_format {
	KEEL_FMT_NONE = 0,
	KEEL_FMT_EMAIL,     /* keel_email_check (keel/email.h) */
	KEEL_FMT_URI,       /* scheme ":" then visible ASCII, no spaces */
	KEEL_FMT_DATE_TIME, /* RFC 3339: 2024-02-29T13:05:00.5Z, +01:00 */
} keel_format_t;

/** What a `presence` member says about its field after validation. */
typedef enum keel_presence {
	KEEL_ABSENT = 0, /* the key was not sent */
	KEEL_NULL,       /* sent as null (nullable fields only) */
	KEEL_SET,        /* sent with a value, now in the struct */
} keel_presence_t;

/** What a body does with keys its spec does not list. */
typedef enum keel_unknown {
	KEEL_UNKNOWN_IGNORE = 0,
	KEEL_UNKNOWN_REJECT, /* each one is an error: "is not allowed" */
} keel_unknown_t;

/** Declare an array member: `KEEL_ARRAY(keel_str_t) tags;`. */
#define KEEL_ARRAY(T)                                                          \
	struct {                                                               \
		T *items;                                                      \
		size_t count;                                                  \
	}

/** The untyped view of any KEEL_ARRAY(T) member. */
typedef KEEL_ARRAY(void) keel_array_t;

/** `.presence = KEEL_PRESENCE(type, member)` for a keel_presence_t member. */
#define KEEL_PRESENCE(type, member) (offsetof(type, member) + 1)
/** Inclusive bounds for numbers: `KEEL_RANGE(1, 100)`. */
#define KEEL_RANGE(lo, hi)                                                     \
	.has_min = true, .min = (lo), .has_max = true, .max = (hi)
/** Inclusive lower bound only. */
#define KEEL_MIN(lo)     .has_min = true, .min = (lo)
/** Inclusive upper bound only. */
#define KEEL_MAX(hi)     .has_max = true, .max = (hi)
/** `.fields` and `.n` of a spec from a true array of keel_field_t. */
#define KEEL_FIELDS(arr) .fields = (arr), .n = KEEL_COUNTOF(arr)

struct keel_body_spec;

/**
 * One field of a JSON object (or, with `items`, the shape of array
 * elements, whose name and offset are unused).  Zero means "no rule" for
 * every member but `type`; max_len 0 is "no maximum".
 */
typedef struct keel_field {
	const char *name; /* JSON key */
	keel_type_t type; /* see the table at the top */
	size_t offset;    /* offsetof(struct, member) of the value */
	size_t presence;  /* KEEL_PRESENCE(struct, member), 0: none */
	bool required;    /* absent (or null, unless nullable) is an error */
	bool nullable;    /* null is accepted and leaves the zero value */
	bool not_blank;   /* strings: whitespace only is "can't be blank" */
	bool has_min, has_max;
	double min, max;     /* numbers, inclusive (exact up to 2^53) */
	size_t min_len;      /* strings: code points; arrays: items */
	size_t max_len;      /* 0: unlimited */
	const char *pattern; /* POSIX ERE the string must match */
	keel_format_t format;
	/* allowed values, NULL-terminated: KEEL_T_ENUM stores the index,
	 * a KEEL_T_STRING keeps its text */
	const char *const *enum_values;
	const struct keel_body_spec *object; /* KEEL_T_OBJECT: its fields */
	const struct keel_field *items;      /* KEEL_T_ARRAY: element shape */
	const char *def;         /* default when absent, written as in a query
	                            string ("20", "true"); scalars only */
	const char *description; /* OpenAPI */
	const char *example;     /* OpenAPI; scalars as `def`, else JSON */
} keel_field_t;

/**
 * An object's fields and the C struct they fill.  `wrapper` (top level
 * only) names the key the whole object sits under, as RealWorld's
 * {"user": {...}}; `name`, when set, publishes the schema once under
 * components/schemas in OpenAPI and refers to it from everywhere else.
 */
typedef struct keel_body_spec {
	const keel_field_t *fields;
	size_t n;
	size_t struct_size; /* sizeof the struct; array elements need it */
	keel_unknown_t unknown;
	const char *wrapper;
	const char *name;
	const char *description;
} keel_body_spec_t;

/** Where a parameter comes from. */
typedef enum keel_param_in {
	KEEL_IN_PATH = 1, /* keel_req_param: {name} in the route pattern */
	KEEL_IN_QUERY,    /* first ?name=value, percent-decoded */
	KEEL_IN_HEADER,   /* first header field called name */
} keel_param_in_t;

/** A path, query or header parameter: a scalar field plus its origin. */
typedef struct keel_param {
	keel_param_in_t in;
	keel_field_t field; /* string, int, number, bool or enum */
} keel_param_t;

/** Whether an operation needs the Authorization token. */
typedef enum keel_security {
	KEEL_SEC_NONE = 0,
	KEEL_SEC_REQUIRED,
	KEEL_SEC_OPTIONAL, /* anonymous allowed, a token changes the answer */
} keel_security_t;

/** One documented response: status, text and an optional body schema. */
typedef struct keel_response_spec {
	int status;
	const char *description;
	const keel_body_spec_t *schema; /* NULL: no body documented */
} keel_response_spec_t;

/** Everything a route declares: checked by the validator, documented by
 * OpenAPI. */
typedef struct keel_route_spec {
	const char *summary;
	const char *description;
	const char *const *tags; /* NULL-terminated, or NULL */
	const keel_param_t *params;
	size_t n_params;
	size_t params_size; /* sizeof the struct the params fill */
	const keel_body_spec_t *body;
	const keel_response_spec_t *responses;
	size_t n_responses;
	keel_security_t security;
	bool deprecated;
} keel_route_spec_t;

/* ------------------------------------------------------------------ errors */

/** Errors kept per request; more are dropped and `truncated` is set. */
#define KEEL_VERRORS_MAX 64
/** Longest field path kept (bytes); longer ones are cut at a code point. */
#define KEEL_VPATH_MAX   128

/** One broken rule: the field path and a message (arena strings). */
typedef struct keel_verror {
	const char *path;
	const char *message;
} keel_verror_t;

/** The errors of one request, in arena memory; fields are read-only. */
typedef struct keel_verrors {
	keel_arena_t *arena;
	keel_verror_t *items;
	size_t count, cap;
	bool truncated; /* more than KEEL_VERRORS_MAX were found */
} keel_verrors_t;

/** Start an empty error list whose memory comes from `arena`. */
KEEL_API void keel_verrors_init(keel_verrors_t *errs, keel_arena_t *arena);
/**
 * Record that `path` broke a rule (copies both strings); for handlers too,
 * e.g. ("email", "has already been taken").  0, KEEL_ENOMEM, or
 * KEEL_ELIMIT when the list is full (then `truncated` is set).
 */
KEEL_API int keel_verrors_add(keel_verrors_t *errs, const char *path,
                              const char *message);
/**
 * Append the default error body to `out`: {"errors": {"path": ["message",
 * ...]}}, messages grouped by path in first-seen order.  0, KEEL_ENOMEM or
 * KEEL_ELIMIT (buffer max).
 */
KEEL_API int keel_verrors_write_json(const keel_verrors_t *errs,
                                     keel_buf_t *out);
/** A pluggable error body writer: appends to `out`, returns 0 or KEEL_E*. */
typedef int keel_verrors_format_fn(const keel_verrors_t *errs, keel_buf_t *out,
                                   void *ud);
/**
 * Choose the error body format process-wide (NULL: back to the default);
 * call at start-up, before serving.  Conduit keeps the default.
 */
KEEL_API void keel_verrors_set_format(keel_verrors_format_fn *fmt, void *ud);
/**
 * Answer 422 with the errors as a JSON body written by `fmt` (NULL: the
 * format chosen with keel_verrors_set_format), replacing the body so far.
 * Returns 422, or the status keel_res_error gave when the body could not be
 * written (500).
 */
KEEL_API int keel_verrors_respond(keel_res_t *res, const keel_verrors_t *errs,
                                  keel_verrors_format_fn *fmt, void *ud);

/* -------------------------------------------------------------- validation */

/**
 * Check the JSON body `root` against `spec` (unwrapping spec->wrapper) and
 * fill `out` (spec->struct_size bytes, zeroed first); strings and arrays
 * go to `arena`.  0 when valid; KEEL_EINVAL when errors were added to
 * `errs` (answer 422; `out` is then partial); KEEL_ENOMEM when the arena
 * refused; KEEL_ESTATE when the spec itself is broken (a pattern that does
 * not compile: keel_validate_check finds these at start-up).
 */
KEEL_API int keel_validate_body(const keel_body_spec_t *spec,
                                const json_t *root, void *out,
                                keel_arena_t *arena, keel_verrors_t *errs);

/**
 * Where parameter values come from: store the raw text of the first `name`
 * found `in` in *value and return 0, or return KEEL_ENOENT.  The text must
 * stay valid until validation returns; `arena` is there for decoding.
 */
typedef int keel_param_get_fn(void *ctx, keel_param_in_t in, const char *name,
                              keel_str_t *value, keel_arena_t *arena);

/**
 * Parse and check the spec's parameters read through `get`, filling `out`
 * (spec->params_size bytes, zeroed first).  Text becomes the field type
 * strictly: ints are whole decimal numbers, bools "true"/"false"/"1"/"0",
 * numbers finite decimals.  Return codes as keel_validate_body.
 */
KEEL_API int keel_validate_params_from(const keel_route_spec_t *spec,
                                       keel_param_get_fn *get, void *ctx,
                                       void *out, keel_arena_t *arena,
                                       keel_verrors_t *errs);

/**
 * keel_validate_params_from over a request: path parameters through
 * keel_req_param, the query string, headers; memory from the request's
 * arena.
 */
KEEL_API int keel_validate_params(const keel_route_spec_t *spec,
                                  keel_req_t *req, void *out,
                                  keel_verrors_t *errs);

/**
 * Validate a request's parameters into `params_out` (NULL when the spec
 * has none) and, when the spec has a body, the already-parsed JSON `root`
 * into `body_out`; errors of both are collected before returning.  Return
 * codes as keel_validate_body.
 */
KEEL_API int keel_validate_inputs(const keel_route_spec_t *spec,
                                  keel_req_t *req, const json_t *root,
                                  void *params_out, void *body_out,
                                  keel_verrors_t *errs);

/**
 * The parameters struct the route's attached spec (keel_route_spec) filled
 * before the handler ran, or NULL when the route has no spec.  The app
 * validates such routes itself: a request that fails never reaches the
 * handler (it gets the 4xx).  Memory is the request's arena.
 */
KEEL_API void *keel_req_valid_params(const keel_req_t *req);
/** The body struct the route's attached spec filled; NULL without one. */
KEEL_API void *keel_req_valid_body(const keel_req_t *req);

/**
 * All of it, for the first line of a handler: parse the JSON body when the
 * spec has one (keel_req_json), validate parameters and body, and answer
 * a failure itself.  Returns 0 when the structs are filled, else the
 * status it answered with (415, 400, 422, 500), which the handler returns.
 */
KEEL_API int keel_validate_request(keel_req_t *req, keel_res_t *res,
                                   const keel_route_spec_t *spec,
                                   void *params_out, void *body_out);

/**
 * Check a spec for mistakes the compiler cannot see (missing type, object
 * or items; array params; empty enum; min > max; a default that does not
 * parse; a pattern that does not compile, which also warms the pattern
 * cache).  0, or KEEL_EINVAL with a reason in why[0..why_len).
 */
KEEL_API int keel_validate_check(const keel_route_spec_t *spec, char *why,
                                 size_t why_len);

/** Free every cached compiled pattern (tests, leak checkers, shutdown). */
KEEL_API void keel_validate_cache_clear(void);

#endif
