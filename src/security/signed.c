/*
 * Signed cookies: value, timestamp and an HMAC-SHA256 over both and the
 * cookie's name, in one cookie-safe string (keel/signed.h).
 *
 * Verification parses the three parts strictly (canonical base64url, a
 * plain decimal timestamp) and checks the MAC over the bytes exactly as
 * received before the value is decoded or the time looked at, so an
 * unsigned string never reaches any further parsing.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keel/req.h"
#include "keel/signed.h"

#define MAC_BYTES crypto_auth_hmacsha256_BYTES
#define MAC_B64   43 /* unpadded base64url of 32 bytes */
#define B64       sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define CONTEXT   "keel.signed.v1|"

/* The parts of a cookie, slices of it. */
typedef struct parts {
	keel_str_t value; /* base64url, as sent */
	keel_str_t ts;    /* decimal, as sent */
	keel_str_t mac;   /* base64url, as sent */
} parts_t;

static bool keys_ok(const keel_signed_keys_t *k)
{
	if (!k || !k->keys || k->n == 0 || k->n > KEEL_SIGNED_MAX_KEYS)
		return false;
	for (size_t i = 0; i < k->n; i++)
		if (!k->keys[i].ptr || k->keys[i].len < KEEL_SIGNED_MIN_KEY)
			return false;
	return true;
}

static void hmac_part(crypto_auth_hmacsha256_state *st, keel_str_t s)
{
	crypto_auth_hmacsha256_update(st, (const unsigned char *)s.ptr, s.len);
}

/* MAC over CONTEXT name|value|ts; the value is base64url and the time
 * decimal, so neither holds a '|' and the split is unambiguous even for
 * a name that contains one. */
static void mac_of(keel_str_t key, keel_str_t name, const parts_t *p,
                   unsigned char out[MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key.ptr,
	                            key.len);
	hmac_part(&st, KEEL_STR(CONTEXT));
	hmac_part(&st, name);
	hmac_part(&st, KEEL_STR("|"));
	hmac_part(&st, p->value);
	hmac_part(&st, KEEL_STR("|"));
	hmac_part(&st, p->ts);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* ------------------------------------------------------------ encode */

static size_t b64_len(size_t n)
{
	return sodium_base64_ENCODED_LEN(n, B64) - 1;
}

/* Value, then "." and the time, then "." and the MAC, built in place. */
int keel_signed_encode(const keel_signed_keys_t *keys, keel_str_t name,
                       keel_str_t value, int64_t ts, char *out, size_t cap)
{
	char tsbuf[24];
	unsigned char mac[MAC_BYTES];
	if (!keys_ok(keys) || name.len == 0 || ts < 0 || !out)
		return KEEL_EINVAL;
	if (value.len > KEEL_SIGNED_MAX_VALUE)
		return KEEL_ELIMIT;
	int tn = snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
	size_t vn = b64_len(value.len);
	if (cap < vn + 1 + (size_t)tn + 1 + MAC_B64 + 1)
		return KEEL_ELIMIT;
	sodium_bin2base64(out, vn + 1, (const unsigned char *)value.ptr,
	                  value.len, B64);
	parts_t p = {{out, vn}, {tsbuf, (size_t)tn}, {NULL, 0}};
	mac_of(keys->keys[0], name, &p, mac);
	char *q = out + vn;
	*q++ = '.';
	memcpy(q, tsbuf, (size_t)tn);
	q += tn;
	*q++ = '.';
	sodium_bin2base64(q, MAC_B64 + 1, mac, sizeof(mac), B64);
	return KEEL_OK;
}

/* ------------------------------------------------------------ decode */

/* libsodium 1.0.18 reads some bytes >= 0x80 as alphabet letters, so a
 * MAC would have several spellings: the alphabet is checked here first. */
static bool b64_alphabet(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool b64_decode(keel_str_t s, void *out, size_t cap, size_t *len)
{
	const char *end = NULL;
	if (!b64_alphabet(s))
		return false;
	if (s.len == 0) {
		*len = 0;
		return true;
	}
	return sodium_base642bin(out, cap, s.ptr, s.len, NULL, len, &end,
	                         B64) == 0 &&
	       end == s.ptr + s.len;
}

/* Exactly three parts, the last two non-empty; the time plain digits. */
static int split(keel_str_t cookie, parts_t *p)
{
	if (cookie.len == 0 || cookie.len > KEEL_SIGNED_MAX_COOKIE)
		return KEEL_EINVAL;
	keel_str_t rest = cookie;
	p->value = keel_str_cut(&rest, '.');
	p->ts = keel_str_cut(&rest, '.');
	p->mac = rest;
	if (p->value.len == cookie.len || p->ts.len == 0 || p->ts.len > 19 ||
	    p->mac.len != MAC_B64 || keel_str_index(p->mac, '.') >= 0)
		return KEEL_EINVAL;
	for (size_t i = 0; i < p->ts.len; i++)
		if (p->ts.ptr[i] < '0' || p->ts.ptr[i] > '9')
			return KEEL_EINVAL;
	return KEEL_OK;
}

/* Any key of the list may have signed it; every comparison takes the
 * same time whatever the bytes. */
static bool mac_matches(const keel_signed_keys_t *keys, keel_str_t name,
                        const parts_t *p)
{
	unsigned char got[MAC_BYTES], want[MAC_BYTES];
	size_t n = 0;
	bool ok = false;
	if (!b64_decode(p->mac, got, sizeof(got), &n) || n != sizeof(got))
		return false;
	for (size_t i = 0; i < keys->n && !ok; i++) {
		mac_of(keys->keys[i], name, p, want);
		ok = sodium_memcmp(got, want, sizeof(got)) == 0;
	}
	sodium_memzero(want, sizeof(want));
	return ok;
}

static int check_age(keel_str_t tstext, int64_t now, int64_t max_age)
{
	uint64_t ts;
	if (keel_str_to_u64(tstext, &ts) < 0 || ts > (uint64_t)INT64_MAX)
		return KEEL_EINVAL;
	if ((int64_t)ts > now && (int64_t)ts - now > KEEL_SIGNED_SKEW)
		return KEEL_ETIMEDOUT;
	if (max_age > 0 && now > (int64_t)ts && now - (int64_t)ts > max_age)
		return KEEL_ETIMEDOUT;
	return KEEL_OK;
}

int keel_signed_decode(const keel_signed_keys_t *keys, keel_str_t name,
                       keel_str_t cookie, int64_t now, int64_t max_age,
                       void *out, size_t cap, size_t *len)
{
	parts_t p;
	size_t n = 0;
	if (!keys_ok(keys) || name.len == 0 || now < 0 || !out || !len)
		return KEEL_EINVAL;
	int rc = split(cookie, &p);
	if (rc < 0 || !mac_matches(keys, name, &p))
		return KEEL_EINVAL;
	if ((rc = check_age(p.ts, now, max_age)) < 0)
		return rc;
	if (p.value.len / 4 * 3 + 3 > cap)
		return KEEL_ELIMIT;
	if (!b64_decode(p.value, out, cap, &n))
		return KEEL_EINVAL;
	if (n < cap)
		((char *)out)[n] = '\0';
	*len = n;
	return KEEL_OK;
}

/* ------------------------------------------------------------ cookies */

int keel_signed_set(keel_res_t *res, const keel_signed_keys_t *keys,
                    const char *name, keel_str_t value,
                    const keel_cookie_opts_t *opts)
{
	char buf[KEEL_SIGNED_MAX_COOKIE + 1];
	if (!res || !name)
		return KEEL_EINVAL;
	if (sodium_init() < 0)
		return KEEL_ENOMEM;
	int rc = keel_signed_encode(keys, keel_str_from_cstr(name), value,
	                            (int64_t)time(NULL), buf, sizeof(buf));
	return rc < 0 ? rc : keel_res_cookie(res, name, buf, opts);
}

int keel_signed_get(keel_req_t *req, const keel_signed_keys_t *keys,
                    const char *name, int64_t max_age, keel_str_t *value)
{
	keel_str_t raw;
	size_t n = 0;
	if (!req || !name || !value || keel_req_cookie(req, name, &raw) < 0)
		return KEEL_ENOENT;
	size_t cap = raw.len / 4 * 3 + 4;
	char *out = keel_arena_alloc(keel_req_arena(req), cap);
	if (!out)
		return KEEL_ENOMEM;
	if (sodium_init() < 0)
		return KEEL_ENOMEM;
	if (keel_signed_decode(keys, keel_str_from_cstr(name), raw,
	                       (int64_t)time(NULL), max_age, out, cap, &n) < 0)
		return KEEL_ENOENT;
	*value = (keel_str_t){out, n};
	return KEEL_OK;
}
