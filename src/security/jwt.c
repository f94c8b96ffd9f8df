/*
 * JWT, HS256 only: signing, strict verification (fixed algorithm, strict
 * base64url, constant-time HMAC check before the payload is parsed,
 * duplicate-free JSON, typed claims, time checks with leeway), and the
 * Authorization header that carries the token.
 */
#include "keel/jwt.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "keel/json.h"
#include "keel/log.h"
#include "keel/req.h"

#define MAC_LEN     crypto_auth_hmacsha256_BYTES /* 32 */
#define SIG_B64_LEN 43 /* unpadded base64 of 32 bytes */
#define JTI_BYTES   16
/* Decoded header or payload: a segment is at most the whole token. */
#define SEGMENT_MAX (KEEL_JWT_MAX_TOKEN / 4 * 3)

/* base64url of {"alg":"HS256","typ":"JWT"}: what keel signs with. */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

static const char *const registered[] = {"sub", "iat", "exp", "nbf", "jti"};

/* Record why the call failed and give the one refusal code. */
static int fail(keel_jwt_claims_t *c, keel_jwt_reason_t why)
{
	c->reason = why;
	return KEEL_EINVAL;
}

const char *keel_jwt_reason_str(keel_jwt_reason_t reason)
{
	static const char *const names[] = {
	        [KEEL_JWT_OK] = "ok",
	        [KEEL_JWT_BAD_ARGUMENT] = "bad argument",
	        [KEEL_JWT_BAD_LENGTH] = "bad length",
	        [KEEL_JWT_BAD_SEGMENTS] = "bad segments",
	        [KEEL_JWT_BAD_BASE64] = "bad base64url",
	        [KEEL_JWT_BAD_HEADER] = "bad header",
	        [KEEL_JWT_BAD_ALG] = "algorithm not allowed",
	        [KEEL_JWT_BAD_SIGNATURE] = "bad signature",
	        [KEEL_JWT_BAD_PAYLOAD] = "bad payload",
	        [KEEL_JWT_BAD_CLAIM] = "missing or mistyped claim",
	        [KEEL_JWT_EXPIRED] = "expired",
	        [KEEL_JWT_NOT_YET_VALID] = "not yet valid",
	        [KEEL_JWT_ISSUED_IN_FUTURE] = "issued in the future",
	        [KEEL_JWT_BAD_AUTHORIZATION] = "bad authorization header",
	};
	if ((size_t)reason >= KEEL_COUNTOF(names) || !names[reason])
		return "unknown";
	return names[reason];
}

/* HMAC-SHA256 through the streaming API: it takes a key of any length. */
static void mac_compute(keel_str_t key, const char *data, size_t len,
                        unsigned char mac[MAC_LEN])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key.ptr,
	                            key.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* ---------------------------------------------------------------- base64 */

static bool b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Strict base64url: the URL alphabet only (so no '=', '+', '/' or
 * whitespace), a length that unpadded base64 can have, and canonical
 * trailing bits (libsodium refuses stray low bits), so every byte string
 * has exactly one accepted spelling.
 */
static int b64url_decode(keel_str_t in, unsigned char *out, size_t cap,
                         size_t *len)
{
	if (in.len == 0 || in.len % 4 == 1)
		return KEEL_EINVAL;
	for (size_t i = 0; i < in.len; i++)
		if (!b64url_char((unsigned char)in.ptr[i]))
			return KEEL_EINVAL;
	if (sodium_base642bin(out, cap, in.ptr, in.len, NULL, len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return KEEL_EINVAL;
	return KEEL_OK;
}

/* Append base64url(bin) at out[*pos]; false when cap would be exceeded. */
static bool b64url_append(char *out, size_t cap, size_t *pos, const void *bin,
                          size_t n)
{
	size_t need = sodium_base64_ENCODED_LEN(
	        n, sodium_base64_VARIANT_URLSAFE_NO_PADDING); /* with NUL */
	if (need > cap - *pos)
		return false;
	sodium_bin2base64(out + *pos, need, bin, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*pos += need - 1;
	return true;
}

static bool append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	if (n >= cap - *pos) /* keep room for the NUL */
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	out[*pos] = '\0';
	return true;
}

/* ---------------------------------------------------------------- signing */

int keel_jwt_claims_init(keel_jwt_claims_t *c, keel_str_t sub, int64_t now,
                         int64_t ttl)
{
	memset(c, 0, sizeof(*c));
	if (sub.len == 0 || memchr(sub.ptr, '\0', sub.len) || ttl <= 0 ||
	    now > INT64_MAX - ttl)
		return KEEL_EINVAL;
	if (sub.len > KEEL_JWT_SUB_MAX)
		return KEEL_ELIMIT;
	memcpy(c->sub, sub.ptr, sub.len);
	c->iat = now;
	c->exp = now + ttl;
	return KEEL_OK;
}

/* Copy `extra` into the payload, refusing registered names. */
static int add_extra(json_t *payload, const json_t *extra)
{
	const char *k;
	json_t *v;

	if (!json_is_object(extra))
		return KEEL_EINVAL;
	json_object_foreach((json_t *)extra, k, v)
	{
		for (size_t i = 0; i < KEEL_COUNTOF(registered); i++)
			if (strcmp(k, registered[i]) == 0)
				return KEEL_EINVAL;
		if (json_object_set(payload, k, v) != 0)
			return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

/* A fresh jti: 128 random bits, unguessable and practically unique. */
static void new_jti(char jti[KEEL_JWT_JTI_MAX + 1])
{
	unsigned char raw[JTI_BYTES];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(jti, KEEL_JWT_JTI_MAX + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The payload object for `c` (+ extra); NULL with *rc set on failure. */
static json_t *payload_build(const keel_jwt_claims_t *c, const json_t *extra,
                             int *rc)
{
	json_t *p = json_object();
	*rc = KEEL_ENOMEM;
	if (!p)
		return NULL;
	json_t *sub = json_string(c->sub); /* NULL also for bad UTF-8 */
	if (!sub)
		*rc = KEEL_EINVAL;
	if (json_object_set_new(p, "sub", sub) != 0 ||
	    json_object_set_new(p, "iat", json_integer(c->iat)) != 0 ||
	    json_object_set_new(p, "exp", json_integer(c->exp)) != 0 ||
	    json_object_set_new(p, "jti", json_string(c->jti)) != 0 ||
	    (c->nbf && json_object_set_new(p, "nbf", json_integer(c->nbf))))
		goto fail;
	if (extra && (*rc = add_extra(p, extra)) < 0)
		goto fail;
	*rc = KEEL_OK;
	return p;
fail:
	json_decref(p);
	return NULL;
}

/* header "." payload "." signature into out; the MAC covers out[0..dot2). */
static int assemble(keel_str_t key, const char *json, size_t json_len,
                    char *out, size_t cap)
{
	size_t pos = 0;
	unsigned char mac[MAC_LEN];

	if (!append(out, cap, &pos, header_b64, sizeof(header_b64) - 1) ||
	    !append(out, cap, &pos, ".", 1) ||
	    !b64url_append(out, cap, &pos, json, json_len))
		return KEEL_ELIMIT;
	mac_compute(key, out, pos, mac);
	if (!append(out, cap, &pos, ".", 1) ||
	    !b64url_append(out, cap, &pos, mac, sizeof(mac)))
		return KEEL_ELIMIT;
	return pos > KEEL_JWT_MAX_TOKEN ? KEEL_ELIMIT : KEEL_OK;
}

int keel_jwt_sign(keel_str_t key, keel_jwt_claims_t *claims,
                  const json_t *extra, char *out, size_t cap)
{
	char json[SEGMENT_MAX];
	int rc;

	if (cap > 0)
		out[0] = '\0';
	if (key.len < KEEL_JWT_MIN_KEY || !claims->sub[0] ||
	    claims->exp <= claims->iat || cap == 0)
		return fail(claims, KEEL_JWT_BAD_ARGUMENT);
	if (sodium_init() < 0)
		return KEEL_ENOMEM;
	new_jti(claims->jti);
	json_t *p = payload_build(claims, extra, &rc);
	if (!p)
		return rc == KEEL_EINVAL ? fail(claims, KEEL_JWT_BAD_ARGUMENT)
		                         : rc;
	size_t n = json_dumpb(p, json, sizeof(json), JSON_COMPACT);
	json_decref(p);
	if (n == 0)
		return KEEL_ENOMEM;
	if (n > sizeof(json))
		return KEEL_ELIMIT;
	rc = assemble(key, json, n, out, cap);
	if (rc < 0)
		out[0] = '\0';
	claims->reason = rc < 0 ? KEEL_JWT_BAD_LENGTH : KEEL_JWT_OK;
	return rc;
}

/* ----------------------------------------------------------- verification */

/* The three parts of a token, as slices of it. */
typedef struct parts {
	keel_str_t header, payload, signature;
	size_t signed_len; /* header "." payload */
} parts_t;

static keel_jwt_reason_t split(keel_str_t t, parts_t *p)
{
	const char *d1 = memchr(t.ptr, '.', t.len);
	if (!d1)
		return KEEL_JWT_BAD_SEGMENTS;
	const char *d2 = memchr(d1 + 1, '.', (size_t)(t.ptr + t.len - d1 - 1));
	if (!d2 || memchr(d2 + 1, '.', (size_t)(t.ptr + t.len - d2 - 1)))
		return KEEL_JWT_BAD_SEGMENTS;
	p->header = (keel_str_t){t.ptr, (size_t)(d1 - t.ptr)};
	p->payload = (keel_str_t){d1 + 1, (size_t)(d2 - d1 - 1)};
	p->signature = (keel_str_t){d2 + 1, (size_t)(t.ptr + t.len - d2 - 1)};
	p->signed_len = (size_t)(d2 - t.ptr);
	if (!p->header.len || !p->payload.len || !p->signature.len)
		return KEEL_JWT_BAD_SEGMENTS;
	return KEEL_JWT_OK;
}

/*
 * Decode a JSON segment into a jansson object: duplicate keys refused, and
 * the nesting depth checked first because jansson recurses on the
 * coroutine's small stack.
 */
static json_t *segment_json(keel_str_t seg, size_t max_depth,
                            keel_jwt_reason_t *why)
{
	unsigned char buf[SEGMENT_MAX];
	size_t n = 0;
	json_error_t err;

	if (b64url_decode(seg, buf, sizeof(buf), &n) < 0) {
		*why = KEEL_JWT_BAD_BASE64;
		return NULL;
	}
	json_t *v = NULL;
	if (keel_json_depth((keel_str_t){(const char *)buf, n}) <= max_depth)
		v = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES,
		               &err);
	if (!json_is_object(v)) {
		json_decref(v);
		*why = KEEL_JWT_BAD_PAYLOAD;
		return NULL;
	}
	return v;
}

/*
 * The header is checked before the MAC so the log can say "alg none"
 * instead of "bad signature", but nothing in it is trusted: it may only
 * restate what the server already decided (HS256).
 */
static keel_jwt_reason_t check_header(keel_str_t seg)
{
	keel_jwt_reason_t why = KEEL_JWT_OK;

	if (seg.len == sizeof(header_b64) - 1 &&
	    memcmp(seg.ptr, header_b64, seg.len) == 0)
		return KEEL_JWT_OK; /* the common case: keel's own header */
	json_t *h = segment_json(seg, 1, &why);
	if (!h)
		return why == KEEL_JWT_BAD_PAYLOAD ? KEEL_JWT_BAD_HEADER : why;
	json_t *alg = json_object_get(h, "alg");
	json_t *typ = json_object_get(h, "typ");
	size_t want = 1 + (typ != NULL);
	if (!alg || json_object_size(h) != want)
		why = KEEL_JWT_BAD_HEADER;
	else if (!json_is_string(alg) ||
	         strcmp(json_string_value(alg), "HS256"))
		why = KEEL_JWT_BAD_ALG;
	else if (typ && !(json_is_string(typ) &&
	                  strcmp(json_string_value(typ), "JWT") == 0))
		why = KEEL_JWT_BAD_HEADER;
	json_decref(h);
	return why;
}

/* Constant-time compare of the decoded signature with our own MAC. */
static keel_jwt_reason_t check_signature(keel_str_t key, keel_str_t token,
                                         const parts_t *p)
{
	unsigned char got[MAC_LEN], want[MAC_LEN];
	size_t n = 0;

	/* 32 bytes are always 43 characters: other lengths (HS512, RS256,
	 * truncation) are wrong signatures, whatever their encoding */
	if (p->signature.len != SIG_B64_LEN)
		return KEEL_JWT_BAD_SIGNATURE;
	if (b64url_decode(p->signature, got, sizeof(got), &n) < 0 ||
	    n != MAC_LEN)
		return KEEL_JWT_BAD_BASE64;
	mac_compute(key, token.ptr, p->signed_len, want);
	if (sodium_memcmp(got, want, MAC_LEN) != 0)
		return KEEL_JWT_BAD_SIGNATURE;
	return KEEL_JWT_OK;
}

/* A string claim of 1..max bytes copied into dst; false otherwise. */
static bool claim_str(json_t *obj, const char *name, char *dst, size_t max)
{
	json_t *v = json_object_get(obj, name);
	if (!json_is_string(v))
		return false;
	size_t n = json_string_length(v);
	if (n == 0 || n > max || memchr(json_string_value(v), '\0', n))
		return false;
	memcpy(dst, json_string_value(v), n);
	dst[n] = '\0';
	return true;
}

/* An integer claim; absent is fine only when `optional`. */
static bool claim_int(json_t *obj, const char *name, bool optional,
                      int64_t *dst)
{
	json_t *v = json_object_get(obj, name);
	if (!v)
		return optional;
	if (!json_is_integer(v))
		return false;
	*dst = (int64_t)json_integer_value(v);
	return true;
}

/* Types first, then time; `now` and `leeway` were range-checked. */
static keel_jwt_reason_t check_claims(json_t *p, int64_t now, int64_t leeway,
                                      keel_jwt_claims_t *c)
{
	c->nbf = 0;
	if (!claim_str(p, "sub", c->sub, KEEL_JWT_SUB_MAX) ||
	    !claim_str(p, "jti", c->jti, KEEL_JWT_JTI_MAX) ||
	    !claim_int(p, "iat", false, &c->iat) ||
	    !claim_int(p, "exp", false, &c->exp) ||
	    !claim_int(p, "nbf", true, &c->nbf))
		return KEEL_JWT_BAD_CLAIM;
	if (now - leeway >= c->exp)
		return KEEL_JWT_EXPIRED;
	if (json_object_get(p, "nbf") && now + leeway < c->nbf)
		return KEEL_JWT_NOT_YET_VALID;
	if (c->iat > now + leeway)
		return KEEL_JWT_ISSUED_IN_FUTURE;
	return KEEL_JWT_OK;
}

/* Everything up to (not including) the payload's JSON. */
static keel_jwt_reason_t check_outer(keel_str_t key, keel_str_t token,
                                     int64_t now, int64_t leeway, parts_t *p)
{
	keel_jwt_reason_t why;

	if (key.len < KEEL_JWT_MIN_KEY || leeway < 0 ||
	    leeway > KEEL_JWT_MAX_LEEWAY || now < 0 || now > INT64_MAX / 2 ||
	    sodium_init() < 0)
		return KEEL_JWT_BAD_ARGUMENT;
	if (token.len == 0 || token.len > KEEL_JWT_MAX_TOKEN || !token.ptr)
		return KEEL_JWT_BAD_LENGTH;
	if ((why = split(token, p)) != KEEL_JWT_OK ||
	    (why = check_header(p->header)) != KEEL_JWT_OK)
		return why;
	return check_signature(key, token, p);
}

int keel_jwt_verify_payload(keel_str_t key, keel_str_t token, int64_t now,
                            int64_t leeway, keel_jwt_claims_t *claims,
                            json_t **payload)
{
	parts_t parts;
	keel_jwt_reason_t why;

	if (payload)
		*payload = NULL;
	why = check_outer(key, token, now, leeway, &parts);
	if (why != KEEL_JWT_OK)
		return fail(claims, why);
	json_t *p = segment_json(parts.payload, KEEL_JSON_MAX_DEPTH, &why);
	if (!p)
		return fail(claims, why);
	why = check_claims(p, now, leeway, claims);
	if (why != KEEL_JWT_OK) {
		json_decref(p);
		return fail(claims, why);
	}
	claims->reason = KEEL_JWT_OK;
	if (payload)
		*payload = p;
	else
		json_decref(p);
	return KEEL_OK;
}

int keel_jwt_verify(keel_str_t key, keel_str_t token, int64_t now,
                    int64_t leeway, keel_jwt_claims_t *claims)
{
	return keel_jwt_verify_payload(key, token, now, leeway, claims, NULL);
}

/* --------------------------------------------------- Authorization header */

/* "<scheme> " at the start of v, scheme compared without letter case. */
static bool scheme_is(keel_str_t v, const char *scheme)
{
	size_t n = strlen(scheme);
	if (v.len <= n || v.ptr[n] != ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v.ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != scheme[i])
			return false;
	}
	return true;
}

/* Counting matters: two Authorization headers are ambiguous, so refused. */
static int authorization_value(const keel_req_t *req, keel_str_t *value)
{
	const keel_http_request_t *h = keel_req_head(req);
	const keel_str_t name = KEEL_STR("authorization");
	int found = 0;

	for (size_t i = 0; h && i < h->header_count; i++) {
		if (!keel_str_eq_nocase(h->headers[i].name, name))
			continue;
		*value = h->headers[i].value;
		found++;
	}
	if (found == 0)
		return KEEL_ENOENT;
	return found == 1 ? KEEL_OK : KEEL_EINVAL;
}

int keel_auth_token(const keel_req_t *req, keel_str_t *token)
{
	keel_str_t v;
	int rc = authorization_value(req, &v);
	if (rc < 0)
		return rc;
	size_t skip;
	if (scheme_is(v, "token"))
		skip = 6;
	else if (scheme_is(v, "bearer"))
		skip = 7;
	else
		return KEEL_EINVAL;
	keel_str_t t = {v.ptr + skip, v.len - skip};
	if (t.len == 0 || t.len > KEEL_JWT_MAX_TOKEN)
		return KEEL_EINVAL;
	for (size_t i = 0; i < t.len; i++)
		if (!b64url_char((unsigned char)t.ptr[i]) && t.ptr[i] != '.')
			return KEEL_EINVAL;
	*token = t;
	return KEEL_OK;
}

int keel_jwt_from_request(const keel_req_t *req, keel_str_t key,
                          keel_jwt_claims_t *claims)
{
	keel_str_t token;
	int rc = keel_auth_token(req, &token);

	if (rc == KEEL_ENOENT)
		return rc;
	if (rc < 0)
		rc = fail(claims, KEEL_JWT_BAD_AUTHORIZATION);
	else
		rc = keel_jwt_verify(key, token, (int64_t)time(NULL),
		                     KEEL_JWT_LEEWAY, claims);
	if (rc < 0)
		KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "jwt refused",
		            KEEL_KV_STR("reason",
		                        keel_jwt_reason_str(claims->reason)),
		            KEEL_KV_STR("request_id", keel_req_id(req)));
	return rc;
}
