/*
 * keel/req.h - what a handler can read of a request.  Slices stay valid
 * until the response is sent; anything that must live longer is copied.
 * Per-request memory comes from keel_req_arena and is released in one step
 * after the response.
 */
#ifndef KEEL_REQ_H
#define KEEL_REQ_H

#include "keel/arena.h"
#include "keel/http.h"
#include "keel/ip.h"
#include "keel/server.h"

/** The parsed request head (method, target, headers, framing). */
KEEL_API const keel_http_request_t *keel_req_head(const keel_req_t *req);
/** The method as an enum (KEEL_HTTP_GET ...). */
KEEL_API keel_http_method_t keel_req_method(const keel_req_t *req);
/** Percent-decoded, dot-segment-normalised path ("/a/b"). */
KEEL_API keel_str_t keel_req_path(const keel_req_t *req);
/** The raw query string after '?', empty when none. */
KEEL_API keel_str_t keel_req_query(const keel_req_t *req);
/**
 * Value of the first header `name` (case-insensitive) in *value; 0 or
 * KEEL_ENOENT.
 */
KEEL_API int keel_req_header(const keel_req_t *req, const char *name,
                             keel_str_t *value);
/** The whole request body (decoded when it was chunked); empty if none. */
KEEL_API keel_str_t keel_req_body(const keel_req_t *req);
/** The request's arena: memory freed when the response has been sent. */
KEEL_API keel_arena_t *keel_req_arena(keel_req_t *req);
/**
 * The client's address: the TCP peer, or the last untrusted hop of
 * X-Forwarded-For when the peer is a trusted proxy.
 */
KEEL_API const keel_ip_t *keel_req_client(const keel_req_t *req);
/**
 * Value of the path parameter `name` of the matched route ("{name}" in
 * its pattern), percent-decoded; the empty slice when there is none (a
 * matched parameter is never empty).  Valid until the response is sent.
 */
KEEL_API keel_str_t keel_req_param(const keel_req_t *req, const char *name);
/**
 * The path parameter `name` as an int64 in *out: 0, KEEL_ENOENT when there
 * is no such parameter, KEEL_EINVAL or KEEL_ERANGE when its value is not a
 * strict decimal int64 (never for a {name:int} parameter).
 */
KEEL_API int keel_req_param_int(const keel_req_t *req, const char *name,
                                int64_t *out);
/** This request's id ("<worker pid hex>-<counter hex>"), NUL-terminated. */
KEEL_API const char *keel_req_id(const keel_req_t *req);

#endif
