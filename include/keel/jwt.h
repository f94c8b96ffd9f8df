/*
 * keel/jwt.h - JSON Web Tokens for stateless API authentication, HS256
 * only.  A token is base64url(header) "." base64url(payload) "."
 * base64url(HMAC-SHA256(key, the first two parts)), unpadded.
 *
 * The server fixes the algorithm; the token never chooses it.  The header
 * must be a JSON object holding "alg": "HS256" and optionally "typ": "JWT"
 * and nothing else: "none", "HS512", "RS256" and every other alg are
 * refused, and so is any other header parameter (kid, jku, x5u, jwk, x5c,
 * crit ...), since HS256 with one server key has no use for them and
 * honouring them is how JWT libraries got broken.
 *
 * Verification order: size cap (KEEL_JWT_MAX_TOKEN), exactly three
 * non-empty segments, strict base64url for each (the URL alphabet only, no
 * padding, no whitespace, canonical trailing bits), the header rule above,
 * then the signature, compared in constant time, before the payload is
 * parsed at all.  The payload must be a JSON object without duplicate keys
 * holding sub (non-empty string), iat, exp (integers), jti (string) and
 * optionally nbf (integer).  Time checks allow `leeway` seconds of clock
 * skew: refused when now >= exp + leeway, now < nbf - leeway or
 * iat > now + leeway.
 *
 * Every refusal is KEEL_EINVAL (answer 401) with a keel_jwt_reason_t in
 * the claims for the log; the client is never told which check failed.
 *
 * The token travels in "Authorization: Token <jwt>" (the RealWorld API) or
 * "Authorization: Bearer <jwt>"; never in a query string or a cookie,
 * where it would end up in logs, caches and CSRF attacks.
 */
#ifndef KEEL_JWT_H
#define KEEL_JWT_H

#include <jansson.h>
#include <stdint.h>

#include "keel/common.h"
#include "keel/server.h"
#include "keel/str.h"

/** Longest token accepted or produced, in bytes. */
#define KEEL_JWT_MAX_TOKEN  4096
/** Shortest HMAC key accepted (RFC 7518: at least the hash size). */
#define KEEL_JWT_MIN_KEY    32
/** Longest subject, in bytes. */
#define KEEL_JWT_SUB_MAX    255
/** Longest token id, in bytes (keel's own are 22: 128 random bits). */
#define KEEL_JWT_JTI_MAX    64
/** A sensible clock-skew allowance, in seconds. */
#define KEEL_JWT_LEEWAY     30
/** Largest leeway keel_jwt_verify takes. */
#define KEEL_JWT_MAX_LEEWAY 3600

/** Why a token was refused; for logs, never for the client. */
typedef enum keel_jwt_reason {
	KEEL_JWT_OK = 0,
	KEEL_JWT_BAD_ARGUMENT,      /* key under KEEL_JWT_MIN_KEY, bad leeway,
	                               bad claims to sign */
	KEEL_JWT_BAD_LENGTH,        /* empty or over KEEL_JWT_MAX_TOKEN */
	KEEL_JWT_BAD_SEGMENTS,      /* not three non-empty segments */
	KEEL_JWT_BAD_BASE64,        /* a segment is not strict base64url */
	KEEL_JWT_BAD_HEADER,        /* not {"alg":..., "typ":"JWT"} exactly */
	KEEL_JWT_BAD_ALG,           /* alg is not "HS256" */
	KEEL_JWT_BAD_SIGNATURE,     /* HMAC mismatch */
	KEEL_JWT_BAD_PAYLOAD,       /* not a JSON object, duplicate keys */
	KEEL_JWT_BAD_CLAIM,         /* required claim missing or mistyped */
	KEEL_JWT_EXPIRED,           /* now >= exp + leeway */
	KEEL_JWT_NOT_YET_VALID,     /* now < nbf - leeway */
	KEEL_JWT_ISSUED_IN_FUTURE,  /* iat > now + leeway */
	KEEL_JWT_BAD_AUTHORIZATION, /* header not "Token|Bearer <jwt>" */
} keel_jwt_reason_t;

/** The registered claims keel signs and checks; caller storage. */
typedef struct keel_jwt_claims {
	char sub[KEEL_JWT_SUB_MAX + 1]; /* subject (user id), NUL-terminated */
	char jti[KEEL_JWT_JTI_MAX + 1]; /* token id, for revocation */
	int64_t iat;                    /* issued at, seconds since 1970 */
	int64_t exp;                    /* expires at */
	int64_t nbf;                    /* not before; 0 when absent */
	keel_jwt_reason_t reason;       /* why the last call failed */
} keel_jwt_claims_t;

/**
 * Zero `c` and set sub (copied; 1..KEEL_JWT_SUB_MAX bytes, no NUL),
 * iat = now and exp = now + ttl.  0, KEEL_EINVAL (empty sub, ttl <= 0)
 * or KEEL_ELIMIT (sub too long).
 */
KEEL_API int keel_jwt_claims_init(keel_jwt_claims_t *c, keel_str_t sub,
                                  int64_t now, int64_t ttl);

/**
 * Sign `claims` (sub, iat, exp, nbf when not 0) with `key` into
 * out[0..cap) as a NUL-terminated token; a fresh random jti (128 bits,
 * base64url) is generated and written back into claims->jti.  `extra`
 * (may be NULL) is a JSON object of further claims, which must not reuse
 * the five registered names.  0, KEEL_EINVAL (short key, empty sub,
 * exp <= iat, sub not UTF-8, bad extra), KEEL_ELIMIT (token longer than
 * `cap` - 1 or KEEL_JWT_MAX_TOKEN), KEEL_ENOMEM.
 */
KEEL_API int keel_jwt_sign(keel_str_t key, keel_jwt_claims_t *claims,
                           const json_t *extra, char *out, size_t cap);

/**
 * Verify `token` against `key` at time `now` (seconds since 1970, 0 ..
 * INT64_MAX / 2) allowing `leeway` seconds (0..KEEL_JWT_MAX_LEEWAY) of
 * skew, and fill `claims`.  0, or KEEL_EINVAL with claims->reason set (the
 * other claim fields are then unspecified).
 */
KEEL_API int keel_jwt_verify(keel_str_t key, keel_str_t token, int64_t now,
                             int64_t leeway, keel_jwt_claims_t *claims);

/**
 * keel_jwt_verify that also hands back the whole payload object in
 * *payload (a new reference the caller json_decref's; NULL on failure),
 * to read claims beyond the registered ones.  KEEL_ENOMEM possible.
 */
KEEL_API int keel_jwt_verify_payload(keel_str_t key, keel_str_t token,
                                     int64_t now, int64_t leeway,
                                     keel_jwt_claims_t *claims,
                                     json_t **payload);

/** Short lower-case text for a reason ("expired"); never NULL. */
KEEL_API const char *keel_jwt_reason_str(keel_jwt_reason_t reason);

/**
 * The token of the request's Authorization header in *token (a slice of
 * the request, valid until the response is sent): the value must be
 * "Token <jwt>" or "Bearer <jwt>", scheme in any letter case, exactly one
 * space, then 1..KEEL_JWT_MAX_TOKEN base64url-or-dot characters and
 * nothing else.  0; KEEL_ENOENT without the header; KEEL_EINVAL for any
 * other shape or for more than one Authorization header.  Query strings
 * and cookies are never looked at.
 */
KEEL_API int keel_auth_token(const keel_req_t *req, keel_str_t *token);

/**
 * keel_auth_token then keel_jwt_verify at the current time with
 * KEEL_JWT_LEEWAY: 0 with `claims` filled, KEEL_ENOENT when the request
 * carries no Authorization header (anonymous), KEEL_EINVAL otherwise
 * (answer 401; the reason is logged at info level with the request id).
 */
KEEL_API int keel_jwt_from_request(const keel_req_t *req, keel_str_t key,
                                   keel_jwt_claims_t *claims);

#endif
