/*
 * keel/signed.h - signed cookies (Flask-style): small values kept by the
 * browser, which can read them but not change them.  The cookie is
 *
 *     base64url(value) "." timestamp "." base64url(HMAC-SHA256)
 *
 * where the MAC covers "keel.signed.v1|" name "|" base64url(value) "|"
 * timestamp, so a value cannot be moved to another cookie name, replayed
 * with a newer time or swapped for another value without the key.  The
 * fixed prefix separates these MACs from every other use of the same
 * secret (a JWT signature can never pass as a cookie's, or the reverse).
 *
 * Keys rotate: give an ordered list, newest first.  Signing uses the
 * first; verifying accepts any, so cookies issued before a rotation keep
 * working until the old key is dropped from the list.  Each key holds at
 * least KEEL_SIGNED_MIN_KEY bytes (keel_secret_str of the app secret
 * fits).  MACs are compared in constant time.
 *
 * Signing is not encryption: the value is only base64url-encoded, so
 * never put secrets in it.  For login state prefer keel/session.h, which
 * can be revoked; a signed cookie stays valid until its max age passes.
 * Reading treats anything forged, malformed, expired or signed with an
 * unknown key as an absent cookie.
 */
#ifndef KEEL_SIGNED_H
#define KEEL_SIGNED_H

#include "keel/common.h"
#include "keel/cookie.h"
#include "keel/server.h"
#include "keel/str.h"

/** Shortest key accepted, in bytes. */
#define KEEL_SIGNED_MIN_KEY    32
/** Most keys in one list. */
#define KEEL_SIGNED_MAX_KEYS   8
/** Longest value signed, in bytes (the cookie stays under 4 KiB). */
#define KEEL_SIGNED_MAX_VALUE  2048
/** Longest encoded cookie value, without its NUL. */
#define KEEL_SIGNED_MAX_COOKIE 2816
/** Future timestamps tolerated, seconds (clock skew between machines). */
#define KEEL_SIGNED_SKEW       60

/** Keys, newest first: `keys[0]` signs, all verify.  Caller storage. */
typedef struct keel_signed_keys {
	const keel_str_t *keys;
	size_t n;
} keel_signed_keys_t;

/**
 * Write the cookie value for name/value signed at `ts` (Unix seconds,
 * >= 0) into out[0..cap) NUL-terminated.  0, KEEL_EINVAL (no keys, short
 * key, empty name, ts < 0), KEEL_ELIMIT (value over KEEL_SIGNED_MAX_VALUE,
 * or `cap` too small).
 */
KEEL_API int keel_signed_encode(const keel_signed_keys_t *keys, keel_str_t name,
                                keel_str_t value, int64_t ts, char *out,
                                size_t cap);

/**
 * Check `cookie` for `name` at time `now` (>= 0) and decode its value into
 * out[0..cap) (NUL-terminated when there is room), *len its length.
 * `max_age` > 0 refuses cookies signed more than that many seconds ago
 * (0: no limit).  0; KEEL_EINVAL (malformed, bad MAC, bad keys),
 * KEEL_ETIMEDOUT (too old, or signed in the future), KEEL_ELIMIT (`cap`
 * too small).  `out` holds nothing usable after a failure.
 */
KEEL_API int keel_signed_decode(const keel_signed_keys_t *keys, keel_str_t name,
                                keel_str_t cookie, int64_t now, int64_t max_age,
                                void *out, size_t cap, size_t *len);

/**
 * Add a Set-Cookie for `name` holding `value` signed now with keys[0];
 * `opts` as for keel_res_cookie (set http_only, secure, same_site
 * yourself).  0, or the errors of keel_signed_encode and keel_res_cookie;
 * `res` unchanged on failure.
 */
KEEL_API int keel_signed_set(keel_res_t *res, const keel_signed_keys_t *keys,
                             const char *name, keel_str_t value,
                             const keel_cookie_opts_t *opts);

/**
 * The verified value of the request's cookie `name` in *value (a copy in
 * the request's arena, NUL-terminated).  0; KEEL_ENOENT when the cookie is
 * absent, forged, malformed, expired (`max_age` as above) or signed with
 * a key not in the list; KEEL_ENOMEM.
 */
KEEL_API int keel_signed_get(keel_req_t *req, const keel_signed_keys_t *keys,
                             const char *name, int64_t max_age,
                             keel_str_t *value);

#endif
