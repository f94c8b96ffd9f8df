/*
 * keel/password.h - password hashing with argon2id (libsodium).  A hash is
 * stored as the PHC string libsodium produces,
 *   $argon2id$v=19$m=19456,t=2,p=1$<16-byte salt>$<32-byte hash>
 * (base64 without padding), which carries its own salt and parameters, so
 * raising the parameters later never breaks old hashes: a login verifies
 * against the stored string, then keel_password_needs_rehash says whether
 * to store a fresh hash made with the current parameters.
 *
 * The parameters never go below OWASP's minimum for argon2id (19 MiB of
 * memory, 2 passes, 1 lane); they are a process-wide policy set once at
 * start-up with keel_password_setup (defaults otherwise).  Passwords are
 * byte slices (NULs allowed) of at most KEEL_PASSWORD_MAX bytes, so a
 * megabyte-long "password" costs a length check, not a hash.
 *
 * Hashing and verifying take tens of milliseconds of CPU on purpose.
 * Called from a handler they run on the worker's thread pool through
 * keel_offload, so other requests keep flowing while a login is checked;
 * KEEL_ELIMIT then means the pool's queue is full (answer 503).  Outside a
 * worker they run on the caller's thread.
 *
 * Unknown users: call keel_password_dummy_verify, which checks the password
 * against a hash computed once with the current parameters, so "no such
 * user" costs the same time as "wrong password" and cannot be told apart.
 */
#ifndef KEEL_PASSWORD_H
#define KEEL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keel/common.h"
#include "keel/str.h"

/** Longest password accepted, in bytes; longer ones get KEEL_ELIMIT. */
#define KEEL_PASSWORD_MAX        400
/** Size of a buffer that holds any PHC string, its NUL included. */
#define KEEL_PASSWORD_HASH_MAX   128
/** OWASP's minimum argon2id memory, in bytes (19 MiB). */
#define KEEL_PASSWORD_MIN_MEMORY (19u * 1024u * 1024u)
/** OWASP's minimum argon2id passes (t). */
#define KEEL_PASSWORD_MIN_PASSES 2u
/** Largest memory the policy (and a stored hash) may ask for: 1 GiB. */
#define KEEL_PASSWORD_MAX_MEMORY (1024ull * 1024u * 1024u)
/** Most passes the policy (and a stored hash) may ask for. */
#define KEEL_PASSWORD_MAX_PASSES 64u

/** argon2id cost parameters; the lane count is always 1 (libsodium). */
typedef struct keel_password_params {
	uint64_t memory; /* bytes, a multiple of 1024, >= 19 MiB */
	uint32_t passes; /* iterations t, >= 2 */
} keel_password_params_t;

/** Fill `p` with the defaults: 19 MiB, 2 passes (OWASP's minimum). */
KEEL_API void keel_password_params_default(keel_password_params_t *p);

/**
 * Make `p` (NULL: the defaults) the process-wide policy and compute the
 * dummy hash for it.  Call at start-up, before workers start; also done
 * lazily with the defaults on first use.  0, KEEL_EINVAL for parameters
 * below the minimum, above the maximum or not a multiple of 1 KiB,
 * KEEL_ENOMEM.  Thread-safe.
 */
KEEL_API int keel_password_setup(const keel_password_params_t *p);

/** Copy the current policy into `*p` (setting up the defaults if needed). */
KEEL_API void keel_password_params_get(keel_password_params_t *p);

/**
 * Hash `pw` with a fresh random salt under the current policy into `out`
 * (a NUL-terminated PHC string, at most KEEL_PASSWORD_HASH_MAX bytes with
 * its NUL).  0, KEEL_ELIMIT (longer than KEEL_PASSWORD_MAX, or the thread
 * pool's queue is full), KEEL_ENOMEM, KEEL_ECLOSED (worker shutting down).
 */
KEEL_API int keel_password_hash(keel_str_t pw,
                                char out[KEEL_PASSWORD_HASH_MAX]);

/**
 * Check `pw` against the stored PHC string `phc` (NUL-terminated).  0 when
 * it matches; KEEL_EINVAL for a wrong password or a string that is not a
 * well-formed argon2id hash (see keel_password_phc_params; memory and
 * passes capped by the MAX constants so a tampered row cannot exhaust the
 * machine); KEEL_ELIMIT (too long, or pool queue full); KEEL_ECLOSED.
 */
KEEL_API int keel_password_verify(keel_str_t pw, const char *phc);

/**
 * Verify `pw` against the dummy hash and fail: the unknown-user path of a
 * login, costing what keel_password_verify costs.  Always negative:
 * KEEL_EINVAL, or the errors keel_password_verify can give.
 */
KEEL_API int keel_password_dummy_verify(keel_str_t pw);

/**
 * True when `phc` was not made with exactly the parameters `p` (NULL: the
 * current policy) or is not a valid argon2id string: after a successful
 * login, hash the password again and store the new string.  No hashing
 * (only a lazy keel_password_setup when NULL and nothing was set up).
 */
KEEL_API bool keel_password_needs_rehash(const char *phc,
                                         const keel_password_params_t *p);

/**
 * Read the parameters of the PHC string `phc` into `*p` (memory in bytes):
 * 0, or KEEL_EINVAL when it is not "$argon2id$v=19$m=M,t=T,p=1$salt$hash"
 * with a 16-byte salt and a 32-byte hash in canonical unpadded base64.
 */
KEEL_API int keel_password_phc_params(const char *phc,
                                      keel_password_params_t *p);

#endif
