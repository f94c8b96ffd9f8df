/*
 * keel/str.h - string slices: a pointer and a length into memory someone
 * else owns.  Nothing here depends on a terminating NUL; parsers hand out
 * slices of their input buffer instead of copies (picohttpparser's rule).
 * Also strict integer parsing: the whole slice must be the number, and
 * overflow is an error, never a wrap or a clamp.
 */
#ifndef KEEL_STR_H
#define KEEL_STR_H

#include <stdbool.h>

#include "keel/common.h"

/** A view of `len` bytes at `ptr`; does not own them, may contain NULs. */
typedef struct keel_str {
	const char *ptr;
	size_t len;
} keel_str_t;

/** Slice of a string literal, length computed at compile time. */
#define KEEL_STR(lit)   ((keel_str_t){"" lit, sizeof(lit) - 1})
/** printf("%.*s", KEEL_STR_FMT(s)) prints a slice. */
#define KEEL_STR_FMT(s) (int)(s).len, (s).ptr

/** Slice of a NUL-terminated C string (NULL gives the empty slice). */
KEEL_API keel_str_t keel_str_from_cstr(const char *s);
/** Byte-wise equality. */
KEEL_API bool keel_str_eq(keel_str_t a, keel_str_t b);
/** ASCII case-insensitive equality (HTTP header names, tokens). */
KEEL_API bool keel_str_eq_nocase(keel_str_t a, keel_str_t b);
/** Three-way compare like memcmp, shorter-is-smaller on a common prefix. */
KEEL_API int keel_str_cmp(keel_str_t a, keel_str_t b);
/** ASCII case-insensitive three-way compare. */
KEEL_API int keel_str_cmp_nocase(keel_str_t a, keel_str_t b);
/** True when `s` begins with `prefix`. */
KEEL_API bool keel_str_has_prefix(keel_str_t s, keel_str_t prefix);
/** True when `s` ends with `suffix`. */
KEEL_API bool keel_str_has_suffix(keel_str_t s, keel_str_t suffix);
/** Index of the first byte `c` in `s`, or -1. */
KEEL_API ptrdiff_t keel_str_index(keel_str_t s, char c);
/** Slice without leading and trailing spaces and horizontal tabs (OWS). */
KEEL_API keel_str_t keel_str_trim(keel_str_t s);
/** Bytes [from, from+n) clamped to the slice. */
KEEL_API keel_str_t keel_str_sub(keel_str_t s, size_t from, size_t n);
/**
 * Split `*s` at the first `sep`: returns the part before it and leaves `*s`
 * pointing after it; when `sep` is absent returns all of `*s` and empties it.
 */
KEEL_API keel_str_t keel_str_cut(keel_str_t *s, char sep);

/**
 * Parse a decimal integer made of the whole slice: optional '-' (signed only),
 * then 1..n digits; no '+', no spaces, no other bytes.  Returns 0, KEEL_EINVAL
 * for a malformed slice, KEEL_ERANGE when the value does not fit.  `*out` is
 * written only on success.
 */
KEEL_API int keel_str_to_i64(keel_str_t s, int64_t *out);
/** As keel_str_to_i64 for unsigned values: digits only, no sign. */
KEEL_API int keel_str_to_u64(keel_str_t s, uint64_t *out);
/** Hexadecimal digits only (either case), no "0x"; used for chunk sizes. */
KEEL_API int keel_str_hex_to_u64(keel_str_t s, uint64_t *out);

#endif
