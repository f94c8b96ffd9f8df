/*
 * Signed cookies (src/security/signed.c): round trips, every part of a
 * cookie tampered with, the name binding, key rotation (old keys verify,
 * the newest signs), max age and future timestamps, bad keys and limits,
 * and keel_signed_set / keel_signed_get through the test client.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "keel/app.h"
#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/signed.h"
#include "keel/testclient.h"

#define SG_K1 "0123456789abcdef0123456789abcdef-key-one"
#define SG_K2 "fedcba9876543210fedcba9876543210-key-two"
#define SG_T  1700000000

#define SG_KEY(lit)                                                            \
	{                                                                      \
		lit, sizeof(lit) - 1                                           \
	}

static const keel_str_t sg_old[] = {SG_KEY(SG_K1)};
static const keel_str_t sg_new[] = {SG_KEY(SG_K2)};
static const keel_str_t sg_both[] = {SG_KEY(SG_K2), SG_KEY(SG_K1)};
static const keel_signed_keys_t sg_keys_old = {sg_old, 1};
static const keel_signed_keys_t sg_keys_new = {sg_new, 1};
static const keel_signed_keys_t sg_keys_both = {sg_both, 2};

static void sg_quiet(void)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
}

TestSuite(signed, .init = sg_quiet);

static void sg_encode(const keel_signed_keys_t *k, const char *name,
                      keel_str_t value, int64_t ts, char *out, size_t cap)
{
	int rc = keel_signed_encode(k, keel_str_from_cstr(name), value, ts, out,
	                            cap);
	cr_assert_eq(rc, 0, "encode: %d", rc);
}

static int sg_decode(const keel_signed_keys_t *k, const char *name,
                     const char *cookie, int64_t now, int64_t max_age,
                     char *out, size_t cap, size_t *len)
{
	return keel_signed_decode(k, keel_str_from_cstr(name),
	                          keel_str_from_cstr(cookie), now, max_age, out,
	                          cap, len);
}

Test(signed, round_trip_of_text_and_binary)
{
	char c[KEEL_SIGNED_MAX_COOKIE + 1], out[KEEL_SIGNED_MAX_VALUE + 1];
	size_t n;
	const char bin[] = {'a', 0, '\xff', ';', ' ', '"', '\n', '='};
	sg_encode(&sg_keys_old, "theme", KEEL_STR("dark"), SG_T, c, sizeof(c));
	cr_assert_eq(sg_decode(&sg_keys_old, "theme", c, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(out, "dark");
	/* Any bytes survive, and the cookie stays cookie-safe. */
	sg_encode(&sg_keys_old, "b", (keel_str_t){bin, sizeof(bin)}, SG_T, c,
	          sizeof(c));
	cr_assert_eq(strcspn(c, " \";,\\"), strlen(c), "%s", c);
	cr_assert_eq(
	        sg_decode(&sg_keys_old, "b", c, SG_T, 0, out, sizeof(out), &n),
	        0);
	cr_assert_eq(n, sizeof(bin));
	cr_assert_eq(memcmp(out, bin, n), 0);
	/* The empty value is a value too. */
	sg_encode(&sg_keys_old, "e", KEEL_STR(""), SG_T, c, sizeof(c));
	cr_assert_eq(c[0], '.');
	cr_assert_eq(
	        sg_decode(&sg_keys_old, "e", c, SG_T, 0, out, sizeof(out), &n),
	        0);
	cr_assert_eq(n, 0);
}

Test(signed, every_tampered_byte_is_refused)
{
	char c[256], t[256], out[64];
	size_t n;
	sg_encode(&sg_keys_old, "user", KEEL_STR("alice:admin=0"), SG_T, c,
	          sizeof(c));
	size_t len = strlen(c);
	for (size_t i = 0; i < len; i++) {
		memcpy(t, c, len + 1);
		/* Stay in the alphabet so the MAC, not the parser, refuses. */
		t[i] = t[i] == 'A' ? 'B' : (t[i] == '.' ? '.' : 'A');
		if (t[i] == c[i])
			continue;
		cr_assert_lt(sg_decode(&sg_keys_old, "user", t, SG_T, 0, out,
		                       sizeof(out), &n),
		             0, "byte %zu: %s accepted", i, t);
	}
	/* Truncated, extended, parts dropped or swapped. */
	const char *dot1 = strchr(c, '.'), *dot2 = strrchr(c, '.');
	char buf[300];
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - 1), c);
	cr_assert_lt(sg_decode(&sg_keys_old, "user", buf, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	snprintf(buf, sizeof(buf), "%sA", c);
	cr_assert_lt(sg_decode(&sg_keys_old, "user", buf, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	snprintf(buf, sizeof(buf), "%s.%s", c, dot2 + 1);
	cr_assert_lt(sg_decode(&sg_keys_old, "user", buf, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	snprintf(buf, sizeof(buf), "%.*s", (int)(dot1 - c), c); /* value only */
	cr_assert_lt(sg_decode(&sg_keys_old, "user", buf, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	/* A newer timestamp with the old MAC. */
	snprintf(buf, sizeof(buf), "%.*s.%d%s", (int)(dot1 - c), c, SG_T + 9,
	         dot2);
	cr_assert_lt(sg_decode(&sg_keys_old, "user", buf, SG_T + 9, 0, out,
	                       sizeof(out), &n),
	             0);
}

Test(signed, unsigned_or_malformed_input_is_refused)
{
	char out[64];
	size_t n;
	const char *bad[] = {
	        "",
	        "YWxpY2U",
	        "YWxpY2U.1700000000",
	        "YWxpY2U.1700000000.",
	        "YWxpY2U..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "YWxpY2U.-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "YWxpY2U.+1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "YWxpY2U.1700000000."
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        "YWxpY2U.1700000000."
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	        "YWxpY2U.99999999999999999999."
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	        "AAAAAAAA",
	        "alice",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(sg_decode(&sg_keys_old, "user", bad[i], SG_T, 0,
		                       out, sizeof(out), &n),
		             KEEL_EINVAL, "%s", bad[i]);
}

Test(signed, no_second_spelling_with_high_bytes)
{
	char c[128], t[128], out[64];
	size_t n;
	/* libsodium 1.0.18 alone reads every byte >= 0x80 as '_': find a
	 * cookie whose MAC holds one, so the alias would be accepted. */
	for (int v = 0;; v++) {
		char val[16];
		snprintf(val, sizeof(val), "hello%d", v);
		sg_encode(&sg_keys_old, "k", keel_str_from_cstr(val), SG_T, c,
		          sizeof(c));
		if (strchr(strrchr(c, '.'), '_'))
			break;
	}
	size_t len = strlen(c);
	for (size_t i = 0; i < len; i++) {
		for (int b = 0x80; b <= 0xff; b++) {
			memcpy(t, c, len + 1);
			t[i] = (char)b;
			cr_assert_lt(sg_decode(&sg_keys_old, "k", t, SG_T, 0,
			                       out, sizeof(out), &n),
			             0, "byte %zu as 0x%x accepted", i, b);
		}
	}
}

Test(signed, a_value_is_bound_to_its_name)
{
	char c[128], out[64];
	size_t n;
	sg_encode(&sg_keys_old, "role", KEEL_STR("admin"), SG_T, c, sizeof(c));
	cr_assert_eq(sg_decode(&sg_keys_old, "role2", c, SG_T, 0, out,
	                       sizeof(out), &n),
	             KEEL_EINVAL);
	cr_assert_eq(sg_decode(&sg_keys_old, "rol", c, SG_T, 0, out,
	                       sizeof(out), &n),
	             KEEL_EINVAL);
	cr_assert_eq(sg_decode(&sg_keys_old, "role", c, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
}

Test(signed, rotation_new_key_signs_old_key_still_verifies)
{
	char c_old[128], c_new[128], c_check[128], out[64];
	size_t n;
	sg_encode(&sg_keys_old, "k", KEEL_STR("v"), SG_T, c_old, sizeof(c_old));
	sg_encode(&sg_keys_both, "k", KEEL_STR("v"), SG_T, c_new,
	          sizeof(c_new));
	sg_encode(&sg_keys_new, "k", KEEL_STR("v"), SG_T, c_check,
	          sizeof(c_check));
	cr_assert_str_eq(c_new, c_check, "the first key must sign");
	cr_assert_str_neq(c_new, c_old);
	/* During the rotation both verify ... */
	cr_assert_eq(sg_decode(&sg_keys_both, "k", c_old, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	cr_assert_eq(sg_decode(&sg_keys_both, "k", c_new, SG_T, 0, out,
	                       sizeof(out), &n),
	             0);
	/* ... and once the old key is dropped, its cookies are gone. */
	cr_assert_eq(sg_decode(&sg_keys_new, "k", c_old, SG_T, 0, out,
	                       sizeof(out), &n),
	             KEEL_EINVAL);
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c_new, SG_T, 0, out,
	                       sizeof(out), &n),
	             KEEL_EINVAL);
}

Test(signed, max_age_and_future_timestamps)
{
	char c[128], out[64];
	size_t n;
	sg_encode(&sg_keys_old, "k", KEEL_STR("v"), SG_T, c, sizeof(c));
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c, SG_T + 600, 600, out,
	                       sizeof(out), &n),
	             0);
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c, SG_T + 601, 600, out,
	                       sizeof(out), &n),
	             KEEL_ETIMEDOUT);
	/* No max age: old is fine. */
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c, SG_T + 999999, 0, out,
	                       sizeof(out), &n),
	             0);
	/* Signed in the future beyond the skew allowance. */
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c, SG_T - KEEL_SIGNED_SKEW,
	                       600, out, sizeof(out), &n),
	             0);
	cr_assert_eq(sg_decode(&sg_keys_old, "k", c,
	                       SG_T - KEEL_SIGNED_SKEW - 1, 600, out,
	                       sizeof(out), &n),
	             KEEL_ETIMEDOUT);
	cr_assert_eq(
	        sg_decode(&sg_keys_old, "k", c, -1, 0, out, sizeof(out), &n),
	        KEEL_EINVAL);
}

Test(signed, bad_keys_and_limits)
{
	char c[KEEL_SIGNED_MAX_COOKIE + 1], out[8];
	static char big[KEEL_SIGNED_MAX_VALUE + 1];
	size_t n;
	const keel_str_t shortk[] = {KEEL_STR("short")};
	const keel_signed_keys_t ks = {shortk, 1}, none = {NULL, 0};
	const keel_str_t mixed[] = {KEEL_STR(SG_K1), KEEL_STR("short")};
	const keel_signed_keys_t km = {mixed, 2};
	cr_assert_eq(keel_signed_encode(&ks, KEEL_STR("k"), KEEL_STR("v"), SG_T,
	                                c, sizeof(c)),
	             KEEL_EINVAL);
	cr_assert_eq(keel_signed_encode(&none, KEEL_STR("k"), KEEL_STR("v"),
	                                SG_T, c, sizeof(c)),
	             KEEL_EINVAL);
	cr_assert_eq(keel_signed_encode(&km, KEEL_STR("k"), KEEL_STR("v"), SG_T,
	                                c, sizeof(c)),
	             KEEL_EINVAL);
	cr_assert_eq(keel_signed_encode(NULL, KEEL_STR("k"), KEEL_STR("v"),
	                                SG_T, c, sizeof(c)),
	             KEEL_EINVAL);
	cr_assert_eq(keel_signed_encode(&sg_keys_old, KEEL_STR(""),
	                                KEEL_STR("v"), SG_T, c, sizeof(c)),
	             KEEL_EINVAL);
	cr_assert_eq(keel_signed_encode(&sg_keys_old, KEEL_STR("k"),
	                                KEEL_STR("v"), -5, c, sizeof(c)),
	             KEEL_EINVAL);
	memset(big, 'x', sizeof(big));
	cr_assert_eq(keel_signed_encode(&sg_keys_old, KEEL_STR("k"),
	                                (keel_str_t){big, sizeof(big)}, SG_T, c,
	                                sizeof(c)),
	             KEEL_ELIMIT);
	sg_encode(&sg_keys_old, "k", (keel_str_t){big, sizeof(big) - 1}, SG_T,
	          c, sizeof(c));
	cr_assert_leq(strlen(c), KEEL_SIGNED_MAX_COOKIE);
	cr_assert_eq(keel_signed_encode(&sg_keys_old, KEEL_STR("k"),
	                                KEEL_STR("v"), SG_T, c, 10),
	             KEEL_ELIMIT);
	/* Output too small for the value. */
	sg_encode(&sg_keys_old, "k", KEEL_STR("0123456789"), SG_T, c,
	          sizeof(c));
	cr_assert_eq(
	        sg_decode(&sg_keys_old, "k", c, SG_T, 0, out, sizeof(out), &n),
	        KEEL_ELIMIT);
}

/* ------------------------------------------------------ through HTTP */

static int sg_h_set(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_cookie_opts_t o = {.path = "/", .http_only = true};
	(void)ud;
	return keel_signed_set(res, &sg_keys_both, "pref", keel_req_query(req),
	                       &o) == 0
	               ? 200
	               : 500;
}

static int sg_h_get(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t v;
	(void)ud;
	if (keel_signed_get(req, &sg_keys_both, "pref", 3600, &v) < 0)
		return keel_res_error(res, 404, "absent");
	keel_res_body(res, v.ptr, v.len);
	return 200;
}

Test(signed, set_and_get_through_the_test_client)
{
	keel_app_t *app = keel_app_new();
	KEEL_GET(app, "/set", sg_h_set);
	KEEL_GET(app, "/get", sg_h_get);
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	keel_str_t sc;
	char hdr[512];

	cr_assert_eq(keel_test_get(t, "/set?compact", &r), 0);
	cr_assert_eq(keel_test_header(&r, "Set-Cookie", &sc), 0);
	cr_assert(keel_str_has_prefix(sc, KEEL_STR("pref=")));
	size_t end = (size_t)keel_str_index(sc, ';');
	snprintf(hdr, sizeof(hdr), "Cookie: %.*s", (int)end, sc.ptr);
	keel_test_result_free(&r);

	keel_test_request(t, "GET", "/get", hdr, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "compact");
	keel_test_result_free(&r);

	/* Flip one character of the value: treated as absent. */
	char *val = hdr + strlen("Cookie: pref=");
	val[0] = val[0] == 'A' ? 'B' : 'A';
	keel_test_request(t, "GET", "/get", hdr, NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);

	keel_test_request(t, "GET", "/get", "Cookie: pref=Y29tcGFjdA", NULL, 0,
	                  &r);
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
	keel_test_get(t, "/get", &r);
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}
