/*
 * keel/common.h - what every keel module shares: the export macro, the
 * return-code convention and a few helpers that would otherwise be written
 * in every file.
 *
 * Return codes: a function returns 0 (KEEL_OK) on success, KEEL_AGAIN when it
 * could not finish yet and should be called again once more input or
 * readiness arrives, or a negative KEEL_E* code on failure.  Middleware
 * returns KEEL_NEXT to pass the request on.  Codes are small and stable so
 * every layer can test for them without translation (the nginx rule).
 */
#ifndef KEEL_COMMON_H
#define KEEL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define KEEL_API               __attribute__((visibility("default")))
#define KEEL_NODISCARD         __attribute__((warn_unused_result))
#define KEEL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define KEEL_LIKELY(x)         __builtin_expect(!!(x), 1)
#define KEEL_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#else
#define KEEL_API
#define KEEL_NODISCARD
#define KEEL_PRINTF(fmt, args)
#define KEEL_LIKELY(x)   (x)
#define KEEL_UNLIKELY(x) (x)
#endif

#define KEEL_OK        0
#define KEEL_NEXT      1    /* middleware: continue with the next layer */
#define KEEL_AGAIN     (-1) /* not an error: call again when more is available */
#define KEEL_ENOMEM    (-2)  /* allocation failed or a byte cap was reached */
#define KEEL_EINVAL    (-3)  /* malformed input or argument */
#define KEEL_ERANGE    (-4)  /* value out of range, overflow */
#define KEEL_ELIMIT    (-5)  /* a configured size or count limit was exceeded */
#define KEEL_ENOENT    (-6)  /* no such item */
#define KEEL_EEXIST    (-7)  /* item already exists */
#define KEEL_EIO       (-8)  /* system call failed; errno holds the reason */
#define KEEL_ETIMEDOUT (-9)  /* a deadline passed */
#define KEEL_ECLOSED   (-10) /* peer or resource closed */
#define KEEL_ESTATE    (-11) /* call not allowed in the current state */

/** Number of elements of a true array (not a pointer). */
#define KEEL_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

/** Pointer to the struct that contains `ptr` as its member `member`. */
#define KEEL_CONTAINER_OF(ptr, type, member)                                   \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/** Short English description of a KEEL_* return code; never NULL. */
KEEL_API const char *keel_strerror(int code);

#endif
