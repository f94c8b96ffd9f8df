/*
 * keel/mw.h - the built-in middleware and the app-wide error format.
 *
 * Each keel_mw_* constructor returns a keel_middleware_t (keel/middleware.h)
 * ready to register app-wide; one that takes options keeps a pointer to
 * them, so they must outlive the app (a static is typical), and NULL means
 * the documented defaults.  Registered in the order below, before hooks run
 * top to bottom and after hooks bottom to top, which is the order that
 * works: the error handler rewrites a 5xx body first, gzip then compresses
 * the final body, security headers and Server-Timing see everything, and
 * the request id is set before anyone logs it.
 *
 *   keel_mw_request_id(NULL)  X-Request-Id in, X-Request-Id out
 *   keel_mw_timing()          Server-Timing: app;dur=<ms> (+ keel_timing_add)
 *   keel_mw_security(NULL)    nosniff, Referrer-Policy, framing, CSP, HSTS
 *   keel_mw_gzip(NULL)        Content-Encoding: gzip for compressible bodies
 *   keel_mw_errors()          every 5xx becomes a generic body with the id
 *
 * Error bodies have one shape per app: keel_errors_write renders through a
 * replaceable formatter (keel_errors_set_format), which the error handler,
 * validation (422) and handlers all use.  The default is
 * {"errors":{"<field>":["<message>", ...]}}, the RealWorld API's format.
 */
#ifndef KEEL_MW_H
#define KEEL_MW_H

#include <stdbool.h>

#include "keel/middleware.h"
#include "keel/req.h"
#include "keel/res.h"

/* ------------------------------------------------------- request id */

/** Longest incoming request id taken over (bytes); longer ones are replaced. */
#define KEEL_MW_REQUEST_ID_MAX 39

/** How the request-id middleware behaves; fill with ..._opts_init. */
typedef struct keel_mw_request_id_opts {
	const char *header;  /* header read and written; "X-Request-Id" */
	bool trust_incoming; /* adopt a sane incoming id; true */
} keel_mw_request_id_opts_t;

/** Defaults: header "X-Request-Id", incoming ids trusted. */
KEEL_API void keel_mw_request_id_opts_init(keel_mw_request_id_opts_t *opts);

/**
 * Before: adopt the client's (or proxy's) id when it is 1..39 bytes of
 * [A-Za-z0-9._:+/=-], so keel_req_id, logs and the access log all show it;
 * otherwise keep the server's id.  After: set the header to that id.
 */
KEEL_API keel_middleware_t
keel_mw_request_id(const keel_mw_request_id_opts_t *opts);

/**
 * True when `id` is an acceptable incoming request id (length and charset
 * as above); what the before hook checks.
 */
KEEL_API bool keel_mw_request_id_valid(keel_str_t id);

/* ----------------------------------------------------------- timing */

/** Most entries keel_timing_add keeps per request. */
#define KEEL_TIMING_MAX 16

/**
 * After: add Server-Timing with the entries other code added, then
 * app;dur=<ms since the request's head was parsed>, in milliseconds with
 * three decimals.
 */
KEEL_API keel_middleware_t keel_mw_timing(void);

/**
 * Record a Server-Timing entry for this request, e.g. ("db", 2500000,
 * "3 queries") -> db;dur=2.500;desc="3 queries".  `name` is a token of at
 * most 32 bytes; dur_ns < 0 omits dur; desc may be NULL (copied, at most
 * 128 bytes, no control characters).  Call from the request's own code;
 * the entry lives in the request's arena.  0, KEEL_EINVAL for a bad name or
 * desc, KEEL_ELIMIT past KEEL_TIMING_MAX entries, KEEL_ENOMEM.
 */
KEEL_API int keel_timing_add(keel_req_t *req, const char *name, int64_t dur_ns,
                             const char *desc);

/* ----------------------------------------------------------- errors */

/** One field-level error: `field` is "body", "email", "server"... */
typedef struct keel_error_item {
	const char *field;
	const char *message;
} keel_error_item_t;

/**
 * An app error format (strategy): write the body and its Content-Type for
 * `status` and the `n` items into `res`, whose body and representation
 * headers are already cleared.  keel_req_id(req) is the request id.
 * Returns 0 or a negative KEEL_E* (the caller then falls back to
 * keel_res_error).
 */
typedef int keel_errors_format_fn(const keel_req_t *req, keel_res_t *res,
                                  int status, const keel_error_item_t *items,
                                  size_t n);

/**
 * Use `fn` for every error body from now on; NULL restores the default.
 * Process-wide: call once at start-up, before serving.
 */
KEEL_API void keel_errors_set_format(keel_errors_format_fn *fn);

/**
 * Default format, application/json:
 * {"errors":{"email":["is taken","is too long"],"body":["..."]}}; items
 * with the same field share one array, in first-seen order.
 */
KEEL_API int keel_errors_format_default(const keel_req_t *req, keel_res_t *res,
                                        int status,
                                        const keel_error_item_t *items,
                                        size_t n);

/**
 * RFC 9457 problem details, application/problem+json: {"type":
 * "about:blank","title":<reason>,"status":N,"request_id":<id>,"errors":
 * [{"field":..,"message":..}]}.
 */
KEEL_API int keel_errors_format_problem(const keel_req_t *req, keel_res_t *res,
                                        int status,
                                        const keel_error_item_t *items,
                                        size_t n);

/**
 * Answer `status` with the app's error body for `n` items: drops the body
 * (a file too) and the headers describing it (Content-Type, -Encoding,
 * -Language, -Range, -Disposition, ETag, Last-Modified), keeps the others
 * (Set-Cookie, Allow, Retry-After...).  Returns `status`.
 */
KEEL_API int keel_errors_write_list(keel_req_t *req, keel_res_t *res,
                                    int status, const keel_error_item_t *items,
                                    size_t n);

/**
 * One-item keel_errors_write_list: `return keel_errors_write(req, res,
 * 404, "article", "not found");`.
 */
KEEL_API int keel_errors_write(keel_req_t *req, keel_res_t *res, int status,
                               const char *field, const char *message);

/**
 * After: when the status is 5xx, log the request id, method, path, status
 * and the body that was going out (error level), then replace the body with
 * the generic "<reason>, request id <id>" error under field "server", so
 * no internal detail reaches the client.
 */
KEEL_API keel_middleware_t keel_mw_errors(void);

/* ------------------------------------------------------------- gzip */

/** When gzip compresses; fill with keel_mw_gzip_opts_init. */
typedef struct keel_mw_gzip_opts {
	size_t min_size; /* smallest body compressed, bytes; 1024 */
	int level;       /* zlib level 1 (fast) .. 9 (small); 6 */
} keel_mw_gzip_opts_t;

/** Defaults: bodies of 1 KiB and more, level 6. */
KEEL_API void keel_mw_gzip_opts_init(keel_mw_gzip_opts_t *opts);

/**
 * After: gzip the body when the client accepts gzip (q > 0), the status is
 * 200..599 but not 204, 206 or 304, the body is in memory (not a file) and
 * at least min_size bytes, the Content-Type is compressible (text/ types, JSON,
 * XML, JavaScript, SVG...), it is not already encoded and Cache-Control
 * has no no-transform.  Adds Content-Encoding: gzip, makes a strong ETag
 * weak, and adds Vary: Accept-Encoding to every response it could have
 * compressed.  Keeps the original when compression would not shrink it.
 */
KEEL_API keel_middleware_t keel_mw_gzip(const keel_mw_gzip_opts_t *opts);

/**
 * Whether a Content-Type value names a compressible media type; what the
 * gzip hook checks (parameters after ';' are ignored).
 */
KEEL_API bool keel_mw_gzip_compressible(keel_str_t content_type);

/* --------------------------------------------------------- security */

/** Security headers; a NULL string or 0 turns that header off. */
typedef struct keel_mw_security_opts {
	const char *referrer_policy; /* "strict-origin-when-cross-origin" */
	const char *frame_options;   /* X-Frame-Options: "DENY" */
	const char *frame_ancestors; /* CSP frame-ancestors source: "'none'" */
	const char *csp_html; /* CSP for HTML only: "default-src 'self'" */
	int64_t hsts_max_age; /* seconds; 0 (off) */
	bool hsts_subdomains; /* add includeSubDomains; false */
} keel_mw_security_opts_t;

/** Defaults as commented above; HSTS off. */
KEEL_API void keel_mw_security_opts_init(keel_mw_security_opts_t *opts);

/**
 * After: add, unless the handler set them, X-Content-Type-Options:
 * nosniff, Referrer-Policy, X-Frame-Options, Content-Security-Policy
 * ("frame-ancestors 'none'"; HTML responses get "<csp_html>; frame-ancestors
 * 'none'"), and Strict-Transport-Security when hsts_max_age > 0 and the
 * request reached the proxy over TLS (X-Forwarded-Proto: https): keel
 * itself speaks plain HTTP behind a TLS-terminating proxy.
 */
KEEL_API keel_middleware_t
keel_mw_security(const keel_mw_security_opts_t *opts);

#endif
