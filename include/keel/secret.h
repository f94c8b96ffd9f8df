/*
 * keel/secret.h - the application secret: the key that signs JWTs and
 * cookies.  In production it must come from configuration (an environment
 * variable or flag) and be at least KEEL_SECRET_MIN bytes, or the program
 * refuses to start: a short or missing key is a deployment mistake that
 * would otherwise surface as forgeable tokens.
 *
 * In development nobody should have to invent one: without a configured
 * secret, 32 random bytes are generated once and kept in <dir>/secret.key
 * (hex, mode 0600, directory created 0700), so logins survive restarts.
 * The file is written under a temporary name and linked into place, so
 * two processes starting together agree on one secret; a file that is not
 * a regular file owned by us, is readable by group or others, or does not
 * hold exactly what keel writes is refused rather than trusted or
 * silently replaced.  A configured secret is used as given (its bytes,
 * not decoded) and must be at least KEEL_SECRET_MIN bytes in both modes.
 *
 * Load it once at start-up, before the workers fork; the struct is then
 * read-only and may be shared.
 */
#ifndef KEEL_SECRET_H
#define KEEL_SECRET_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/str.h"

/** Shortest secret accepted, in bytes (256 bits, HS256's key size). */
#define KEEL_SECRET_MIN  32
/** Longest configured secret accepted, in bytes. */
#define KEEL_SECRET_MAX  512
/** Name of the development secret's file inside its directory. */
#define KEEL_SECRET_FILE "secret.key"

/** The secret's bytes; caller storage.  Wipe with keel_secret_wipe. */
typedef struct keel_secret {
	unsigned char bytes[KEEL_SECRET_MAX];
	size_t len;
} keel_secret_t;

/** Where a loaded secret came from. */
typedef enum keel_secret_source {
	KEEL_SECRET_CONFIGURED = 1, /* the `configured` argument */
	KEEL_SECRET_LOADED,         /* the development file, from a past run */
	KEEL_SECRET_GENERATED,      /* the development file, just created */
} keel_secret_source_t;

/**
 * Fill `out` with the app secret.  `configured` (NULL or "" when not set)
 * wins when given; otherwise production mode fails and development mode
 * reads or creates `dir`/KEEL_SECRET_FILE (`dir` NULL: "var").  `source`
 * (may be NULL) says which happened.  0; KEEL_EINVAL (configured secret
 * shorter than KEEL_SECRET_MIN, or an unsafe or malformed file),
 * KEEL_ENOENT (production without a secret), KEEL_ELIMIT (over
 * KEEL_SECRET_MAX, or path too long), KEEL_EIO (errno set).  Every failure
 * is also logged at error level with the reason.
 */
KEEL_API int keel_secret_load(keel_secret_t *out, const char *configured,
                              bool production, const char *dir,
                              keel_secret_source_t *source);

/** The secret as a byte slice (for keel_jwt_sign and friends). */
KEEL_API keel_str_t keel_secret_str(const keel_secret_t *s);

/** Overwrite the secret with zeros (not optimised away). */
KEEL_API void keel_secret_wipe(keel_secret_t *s);

#endif
