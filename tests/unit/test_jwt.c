/*
 * JWT (HS256): a round trip, then every tampering we know of must be
 * refused with the right reason: foreign algorithms and header
 * parameters, edited or swapped signatures, flipped characters in every
 * position, wrong segment counts, padding and foreign base64 alphabets,
 * duplicate keys, mistyped or missing claims, time limits with leeway at
 * their exact boundaries, oversized tokens; and the Authorization header.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keel/app.h"
#include "keel/jwt.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

#define NOW 1700000000

static const char key_bytes[] = "0123456789abcdef0123456789abcdef-test-key";

static keel_str_t test_key(void)
{
	return (keel_str_t){key_bytes, sizeof(key_bytes) - 1};
}

static keel_str_t s_of(const char *s)
{
	return (keel_str_t){s, strlen(s)};
}

static void b64url(char *out, size_t cap, const void *bin, size_t n)
{
	sodium_bin2base64(out, cap, bin, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * A token with any header and payload text, correctly signed with `key`:
 * what an attacker who knew the key could build, so each refusal below is
 * about the content, not the signature.
 */
static void craft_with(keel_str_t key, const char *hdr, const char *payload,
                       char *out, size_t cap)
{
	char h[2048], p[4096], sig[64];
	unsigned char mac[32];
	crypto_auth_hmacsha256_state st;

	cr_assert_eq(sodium_init() < 0, 0);
	b64url(h, sizeof(h), hdr, strlen(hdr));
	b64url(p, sizeof(p), payload, strlen(payload));
	snprintf(out, cap, "%s.%s", h, p);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key.ptr,
	                            key.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)out,
	                              strlen(out));
	crypto_auth_hmacsha256_final(&st, mac);
	b64url(sig, sizeof(sig), mac, sizeof(mac));
	size_t n = strlen(out);
	snprintf(out + n, cap - n, ".%s", sig);
}

static void craft(const char *hdr, const char *payload, char *out, size_t cap)
{
	craft_with(test_key(), hdr, payload, out, cap);
}

#define HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_PAY                                                               \
	"{\"sub\":\"42\",\"iat\":1700000000,\"exp\":1700003600,"               \
	"\"jti\":\"abc\"}"

/* Verify at NOW with the default leeway; returns the reason. */
static keel_jwt_reason_t verdict(const char *token)
{
	keel_jwt_claims_t c;
	memset(&c, 0x5a, sizeof(c));
	int rc = keel_jwt_verify(test_key(), s_of(token), NOW, KEEL_JWT_LEEWAY,
	                         &c);
	cr_assert_eq(rc == 0, c.reason == KEEL_JWT_OK, "rc %d reason %d", rc,
	             c.reason);
	if (rc != 0)
		cr_assert_eq(rc, KEEL_EINVAL);
	return c.reason;
}

static keel_jwt_reason_t verdict_of(const char *hdr, const char *payload)
{
	char tok[8192];
	craft(hdr, payload, tok, sizeof(tok));
	return verdict(tok);
}

static void sign_default(char *out, size_t cap, keel_jwt_claims_t *c)
{
	cr_assert_eq(keel_jwt_claims_init(c, s_of("42"), NOW, 3600), 0);
	cr_assert_eq(keel_jwt_sign(test_key(), c, NULL, out, cap), 0);
}

Test(jwt, round_trip)
{
	char tok[KEEL_JWT_MAX_TOKEN + 1];
	keel_jwt_claims_t c, v;

	sign_default(tok, sizeof(tok), &c);
	cr_assert_eq(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37),
	             0, "%s", tok);
	cr_assert_null(strchr(tok, '='));
	cr_assert_eq(strlen(c.jti), 22);
	cr_assert_eq(keel_jwt_verify(test_key(), s_of(tok), NOW, 0, &v), 0);
	cr_assert_eq(v.reason, KEEL_JWT_OK);
	cr_assert_str_eq(v.sub, "42");
	cr_assert_str_eq(v.jti, c.jti);
	cr_assert_eq(v.iat, NOW);
	cr_assert_eq(v.exp, NOW + 3600);
	cr_assert_eq(v.nbf, 0);
}

Test(jwt, a_crafted_token_with_the_right_key_verifies)
{
	/* proves the helper below builds valid tokens: refusals are real */
	cr_assert_eq(verdict_of(HDR, GOOD_PAY), KEEL_JWT_OK);
	cr_assert_eq(
	        verdict_of("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", GOOD_PAY),
	        KEEL_JWT_OK);
	cr_assert_eq(verdict_of("{\"alg\":\"HS256\"}", GOOD_PAY), KEEL_JWT_OK);
	cr_assert_eq(verdict_of(" { \"alg\" : \"HS256\" } ", GOOD_PAY),
	             KEEL_JWT_OK);
}

Test(jwt, jti_is_fresh_each_time)
{
	char a[1024], b[1024];
	keel_jwt_claims_t c1, c2;
	sign_default(a, sizeof(a), &c1);
	sign_default(b, sizeof(b), &c2);
	cr_assert_str_neq(c1.jti, c2.jti);
	cr_assert_str_neq(a, b);
}

Test(jwt, nbf_and_extra_claims)
{
	char tok[2048];
	keel_jwt_claims_t c, v;
	json_t *extra = json_pack("{s:s, s:i}", "role", "admin", "n", 7);
	json_t *payload = NULL;

	cr_assert_eq(keel_jwt_claims_init(&c, s_of("user:7"), NOW, 60), 0);
	c.nbf = NOW - 5;
	cr_assert_eq(keel_jwt_sign(test_key(), &c, extra, tok, sizeof(tok)), 0);
	cr_assert_eq(keel_jwt_verify_payload(test_key(), s_of(tok), NOW, 0, &v,
	                                     &payload),
	             0);
	cr_assert_eq(v.nbf, NOW - 5);
	cr_assert_str_eq(v.sub, "user:7");
	cr_assert_not_null(payload);
	cr_assert_str_eq(json_string_value(json_object_get(payload, "role")),
	                 "admin");
	cr_assert_eq(json_integer_value(json_object_get(payload, "n")), 7);
	json_decref(payload);
	json_decref(extra);
}

Test(jwt, extra_claims_cannot_override_registered_ones)
{
	char tok[2048];
	keel_jwt_claims_t c;
	const char *names[] = {"sub", "iat", "exp", "nbf", "jti"};
	for (size_t i = 0; i < 5; i++) {
		json_t *extra = json_pack("{s:s}", names[i], "x");
		cr_assert_eq(keel_jwt_claims_init(&c, s_of("1"), NOW, 60), 0);
		cr_assert_eq(
		        keel_jwt_sign(test_key(), &c, extra, tok, sizeof(tok)),
		        KEEL_EINVAL, "%s", names[i]);
		cr_assert_str_eq(tok, "");
		json_decref(extra);
	}
	json_t *arr = json_array();
	cr_assert_eq(keel_jwt_sign(test_key(), &c, arr, tok, sizeof(tok)),
	             KEEL_EINVAL);
	json_decref(arr);
}

Test(jwt, keys)
{
	char tok[1024];
	keel_jwt_claims_t c, v;
	keel_str_t short_key = {key_bytes, 31};
	static char long_key[200];
	memset(long_key, 'k', sizeof(long_key));

	cr_assert_eq(keel_jwt_claims_init(&c, s_of("1"), NOW, 60), 0);
	cr_assert_eq(keel_jwt_sign(short_key, &c, NULL, tok, sizeof(tok)),
	             KEEL_EINVAL);
	cr_assert_eq(c.reason, KEEL_JWT_BAD_ARGUMENT);
	sign_default(tok, sizeof(tok), &c);
	cr_assert_eq(keel_jwt_verify(short_key, s_of(tok), NOW, 0, &v),
	             KEEL_EINVAL);
	cr_assert_eq(v.reason, KEEL_JWT_BAD_ARGUMENT);

	/* any length >= 32 works (HMAC hashes keys longer than a block) */
	keel_str_t lk = {long_key, sizeof(long_key)};
	cr_assert_eq(keel_jwt_sign(lk, &c, NULL, tok, sizeof(tok)), 0);
	cr_assert_eq(keel_jwt_verify(lk, s_of(tok), NOW, 0, &v), 0);
	/* signed with another key */
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_SIGNATURE);
	/* the same key with one more byte is another key */
	keel_str_t lk2 = {long_key, sizeof(long_key) - 1};
	cr_assert_eq(keel_jwt_verify(lk2, s_of(tok), NOW, 0, &v), KEEL_EINVAL);
	cr_assert_eq(v.reason, KEEL_JWT_BAD_SIGNATURE);
}

Test(jwt, foreign_algorithms_are_refused_even_when_signed)
{
	const char *algs[] = {"none",  "None",   "NONE",  "HS512",
	                      "HS384", "RS256",  "ES256", "PS256",
	                      "hs256", "HS256 ", ""};
	char hdr[128], tok[4096];
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
		         algs[i]);
		cr_assert_eq(verdict_of(hdr, GOOD_PAY), KEEL_JWT_BAD_ALG, "%s",
		             algs[i]);
	}
	cr_assert_eq(verdict_of("{\"alg\":null}", GOOD_PAY), KEEL_JWT_BAD_ALG);
	cr_assert_eq(verdict_of("{\"alg\":256}", GOOD_PAY), KEEL_JWT_BAD_ALG);
	/* alg none the classic way: no signature at all */
	craft("{\"alg\":\"none\"}", GOOD_PAY, tok, sizeof(tok));
	*(strrchr(tok, '.') + 1) = '\0';
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_SEGMENTS);
	*strrchr(tok, '.') = '\0';
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_SEGMENTS);
}

Test(jwt, header_parameters_are_refused)
{
	const char *hdrs[] = {
	        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
	        "{\"alg\":\"HS256\",\"jku\":\"https://evil/jwks\"}",
	        "{\"alg\":\"HS256\",\"x5u\":\"https://evil/cert\"}",
	        "{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\"}}",
	        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
	        "{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
	        "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
	        "{\"alg\":\"HS256\",\"typ\":null}",
	        "{\"typ\":\"JWT\"}",
	        "{}",
	        "[\"HS256\"]",
	        "\"HS256\"",
	        "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
	        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}",
	        "{\"alg\":\"HS256\"",
	        "{\"alg\":\"HS256\"} x",
	};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		cr_assert_eq(verdict_of(hdrs[i], GOOD_PAY), KEEL_JWT_BAD_HEADER,
		             "%s", hdrs[i]);
}

Test(jwt, signatures_edited_swapped_or_stripped)
{
	char a[1024], b[1024], mixed[2048];
	keel_jwt_claims_t c;
	sign_default(a, sizeof(a), &c);
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("43"), NOW, 3600), 0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, b, sizeof(b)), 0);

	/* a's header and payload with b's signature */
	size_t cut = (size_t)(strrchr(a, '.') - a);
	snprintf(mixed, sizeof(mixed), "%.*s%s", (int)cut, a, strrchr(b, '.'));
	cr_assert_eq(verdict(mixed), KEEL_JWT_BAD_SIGNATURE);
	/* truncated signature; signature doubled */
	snprintf(mixed, sizeof(mixed), "%.*s", (int)strlen(a) - 1, a);
	cr_assert_eq(verdict(mixed), KEEL_JWT_BAD_SIGNATURE);
	snprintf(mixed, sizeof(mixed), "%s%s", a, strrchr(a, '.') + 1);
	cr_assert_eq(verdict(mixed), KEEL_JWT_BAD_SIGNATURE);
	/* a signature of 32 zero bytes */
	snprintf(mixed, sizeof(mixed), "%.*s.%s", (int)cut, a,
	         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	cr_assert_eq(verdict(mixed), KEEL_JWT_BAD_SIGNATURE);
	/* an edited payload keeping the old signature */
	cr_assert_eq(verdict(a), KEEL_JWT_OK);
	char *pay = strchr(a, '.') + 1;
	pay[2] = pay[2] == 'A' ? 'B' : 'A';
	cr_assert_neq(verdict(a), KEEL_JWT_OK);
}

Test(jwt, every_single_character_change_is_refused)
{
	char tok[1024], copy[1024];
	keel_jwt_claims_t c;
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
	                               "mnopqrstuvwxyz0123456789-_.";
	sign_default(tok, sizeof(tok), &c);
	size_t n = strlen(tok);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(alphabet) - 1; k += 7) {
			if (alphabet[k] == tok[i])
				continue;
			memcpy(copy, tok, n + 1);
			copy[i] = alphabet[k];
			cr_assert_neq(verdict(copy), KEEL_JWT_OK,
			              "accepted with [%zu]='%c'", i,
			              alphabet[k]);
		}
		/* every bit of the byte */
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, tok, n + 1);
			copy[i] = (char)(copy[i] ^ (1 << bit));
			if (copy[i] == '\0')
				continue;
			cr_assert_neq(verdict(copy), KEEL_JWT_OK,
			              "accepted with bit %d of [%zu]", bit, i);
		}
	}
}

Test(jwt, segment_counts)
{
	char tok[1024], bad[2048];
	keel_jwt_claims_t c;
	sign_default(tok, sizeof(tok), &c);
	const char *shapes[] = {"%s.", ".%s", "%s.x", "%s.%s", "x.%s"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(bad, sizeof(bad), shapes[i], tok, tok);
		cr_assert_eq(verdict(bad), KEEL_JWT_BAD_SEGMENTS, "%s", bad);
	}
	cr_assert_eq(verdict("a.b"), KEEL_JWT_BAD_SEGMENTS);
	cr_assert_eq(verdict(".."), KEEL_JWT_BAD_SEGMENTS);
	cr_assert_eq(verdict("a..c"), KEEL_JWT_BAD_SEGMENTS);
	cr_assert_eq(verdict("abc"), KEEL_JWT_BAD_SEGMENTS);
	cr_assert_eq(verdict("a.b.c.d"), KEEL_JWT_BAD_SEGMENTS);
}

/* Insert `ins` at the end of segment `seg` (0, 1, 2) of `tok`. */
static void insert_at_segment_end(const char *tok, int seg, const char *ins,
                                  char *out, size_t cap)
{
	const char *end = tok;
	for (int i = 0; i <= seg; i++) {
		const char *d = strchr(end, '.');
		end = d ? d + (i < seg) : tok + strlen(tok);
	}
	snprintf(out, cap, "%.*s%s%s", (int)(end - tok), tok, ins, end);
}

Test(jwt, base64url_is_strict)
{
	char tok[1024], bad[2048];
	keel_jwt_claims_t c;
	sign_default(tok, sizeof(tok), &c);
	const char *junk[] = {"=", "==", " ", "\n", "+", "/", "%3D", "\t", "*"};
	for (int seg = 0; seg < 3; seg++)
		for (size_t j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
			insert_at_segment_end(tok, seg, junk[j], bad,
			                      sizeof(bad));
			cr_assert_neq(verdict(bad), KEEL_JWT_OK, "seg %d + %s",
			              seg, junk[j]);
		}
	/* the standard alphabet's '+' and '/' in place of '-' and '_' */
	char *sig = strrchr(tok, '.') + 1;
	char *pay = strchr(tok, '.') + 1;
	char orig = sig[5];
	sig[5] = '+';
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_BASE64);
	sig[5] = '/';
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_BASE64);
	sig[5] = orig;
	cr_assert_eq(verdict(tok), KEEL_JWT_OK);
	pay[3] = '/'; /* covered by the MAC, so caught there first */
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_SIGNATURE);
}

Test(jwt, non_canonical_encodings)
{
	/* {"alg":"HS256" } is 16 bytes: 22 characters whose last one carries
	 * 2 bits of data and 4 zero bits; 'Q' -> 'R' sets a stray bit */
	char tok[2048], odd[2100];
	craft("{\"alg\":\"HS256\" }", GOOD_PAY, tok, sizeof(tok));
	cr_assert_eq(strncmp(tok, "eyJhbGciOiJIUzI1NiIgfQ.", 23), 0, "%s", tok);
	cr_assert_eq(verdict(tok), KEEL_JWT_OK);
	tok[21] = 'R';
	cr_assert_eq(verdict(tok), KEEL_JWT_BAD_BASE64);
	/* a length no base64 string can have (4k+1) */
	craft("{\"alg\":\"HS256\"}", GOOD_PAY, tok, sizeof(tok));
	cr_assert_eq(strncmp(tok, "eyJhbGciOiJIUzI1NiJ9.", 21), 0, "%s", tok);
	snprintf(odd, sizeof(odd), "eyJhbGciOiJIUzI1NiJ9A%s", tok + 20);
	cr_assert_eq(verdict(odd), KEEL_JWT_BAD_BASE64);
}

Test(jwt, payload_must_be_a_duplicate_free_object)
{
	const char *pays[] = {
	        "{\"sub\":\"42\",\"sub\":\"1\",\"iat\":1700000000,"
	        "\"exp\":1700003600,\"jti\":\"a\"}",
	        "{\"sub\":\"42\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"exp\":1900000000,\"jti\":\"a\"}",
	        "[\"sub\"]",
	        "42",
	        "null",
	        "",
	        "{\"sub\":\"42\"",
	        "{\"sub\":\"42\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\"} trailing",
	        "{\"sub\":\"42\",\"iat\":1700000000,\"exp\":"
	        "99999999999999999999999,\"jti\":\"a\"}",
	};
	for (size_t i = 0; i < sizeof(pays) / sizeof(pays[0]); i++) {
		keel_jwt_reason_t r = verdict_of(HDR, pays[i]);
		cr_assert(r == KEEL_JWT_BAD_PAYLOAD ||
		                  (pays[i][0] == '\0' &&
		                   r == KEEL_JWT_BAD_SEGMENTS),
		          "#%zu: %d", i, r);
	}
}

Test(jwt, deep_payload_is_refused_before_parsing)
{
	char pay[1024];
	size_t n = 0;
	n += (size_t)snprintf(pay, sizeof(pay),
	                      "{\"sub\":\"1\",\"iat\":1700000000,"
	                      "\"exp\":1700003600,\"jti\":\"a\",\"x\":");
	for (int i = 0; i < 100; i++)
		pay[n++] = '[';
	for (int i = 0; i < 100; i++)
		pay[n++] = ']';
	pay[n++] = '}';
	pay[n] = '\0';
	cr_assert_eq(verdict_of(HDR, pay), KEEL_JWT_BAD_PAYLOAD);
}

Test(jwt, claim_types)
{
	const char *pays[] = {
	        /* missing each required claim */
	        "{\"iat\":1700000000,\"exp\":1700003600,\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"exp\":1700003600,\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600}",
	        /* wrong types */
	        "{\"sub\":42,\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":null,\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":\"1700003600\","
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600.0,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":true,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":\"now\",\"exp\":1700003600,"
	        "\"jti\":\"a\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":7}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"\"}",
	        "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\",\"nbf\":\"0\"}",
	        "{\"sub\":[\"1\"],\"iat\":1700000000,\"exp\":1700003600,"
	        "\"jti\":\"a\"}",
	};
	for (size_t i = 0; i < sizeof(pays) / sizeof(pays[0]); i++)
		cr_assert_eq(verdict_of(HDR, pays[i]), KEEL_JWT_BAD_CLAIM,
		             "#%zu %s", i, pays[i]);
}

Test(jwt, oversized_claims)
{
	char pay[1024], sub[300];
	memset(sub, 's', sizeof(sub) - 1);
	sub[sizeof(sub) - 1] = '\0';
	snprintf(pay, sizeof(pay),
	         "{\"sub\":\"%.256s\",\"iat\":1700000000,\"exp\":1700003600,"
	         "\"jti\":\"a\"}",
	         sub);
	cr_assert_eq(verdict_of(HDR, pay), KEEL_JWT_BAD_CLAIM);
	snprintf(pay, sizeof(pay),
	         "{\"sub\":\"%.255s\",\"iat\":1700000000,\"exp\":1700003600,"
	         "\"jti\":\"a\"}",
	         sub);
	cr_assert_eq(verdict_of(HDR, pay), KEEL_JWT_OK);
	snprintf(pay, sizeof(pay),
	         "{\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600,"
	         "\"jti\":\"%.65s\"}",
	         sub);
	cr_assert_eq(verdict_of(HDR, pay), KEEL_JWT_BAD_CLAIM);
	cr_assert_eq(verdict_of(HDR,
	                        "{\"sub\":\"a\\u0000b\",\"iat\":1700000000,"
	                        "\"exp\":1700003600,\"jti\":\"a\"}"),
	             KEEL_JWT_BAD_PAYLOAD);
}

/* Verify a token crafted with these times at `now` with `leeway`. */
static keel_jwt_reason_t at_time(const char *times, int64_t now, int64_t leeway)
{
	char pay[256], tok[1024];
	keel_jwt_claims_t c;
	snprintf(pay, sizeof(pay), "{\"sub\":\"1\",\"jti\":\"a\",%s}", times);
	craft(HDR, pay, tok, sizeof(tok));
	keel_jwt_verify(test_key(), s_of(tok), now, leeway, &c);
	return c.reason;
}

Test(jwt, expiry_with_leeway_boundaries)
{
	const char *t = "\"iat\":1000,\"exp\":2000";
	cr_assert_eq(at_time(t, 1999, 0), KEEL_JWT_OK);
	cr_assert_eq(at_time(t, 2000, 0), KEEL_JWT_EXPIRED);
	cr_assert_eq(at_time(t, 2029, 30), KEEL_JWT_OK);
	cr_assert_eq(at_time(t, 2030, 30), KEEL_JWT_EXPIRED);
	cr_assert_eq(at_time(t, 999999, 30), KEEL_JWT_EXPIRED);
	cr_assert_eq(at_time("\"iat\":1000,\"exp\":-5", 1000, 30),
	             KEEL_JWT_EXPIRED);
	cr_assert_eq(
	        at_time("\"iat\":1000,\"exp\":9223372036854775807", 1000, 30),
	        KEEL_JWT_OK);
	cr_assert_eq(at_time("\"iat\":1000,\"exp\":-9223372036854775807", 1000,
	                     3600),
	             KEEL_JWT_EXPIRED);
}

Test(jwt, not_before_and_issued_at)
{
	const char *t = "\"iat\":1000,\"exp\":5000,\"nbf\":2000";
	cr_assert_eq(at_time(t, 1969, 30), KEEL_JWT_NOT_YET_VALID);
	cr_assert_eq(at_time(t, 1970, 30), KEEL_JWT_OK);
	cr_assert_eq(at_time(t, 1999, 0), KEEL_JWT_NOT_YET_VALID);
	cr_assert_eq(at_time(t, 2000, 0), KEEL_JWT_OK);
	const char *f = "\"iat\":1031,\"exp\":5000";
	cr_assert_eq(at_time(f, 1000, 30), KEEL_JWT_ISSUED_IN_FUTURE);
	cr_assert_eq(at_time(f, 1001, 30), KEEL_JWT_OK);
}

Test(jwt, arguments)
{
	char tok[1024];
	keel_jwt_claims_t c;
	sign_default(tok, sizeof(tok), &c);
	cr_assert_eq(keel_jwt_verify(test_key(), s_of(tok), NOW, -1, &c),
	             KEEL_EINVAL);
	cr_assert_eq(c.reason, KEEL_JWT_BAD_ARGUMENT);
	cr_assert_eq(keel_jwt_verify(test_key(), s_of(tok), NOW,
	                             KEEL_JWT_MAX_LEEWAY + 1, &c),
	             KEEL_EINVAL);
	cr_assert_eq(keel_jwt_verify(test_key(), s_of(tok), -1, 0, &c),
	             KEEL_EINVAL);
	cr_assert_eq(keel_jwt_verify(test_key(), s_of(tok), INT64_MAX, 0, &c),
	             KEEL_EINVAL);
	cr_assert_eq(c.reason, KEEL_JWT_BAD_ARGUMENT);
	cr_assert_eq(
	        keel_jwt_verify(test_key(), (keel_str_t){NULL, 0}, NOW, 0, &c),
	        KEEL_EINVAL);
	cr_assert_eq(c.reason, KEEL_JWT_BAD_LENGTH);
}

Test(jwt, claims_init_and_sign_arguments)
{
	keel_jwt_claims_t c;
	char big[300], tok[1024];
	memset(big, 'x', sizeof(big));
	cr_assert_eq(keel_jwt_claims_init(&c, s_of(""), NOW, 60), KEEL_EINVAL);
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("a"), NOW, 0), KEEL_EINVAL);
	cr_assert_eq(keel_jwt_claims_init(&c, (keel_str_t){"a\0b", 3}, NOW, 60),
	             KEEL_EINVAL);
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("a"), INT64_MAX - 5, 60),
	             KEEL_EINVAL);
	cr_assert_eq(keel_jwt_claims_init(&c, (keel_str_t){big, 256}, NOW, 60),
	             KEEL_ELIMIT);
	cr_assert_eq(keel_jwt_claims_init(&c, (keel_str_t){big, 255}, NOW, 60),
	             0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, sizeof(tok)), 0);
	/* exp not after iat */
	c.exp = c.iat;
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, sizeof(tok)),
	             KEEL_EINVAL);
	/* sub that is not UTF-8 */
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("\xff\xfe"), NOW, 60), 0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, sizeof(tok)),
	             KEEL_EINVAL);
}

Test(jwt, size_limits)
{
	static char big[KEEL_JWT_MAX_TOKEN + 2];
	char tok[1024];
	keel_jwt_claims_t c;

	/* a well-formed prefix padded past the cap */
	sign_default(tok, sizeof(tok), &c);
	memset(big, 'A', sizeof(big) - 1);
	memcpy(big, tok, strlen(tok));
	cr_assert_eq(verdict(big), KEEL_JWT_BAD_LENGTH);
	cr_assert_eq(verdict(""), KEEL_JWT_BAD_LENGTH);

	/* output buffer too small: nothing half-written */
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("1"), NOW, 60), 0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, 60), KEEL_ELIMIT);
	cr_assert_str_eq(tok, "");
	/* extra claims that would make the token too long */
	static char blob[3000];
	memset(blob, 'b', sizeof(blob) - 1);
	json_t *extra = json_pack("{s:s}", "blob", blob);
	char *out = malloc(2 * KEEL_JWT_MAX_TOKEN);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, extra, out,
	                           2 * KEEL_JWT_MAX_TOKEN),
	             KEEL_ELIMIT);
	free(out);
	json_decref(extra);
}

Test(jwt, reason_strings)
{
	for (int r = KEEL_JWT_OK; r <= KEEL_JWT_BAD_AUTHORIZATION; r++) {
		const char *s = keel_jwt_reason_str((keel_jwt_reason_t)r);
		cr_assert_not_null(s);
		cr_assert_str_neq(s, "unknown", "%d", r);
	}
	cr_assert_str_eq(keel_jwt_reason_str((keel_jwt_reason_t)999),
	                 "unknown");
	cr_assert_str_eq(keel_jwt_reason_str(KEEL_JWT_EXPIRED), "expired");
}

/* ------------------------------------------------- Authorization header */

/* Echo what keel_auth_token saw: "rc <code> <token>". */
static int auth_echo(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t tok = {"", 0};
	(void)ud;
	int rc = keel_auth_token(req, &tok);
	keel_res_printf(res, "rc %d %.*s", rc, KEEL_STR_FMT(tok));
	return 200;
}

/* 401 unless the token verifies now; the subject otherwise. */
static int auth_me(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_jwt_claims_t c;
	(void)ud;
	int rc = keel_jwt_from_request(req, test_key(), &c);
	if (rc == KEEL_ENOENT)
		return keel_res_error(res, 401, "credentials required");
	if (rc < 0)
		return keel_res_error(res, 401, "invalid token");
	keel_res_printf(res, "%s", c.sub);
	return 200;
}

static keel_app_t *auth_app;
static keel_test_t *auth_client;

static void auth_setup(void)
{
	auth_app = keel_app_new();
	cr_assert_not_null(auth_app);
	cr_assert_not_null(KEEL_GET(auth_app, "/echo", auth_echo));
	cr_assert_not_null(KEEL_GET(auth_app, "/me", auth_me));
	auth_client = keel_test_new(auth_app);
	cr_assert_not_null(auth_client);
}

static void auth_teardown(void)
{
	keel_test_free(auth_client);
	keel_app_free(auth_app);
}

/* Body of GET target with the given header lines (may be NULL). */
static void get_body(const char *target, const char *headers, char *body,
                     size_t cap, int *status)
{
	keel_test_result_t r;
	cr_assert_eq(keel_test_request(auth_client, "GET", target, headers,
	                               NULL, 0, &r),
	             0);
	snprintf(body, cap, "%s", r.body);
	*status = r.status;
	keel_test_result_free(&r);
}

static void expect_auth(const char *headers, const char *want)
{
	char body[8192];
	int status;
	get_body("/echo", headers, body, sizeof(body), &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(body, want, "headers %s", headers ? headers : "-");
}

Test(jwt, authorization_header_shapes, .init = auth_setup,
     .fini = auth_teardown)
{
	expect_auth("Authorization: Token a.b.c", "rc 0 a.b.c");
	expect_auth("Authorization: Bearer a.b.c", "rc 0 a.b.c");
	expect_auth("Authorization: bearer x-y_z", "rc 0 x-y_z");
	expect_auth("Authorization: TOKEN abc", "rc 0 abc");
	expect_auth("authorization: BeArEr abc", "rc 0 abc");
	expect_auth(NULL, "rc -6 ");
	expect_auth("Cookie: token=a.b.c", "rc -6 ");
	const char *bad[] = {
	        "Authorization: Bearer  a.b.c",
	        "Authorization: Bearer",
	        "Authorization: Bearer a.b c",
	        "Authorization: Basic YTpi",
	        "Authorization: Bearera.b.c",
	        "Authorization: JWT a.b.c",
	        "Authorization: Bearer\ta.b.c",
	        "Authorization: Bearer a.b.c=",
	        "Authorization: Bearer a+b/c",
	        "Authorization: Token \"a.b\"",
	        "Authorization: Tokens a.b.c",
	        "Authorization: a.b.c",
	        "Authorization: Bearer a.b.c\nAuthorization: Bearer a.b.c",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_auth(bad[i], "rc -3 ");
}

Test(jwt, authorization_token_length_cap, .init = auth_setup,
     .fini = auth_teardown)
{
	static char hdr[KEEL_JWT_MAX_TOKEN + 64];
	int n = snprintf(hdr, sizeof(hdr), "Authorization: Bearer ");
	memset(hdr + n, 'a', KEEL_JWT_MAX_TOKEN + 1);
	hdr[n + KEEL_JWT_MAX_TOKEN + 1] = '\0';
	expect_auth(hdr, "rc -3 ");
}

Test(jwt, token_never_taken_from_query_or_cookie, .init = auth_setup,
     .fini = auth_teardown)
{
	char tok[1024], hdr[2200], target[2200], body[256];
	keel_jwt_claims_t c;
	int status;
	cr_assert_eq(keel_jwt_claims_init(&c, s_of("alice"), time(NULL), 600),
	             0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, sizeof(tok)), 0);

	snprintf(hdr, sizeof(hdr), "Authorization: Token %s", tok);
	get_body("/me", hdr, body, sizeof(body), &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(body, "alice");

	snprintf(target, sizeof(target), "/me?token=%s&access_token=%s", tok,
	         tok);
	get_body(target, NULL, body, sizeof(body), &status);
	cr_assert_eq(status, 401);
	snprintf(hdr, sizeof(hdr), "Cookie: token=%s; jwt=%s", tok, tok);
	get_body("/me", hdr, body, sizeof(body), &status);
	cr_assert_eq(status, 401);

	/* an expired token over HTTP */
	cr_assert_eq(
	        keel_jwt_claims_init(&c, s_of("alice"), time(NULL) - 7200, 600),
	        0);
	cr_assert_eq(keel_jwt_sign(test_key(), &c, NULL, tok, sizeof(tok)), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	get_body("/me", hdr, body, sizeof(body), &status);
	cr_assert_eq(status, 401);
	cr_assert_null(strstr(body, "expired"), "reason leaked: %s", body);
}
