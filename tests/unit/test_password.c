/*
 * Passwords: argon2id PHC strings at OWASP's minimum or above, verify,
 * length limits, rehash on raised parameters, the dummy hash for unknown
 * users, and a strict reading of stored strings.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keel/password.h"

/* Made once with libsodium for "correct horse": must keep verifying. */
static const char stored_vector[] =
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE";

static keel_str_t pw_of(const char *s)
{
	return (keel_str_t){s, strlen(s)};
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(password, defaults_are_owasp_minimum)
{
	keel_password_params_t p;
	keel_password_params_default(&p);
	cr_assert_eq(p.memory, 19u * 1024 * 1024);
	cr_assert_eq(p.passes, 2);
	keel_password_params_get(&p);
	cr_assert_eq(p.memory, 19u * 1024 * 1024);
	cr_assert_eq(p.passes, 2);
}

Test(password, hash_has_documented_format_and_params)
{
	char h[KEEL_PASSWORD_HASH_MAX];
	keel_password_params_t p;

	cr_assert_eq(keel_password_hash(pw_of("s3cret!"), h), 0);
	cr_assert(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "%s",
	          h);
	/* 16-byte salt and 32-byte hash: 22 and 43 base64 characters */
	const char *salt = h + 31, *dollar = strchr(salt, '$');
	cr_assert_not_null(dollar);
	cr_assert_eq(dollar - salt, 22);
	cr_assert_eq(strlen(dollar + 1), 43);
	cr_assert_eq(keel_password_phc_params(h, &p), 0);
	cr_assert_eq(p.memory, 19456u * 1024);
	cr_assert_eq(p.passes, 2);
}

Test(password, salts_are_random)
{
	char a[KEEL_PASSWORD_HASH_MAX], b[KEEL_PASSWORD_HASH_MAX];
	cr_assert_eq(keel_password_hash(pw_of("same"), a), 0);
	cr_assert_eq(keel_password_hash(pw_of("same"), b), 0);
	cr_assert_str_neq(a, b);
	cr_assert_eq(keel_password_verify(pw_of("same"), a), 0);
	cr_assert_eq(keel_password_verify(pw_of("same"), b), 0);
}

Test(password, verify_right_and_wrong)
{
	char h[KEEL_PASSWORD_HASH_MAX];
	cr_assert_eq(keel_password_hash(pw_of("hunter2"), h), 0);
	cr_assert_eq(keel_password_verify(pw_of("hunter2"), h), 0);
	cr_assert_eq(keel_password_verify(pw_of("hunter3"), h), KEEL_EINVAL);
	cr_assert_eq(keel_password_verify(pw_of("Hunter2"), h), KEEL_EINVAL);
	cr_assert_eq(keel_password_verify(pw_of("hunter2 "), h), KEEL_EINVAL);
	cr_assert_eq(keel_password_verify(pw_of(""), h), KEEL_EINVAL);
}

Test(password, stored_vector_still_verifies)
{
	cr_assert_eq(
	        keel_password_verify(pw_of("correct horse"), stored_vector), 0);
	cr_assert_eq(
	        keel_password_verify(pw_of("correct horsE"), stored_vector),
	        KEEL_EINVAL);
}

Test(password, nul_bytes_count)
{
	char h[KEEL_PASSWORD_HASH_MAX];
	keel_str_t with_nul = {"ab\0cd", 5};
	cr_assert_eq(keel_password_hash(with_nul, h), 0);
	cr_assert_eq(keel_password_verify(with_nul, h), 0);
	cr_assert_eq(keel_password_verify((keel_str_t){"ab", 2}, h),
	             KEEL_EINVAL);
	cr_assert_eq(keel_password_verify((keel_str_t){"ab\0ce", 5}, h),
	             KEEL_EINVAL);
}

Test(password, empty_password_is_hashable)
{
	char h[KEEL_PASSWORD_HASH_MAX];
	cr_assert_eq(keel_password_hash((keel_str_t){NULL, 0}, h), 0);
	cr_assert_eq(keel_password_verify((keel_str_t){NULL, 0}, h), 0);
	cr_assert_eq(keel_password_verify(pw_of("x"), h), KEEL_EINVAL);
}

Test(password, length_limit)
{
	static char big[1 << 20];
	char h[KEEL_PASSWORD_HASH_MAX];
	memset(big, 'a', sizeof(big));

	cr_assert_eq(keel_password_hash((keel_str_t){big, 400}, h), 0);
	cr_assert_eq(keel_password_verify((keel_str_t){big, 400}, h), 0);
	cr_assert_eq(keel_password_hash((keel_str_t){big, 401}, h),
	             KEEL_ELIMIT);
	cr_assert_eq(keel_password_verify((keel_str_t){big, 401}, h),
	             KEEL_ELIMIT);
	cr_assert_eq(keel_password_dummy_verify((keel_str_t){big, 401}),
	             KEEL_ELIMIT);
	double t0 = now_s();
	cr_assert_eq(keel_password_verify((keel_str_t){big, sizeof(big)}, h),
	             KEEL_ELIMIT);
	cr_assert_lt(now_s() - t0, 0.005, "a huge password must cost nothing");
}

Test(password, setup_refuses_weak_or_absurd_params)
{
	keel_password_params_t p = {19u * 1024 * 1024 - 1024, 2};
	cr_assert_eq(keel_password_setup(&p), KEEL_EINVAL);
	p = (keel_password_params_t){19u * 1024 * 1024, 1};
	cr_assert_eq(keel_password_setup(&p), KEEL_EINVAL);
	p = (keel_password_params_t){19u * 1024 * 1024 + 1, 2};
	cr_assert_eq(keel_password_setup(&p), KEEL_EINVAL);
	p = (keel_password_params_t){KEEL_PASSWORD_MAX_MEMORY + 1024, 2};
	cr_assert_eq(keel_password_setup(&p), KEEL_EINVAL);
	p = (keel_password_params_t){19u * 1024 * 1024,
	                             KEEL_PASSWORD_MAX_PASSES + 1};
	cr_assert_eq(keel_password_setup(&p), KEEL_EINVAL);
	/* a refused policy leaves the defaults in force */
	keel_password_params_get(&p);
	cr_assert_eq(p.passes, 2);
}

Test(password, raised_params_are_used_and_trigger_rehash)
{
	char old[KEEL_PASSWORD_HASH_MAX], fresh[KEEL_PASSWORD_HASH_MAX];
	keel_password_params_t up = {24u * 1024 * 1024, 3}, got;

	cr_assert_eq(keel_password_hash(pw_of("pw"), old), 0);
	cr_assert_not(keel_password_needs_rehash(old, NULL));
	cr_assert(keel_password_needs_rehash(old, &up));

	cr_assert_eq(keel_password_setup(&up), 0);
	cr_assert(keel_password_needs_rehash(old, NULL));
	cr_assert_eq(keel_password_verify(pw_of("pw"), old), 0,
	             "old hashes still verify after raising");
	cr_assert_eq(keel_password_hash(pw_of("pw"), fresh), 0);
	cr_assert(strncmp(fresh, "$argon2id$v=19$m=24576,t=3,p=1$", 31) == 0,
	          "%s", fresh);
	cr_assert_not(keel_password_needs_rehash(fresh, NULL));
	cr_assert_eq(keel_password_phc_params(fresh, &got), 0);
	cr_assert_eq(got.memory, up.memory);
	cr_assert_eq(got.passes, up.passes);
	cr_assert_eq(keel_password_verify(pw_of("pw"), fresh), 0);
}

Test(password, needs_rehash_on_memory_change_and_garbage)
{
	keel_password_params_t more_mem = {20u * 1024 * 1024, 2};
	cr_assert(keel_password_needs_rehash(stored_vector, &more_mem));
	cr_assert_not(keel_password_needs_rehash(stored_vector, NULL));
	cr_assert(keel_password_needs_rehash("", NULL));
	cr_assert(keel_password_needs_rehash(NULL, NULL));
	cr_assert(
	        keel_password_needs_rehash("$argon2i$v=19$m=19456,t=2,p=1$"
	                                   "LWj7C4JpMx1UeeplEjIABw$7oF0nVilXR"
	                                   "GBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
	                                   NULL));
}

/* Each of these is a near miss of stored_vector; none may verify. */
static const char *const malformed[] = {
        "",
        "$argon2id$",
        "$argon2i$v=19$m=19456,t=3,p=1$/pIf53u4b+5VLoVJGsNc3A$"
        "xf1raJ91ktUfI/m+u91kuNrQ8eGehwMyzoc0MjWX9UE",
        "$argon2id$v=16$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=019456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=19456,t=2,p=2$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=19456,t=0,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=4,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        /* 8 TiB of memory: must be refused before argon2 tries */
        "$argon2id$v=19$m=8589934592,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=19456,t=65,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw==$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABx$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE", /* low bits */
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1Ueepl-jIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE", /* url alphabet */
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIA$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE", /* short salt */
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tg", /* short hash */
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE$",
        "$argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE ",
        " $argon2id$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$argon2id$v=19$m=+19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
        "$ARGON2ID$v=19$m=19456,t=2,p=1$LWj7C4JpMx1UeeplEjIABw$"
        "7oF0nVilXRGBzcXfatMM7p3Ns2oz/AFOsU3E6Cg0tgE",
};

Test(password, malformed_strings_are_refused)
{
	keel_password_params_t p;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		cr_assert_eq(keel_password_phc_params(malformed[i], &p),
		             KEEL_EINVAL, "#%zu parsed: %s", i, malformed[i]);
		cr_assert_eq(keel_password_verify(pw_of("correct horse"),
		                                  malformed[i]),
		             KEEL_EINVAL, "#%zu verified", i);
		cr_assert(keel_password_needs_rehash(malformed[i], NULL));
	}
	cr_assert_eq(keel_password_phc_params(NULL, &p), KEEL_EINVAL);
	cr_assert_eq(keel_password_verify(pw_of("x"), NULL), KEEL_EINVAL);
}

Test(password, non_alphabet_bytes_in_salt_or_hash_are_refused)
{
	/* libsodium 1.0.18 decodes bytes >= 0x80 as base64 characters; the
	 * parser must not, or one hash would have several spellings. */
	char buf[KEEL_PASSWORD_HASH_MAX];
	keel_password_params_t p;
	cr_assert_eq(keel_password_phc_params(stored_vector, &p), 0);
	const char *salt = strrchr(stored_vector, '$');
	for (int field = 0; field < 2; field++) {
		snprintf(buf, sizeof(buf), "%s", stored_vector);
		size_t at = field ? (size_t)(salt - stored_vector) + 1
		                  : (size_t)(salt - stored_vector) - 1;
		buf[at] = (char)0x80;
		cr_assert_eq(keel_password_phc_params(buf, &p), KEEL_EINVAL,
		             "field %d", field);
	}
}

Test(password, unterminated_or_overlong_string_is_refused)
{
	char buf[KEEL_PASSWORD_HASH_MAX + 64];
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, stored_vector, strlen(stored_vector));
	buf[sizeof(buf) - 1] = '\0';
	cr_assert_eq(keel_password_phc_params(buf, NULL), KEEL_EINVAL);
	cr_assert_eq(keel_password_verify(pw_of("correct horse"), buf),
	             KEEL_EINVAL);
}

Test(password, dummy_verify_fails_and_costs_like_a_real_one)
{
	char h[KEEL_PASSWORD_HASH_MAX];
	cr_assert_eq(keel_password_setup(NULL), 0);
	cr_assert_eq(keel_password_hash(pw_of("real"), h), 0);
	cr_assert_eq(keel_password_dummy_verify(pw_of("real")), KEEL_EINVAL);
	cr_assert_eq(keel_password_dummy_verify(pw_of("")), KEEL_EINVAL);

	double real = 1e9, dummy = 1e9;
	for (int i = 0; i < 3; i++) { /* best of three: noise only adds */
		double t0 = now_s();
		keel_password_verify(pw_of("wrong"), h);
		double t1 = now_s();
		keel_password_dummy_verify(pw_of("wrong"));
		double t2 = now_s();
		real = t1 - t0 < real ? t1 - t0 : real;
		dummy = t2 - t1 < dummy ? t2 - t1 : dummy;
	}
	cr_assert_gt(dummy, real * 0.5, "dummy %.4fs vs real %.4fs", dummy,
	             real);
	cr_assert_lt(dummy, real * 2.0, "dummy %.4fs vs real %.4fs", dummy,
	             real);
}
