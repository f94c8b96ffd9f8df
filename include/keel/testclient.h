/*
 * keel/testclient.h - the in-process test client (FastAPI's TestClient,
 * Django's Client): a request goes through the whole stack - the HTTP
 * parser, path decoding, the router, the middleware chain, the handler on
 * a coroutine, the response's status, headers and body - without a socket
 * or a server process, and comes back as a result to assert on.
 *
 *     keel_test_t *t = keel_test_new(app);
 *     keel_test_result_t r;
 *     keel_test_request(t, "POST", "/api/users",
 *                       "Content-Type: application/json",
 *                       body, strlen(body), &r);
 *     // r.status == 201, keel_test_header(&r, "Location", &v) == 0 ...
 *     keel_test_result_free(&r);
 *     keel_test_free(t);
 *
 * Handlers that wait (keel_sleep_ms, keel_wait_fd, keel_offload) work:
 * outside a server worker those calls block the calling thread.  A client
 * belongs to the thread that created it; do not use one from inside a
 * running server's handler.
 */
#ifndef KEEL_TESTCLIENT_H
#define KEEL_TESTCLIENT_H

#include "keel/app.h"
#include "keel/str.h"

/** A test client; opaque. */
typedef struct keel_test keel_test_t;

/**
 * One response.  `headers` holds the handler's and middleware's header
 * lines ("Name: value\r\n") plus Content-Length as the server would send
 * it; `body` is what the client would receive (empty for HEAD, 204, 304).
 * Both are NUL-terminated and owned by the result.
 */
typedef struct keel_test_result {
	int status;
	char *headers;
	size_t headers_len;
	char *body;
	size_t body_len;
} keel_test_result_t;

/**
 * A client for `app`, which it freezes (registration failures do not stop
 * it; check keel_app_failures).  NULL when out of memory.  The app must
 * outlive the client.
 */
KEEL_API keel_test_t *keel_test_new(keel_app_t *app);
/** A client for a bare server handler (no app), e.g. to test middleware. */
KEEL_API keel_test_t *keel_test_new_handler(keel_handler_fn *fn, void *ud);
/** Free the client; NULL is ignored. */
KEEL_API void keel_test_free(keel_test_t *t);

/**
 * Send `method` `target` ("/path?query") with optional header lines
 * (`headers`: "Name: value" lines separated by "\n" or "\r\n", or NULL)
 * and body[0..len).  Host and, for a body, Content-Length are added unless
 * given.  Fills *out (free with keel_test_result_free) and returns 0, also
 * when the request is malformed (out->status is then the server's 4xx);
 * KEEL_EINVAL for NULL arguments, KEEL_ENOMEM.
 */
KEEL_API int keel_test_request(keel_test_t *t, const char *method,
                               const char *target, const char *headers,
                               const void *body, size_t len,
                               keel_test_result_t *out);
/** keel_test_request for a GET without headers or body. */
KEEL_API int keel_test_get(keel_test_t *t, const char *target,
                           keel_test_result_t *out);

/**
 * Value of the first response header `name` (case-insensitive) in *value,
 * a slice of r->headers; 0 or KEEL_ENOENT.
 */
KEEL_API int keel_test_header(const keel_test_result_t *r, const char *name,
                              keel_str_t *value);
/** Free what the result holds and zero it; safe to repeat. */
KEEL_API void keel_test_result_free(keel_test_result_t *r);

#endif
