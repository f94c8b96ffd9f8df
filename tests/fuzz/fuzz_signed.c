/*
 * Fuzz signed-cookie verification (src/security/signed.c).  The first
 * byte picks a mode:
 *   0: the rest is a cookie value for the name "n".  Whatever
 *      keel_signed_decode accepts must be exactly what keel_signed_encode
 *      makes of the decoded value and timestamp under one of the keys:
 *      unsigned, re-spelled or foreign-keyed data is never accepted.
 *   1: the rest is a value, signed with the newest key and decoded back
 *      (it must round-trip); then one byte of the cookie, chosen by the
 *      input, is changed and the result must be refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/signed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

static const keel_str_t key_list[] = {
        {"fuzz-key-new-0123456789abcdefghij", 33},
        {"fuzz-key-old-0123456789abcdefghij", 33},
};
static const keel_signed_keys_t both = {key_list, 2};
static const keel_signed_keys_t newest = {key_list, 1};
static const keel_signed_keys_t oldest = {key_list + 1, 1};

static char out[KEEL_SIGNED_MAX_COOKIE + 8];
static char again[KEEL_SIGNED_MAX_COOKIE + 8];

/* The timestamp field of an accepted cookie, as the decoder read it. */
static int64_t ts_of(keel_str_t cookie)
{
	keel_str_t rest = cookie;
	uint64_t ts = 0;
	keel_str_cut(&rest, '.');
	if (keel_str_to_u64(keel_str_cut(&rest, '.'), &ts) < 0)
		abort();
	return (int64_t)ts;
}

static bool encodes_to(const keel_signed_keys_t *k, keel_str_t value,
                       int64_t ts, keel_str_t cookie)
{
	if (keel_signed_encode(k, KEEL_STR("n"), value, ts, again,
	                       sizeof(again)) < 0)
		return false;
	return keel_str_eq(keel_str_from_cstr(again), cookie);
}

static void verify_only(keel_str_t cookie)
{
	size_t n = 0;
	if (keel_signed_decode(&both, KEEL_STR("n"), cookie, NOW, 0, out,
	                       sizeof(out), &n) < 0)
		return;
	keel_str_t value = {out, n};
	int64_t ts = ts_of(cookie);
	if (!encodes_to(&newest, value, ts, cookie) &&
	    !encodes_to(&oldest, value, ts, cookie))
		abort(); /* accepted something no key of ours produced */
}

static void sign_and_tamper(const uint8_t *data, size_t size)
{
	char cookie[KEEL_SIGNED_MAX_COOKIE + 1];
	size_t n = 0;
	keel_str_t value = {(const char *)data, size};
	if (keel_signed_encode(&newest, KEEL_STR("n"), value, NOW, cookie,
	                       sizeof(cookie)) < 0)
		return; /* too long */
	keel_str_t c = keel_str_from_cstr(cookie);
	if (keel_signed_decode(&both, KEEL_STR("n"), c, NOW, 60, out,
	                       sizeof(out), &n) != 0 ||
	    n != size || (size && memcmp(out, data, size) != 0))
		abort();
	size_t pos = size ? data[0] % c.len : 0;
	cookie[pos] ^= (char)(size > 1 ? (data[1] | 1) : 1);
	if (cookie[pos] == '\0')
		cookie[pos] = '~';
	c = keel_str_from_cstr(cookie);
	if (keel_signed_decode(&both, KEEL_STR("n"), c, NOW, 60, out,
	                       sizeof(out), &n) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		verify_only((keel_str_t){(const char *)data + 1, size - 1});
	else
		sign_and_tamper(data + 1, size - 1);
	return 0;
}
