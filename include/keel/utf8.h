/*
 * keel/utf8.h - strict UTF-8 (Unicode's table 3-7): the range allowed for
 * the second byte depends on the first, which rules out overlong forms,
 * surrogates (U+D800..DFFF) and code points past U+10FFFF.  One
 * implementation for every layer that must refuse or repair bad text:
 * paths, JSON, logs, forms, multipart headers, error bodies.
 */
#ifndef KEEL_UTF8_H
#define KEEL_UTF8_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/str.h"

/**
 * Length (1..4) of the valid UTF-8 sequence starting at s[0], within
 * s[0..n); 0 when it is invalid or cut short (n == 0 included).
 */
KEEL_API size_t keel_utf8_seq(const unsigned char *s, size_t n);
/** True when the whole slice is valid UTF-8. */
KEEL_API bool keel_utf8_valid(keel_str_t s);
/**
 * Number of code points in `s` in *count; KEEL_EINVAL (count untouched)
 * when `s` is not valid UTF-8.
 */
KEEL_API int keel_utf8_count(keel_str_t s, size_t *count);

#endif
