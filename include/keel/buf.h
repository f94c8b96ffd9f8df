/*
 * keel/buf.h - a growable byte buffer with a hard size limit, for socket
 * read buffers, response bodies and anything built piece by piece.  It
 * grows by doubling up to `max` bytes of content; a call that would pass
 * the limit or cannot get memory fails and leaves the buffer exactly as it
 * was (curl's dynbuf rule).
 *
 * `len` is authoritative and the content may hold NULs, but data[len] is
 * always '\0' so text can be handed to C string functions.  `data` is never
 * NULL: before the first growth it points at a shared, read-only "" that
 * must not be written.  Fields are public for reading; change them only
 * through these functions.
 */
#ifndef KEEL_BUF_H
#define KEEL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "keel/common.h"
#include "keel/str.h"

/** A buffer in caller storage; set up with keel_buf_init(). */
typedef struct keel_buf {
	char *data; /* len bytes of content, then '\0' */
	size_t len; /* bytes of content */
	size_t cap; /* content bytes that fit without growing */
	size_t max; /* content bytes the buffer may never pass */
} keel_buf_t;

/** Prepare an empty buffer holding at most `max` bytes (0: no limit). */
KEEL_API void keel_buf_init(keel_buf_t *b, size_t max);
/** Free the memory; `b` is left empty and usable, with the same max. */
KEEL_API void keel_buf_deinit(keel_buf_t *b);
/** Drop the content but keep the memory for the next use. */
KEEL_API void keel_buf_reset(keel_buf_t *b);

/**
 * Make room for `n` more bytes.  Returns 0, KEEL_ELIMIT when len + n would
 * pass max, KEEL_ENOMEM when malloc fails; the buffer is unchanged then.
 */
KEEL_API int keel_buf_reserve(keel_buf_t *b, size_t n);
/**
 * Append `n` bytes from `p` (which may point into the buffer itself).
 * Errors as keel_buf_reserve; on failure nothing is appended.
 */
KEEL_API int keel_buf_append(keel_buf_t *b, const void *p, size_t n);
/** Append the bytes of a slice; errors as keel_buf_append. */
KEEL_API int keel_buf_append_str(keel_buf_t *b, keel_str_t s);
/** Append one byte; errors as keel_buf_append. */
KEEL_API int keel_buf_append_char(keel_buf_t *b, char c);
/**
 * Append printf-style formatted text.  Errors as keel_buf_append, plus
 * KEEL_EINVAL when the format cannot be rendered; nothing appended then.
 */
KEEL_API int keel_buf_appendf(keel_buf_t *b, const char *fmt, ...)
        KEEL_PRINTF(2, 3);
/**
 * As keel_buf_appendf with a va_list, for wrappers such as loggers.  The
 * arguments must not point into the buffer itself: it may move while
 * growing.
 */
KEEL_API int keel_buf_vappendf(keel_buf_t *b, const char *fmt, va_list ap)
        KEEL_PRINTF(2, 0);

/** Remove the first `n` bytes (all of them when n >= len); keeps memory. */
KEEL_API void keel_buf_consume(keel_buf_t *b, size_t n);

/**
 * Hand the content to the caller as a malloc'd, NUL-terminated string
 * (free() it) and store its length in `*len` when len is not NULL.  The
 * buffer is left empty.  NULL when malloc fails; the buffer is then unchanged.
 */
KEEL_API char *keel_buf_detach(keel_buf_t *b, size_t *len);

#endif
