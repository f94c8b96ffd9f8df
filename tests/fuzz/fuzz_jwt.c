/*
 * Fuzz the JWT verifier (and the PHC reader of stored password hashes).
 * The first byte picks a mode:
 *   0: the rest is a token.  Whatever the verifier accepts must carry the
 *      right HMAC, checked here independently with libsodium's one-shot
 *      HMAC: nothing is accepted without the key.
 *   1: the rest is "header\npayload" JSON text, which the harness encodes
 *      and signs with the key, so the header and claim checks behind the
 *      signature get exercised; accepted claims must obey the rules.
 *   2: the rest is a PHC string; whatever parses must be the canonical
 *      spelling of the parameters it reports.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/jwt.h"
#include "keel/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW    1700000000
#define LEEWAY 30

static const unsigned char key[32] = "fuzz-key-0123456789abcdefghijkl";

static keel_str_t key_str(void)
{
	return (keel_str_t){(const char *)key, sizeof(key)};
}

/* The claims of an accepted token must satisfy every documented rule. */
static void check_claims(const keel_jwt_claims_t *c)
{
	size_t sub = strnlen(c->sub, sizeof(c->sub));
	size_t jti = strnlen(c->jti, sizeof(c->jti));
	if (c->reason != KEEL_JWT_OK || sub == 0 || sub > KEEL_JWT_SUB_MAX ||
	    jti == 0 || jti > KEEL_JWT_JTI_MAX)
		abort();
	if (NOW - LEEWAY >= c->exp || c->iat > NOW + LEEWAY ||
	    c->nbf > NOW + LEEWAY)
		abort();
}

/* Accepted => the last segment is base64url(HMAC(key, the rest)). */
static void check_mac(const char *tok, size_t n)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char want[64];
	const char *dot = memrchr(tok, '.', n);
	if (!dot)
		abort();
	crypto_auth_hmacsha256(mac, (const unsigned char *)tok,
	                       (size_t)(dot - tok), key);
	sodium_bin2base64(want, sizeof(want), mac, sizeof(mac),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t sig = n - (size_t)(dot + 1 - tok);
	if (sig != strlen(want) || memcmp(dot + 1, want, sig) != 0)
		abort();
}

static void fuzz_token(const char *tok, size_t n)
{
	keel_jwt_claims_t c;
	if (keel_jwt_verify(key_str(), (keel_str_t){tok, n}, NOW, LEEWAY, &c) ==
	    0) {
		check_mac(tok, n);
		check_claims(&c);
	}
}

/* base64url(h) "." base64url(p) "." base64url(HMAC) into out. */
static size_t sign_parts(const char *h, size_t hn, const char *p, size_t pn,
                         char *out, size_t cap)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	size_t need = sodium_base64_ENCODED_LEN(
	        hn + pn + 64, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (need + 8 > cap || hn == 0 || pn == 0)
		return 0;
	sodium_bin2base64(out, cap, (const unsigned char *)h, hn,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t len = strlen(out);
	out[len++] = '.';
	sodium_bin2base64(out + len, cap - len, (const unsigned char *)p, pn,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	len += strlen(out + len);
	crypto_auth_hmacsha256(mac, (const unsigned char *)out, len, key);
	out[len++] = '.';
	sodium_bin2base64(out + len, cap - len, mac, sizeof(mac),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return len + strlen(out + len);
}

static void fuzz_parts(const char *in, size_t n)
{
	static char tok[3 * KEEL_JWT_MAX_TOKEN];
	const char *nl = memchr(in, '\n', n);
	if (!nl)
		return;
	size_t hn = (size_t)(nl - in);
	size_t len = sign_parts(in, hn, nl + 1, n - hn - 1, tok, sizeof(tok));
	if (len)
		fuzz_token(tok, len);
}

static void fuzz_phc(const char *in, size_t n)
{
	char s[KEEL_PASSWORD_HASH_MAX * 2], prefix[96];
	keel_password_params_t p;
	if (n >= sizeof(s))
		return;
	memcpy(s, in, n);
	s[n] = '\0';
	bool rehash = keel_password_needs_rehash(s, NULL);
	if (keel_password_phc_params(s, &p) != 0)
		return;
	int k = snprintf(prefix, sizeof(prefix),
	                 "$argon2id$v=19$m=%llu,t=%u,p=1$",
	                 (unsigned long long)(p.memory / 1024), p.passes);
	if (p.memory % 1024 || strncmp(s, prefix, (size_t)k) != 0)
		abort();
	if (!rehash != (p.memory == KEEL_PASSWORD_MIN_MEMORY &&
	                p.passes == KEEL_PASSWORD_MIN_PASSES))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || sodium_init() < 0)
		return 0;
	const char *in = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0: fuzz_token(in, n); break;
	case 1: fuzz_parts(in, n); break;
	default: fuzz_phc(in, n); break;
	}
	return 0;
}
