/*
 * keel/res.h - how a handler builds its response.  The status line, Date,
 * Server, Content-Length and Connection are written by the server; the
 * handler adds its own headers and a body.  Names and values are copied,
 * and refused (KEEL_EINVAL) when they hold CR, LF or NUL, so a value taken
 * from user input can never split the response.
 *
 * A body is either bytes in a buffer or a range of an open file; a file is
 * sent with sendfile(2) straight from the page cache after the head, and
 * the next pipelined request on the connection waits until it is out.
 */
#ifndef KEEL_RES_H
#define KEEL_RES_H

#include "keel/buf.h"
#include "keel/server.h"
#include "keel/str.h"

/** Set the status (also settable by the handler's return value). */
KEEL_API void keel_res_status(keel_res_t *res, int status);
/**
 * True once the head has been sent (a streamed response): status and
 * headers can no longer change, so after hooks should leave it alone.
 */
KEEL_API bool keel_res_committed(const keel_res_t *res);
/** The status set so far (200 until changed). */
KEEL_API int keel_res_get_status(const keel_res_t *res);
/**
 * Value of the first header `name` (case-insensitive) the handler added, in
 * *value (valid until the header list changes); 0 or KEEL_ENOENT.
 */
KEEL_API int keel_res_header_get(const keel_res_t *res, const char *name,
                                 keel_str_t *value);
/** Remove every header called `name`; returns how many were removed. */
KEEL_API int keel_res_header_remove(keel_res_t *res, const char *name);
/** Add a header field; KEEL_EINVAL for CR/LF/NUL or a bad name. */
KEEL_API int keel_res_header(keel_res_t *res, const char *name,
                             const char *value);
/** As keel_res_header, with slices. */
KEEL_API int keel_res_header_str(keel_res_t *res, keel_str_t name,
                                 keel_str_t value);
/** Replace the body with a copy of data[0..len) (drops a file body). */
KEEL_API int keel_res_body(keel_res_t *res, const void *data, size_t len);
/** Append to the body. */
KEEL_API int keel_res_write(keel_res_t *res, const void *data, size_t len);
/** Append printf-formatted text to the body. */
KEEL_API int keel_res_printf(keel_res_t *res, const char *fmt, ...)
        KEEL_PRINTF(2, 3);
/**
 * Make bytes [offset, offset+len) of the open file `fd` the body, sent with
 * sendfile(2); Content-Length is `len`, HEAD gets the head only.  The
 * response owns fd from this call on, even when it fails, and closes it
 * once sent, replaced (keel_res_body, keel_res_error) or abandoned.  The
 * file must hold those bytes: if it shrinks meanwhile the connection is
 * closed.  KEEL_EINVAL for fd < 0, KEEL_ERANGE when the range overflows.
 */
KEEL_API int keel_res_file(keel_res_t *res, int fd, uint64_t offset,
                           uint64_t len);
/**
 * Stream the body instead of building it: sends the head now (chunked for
 * HTTP/1.1; HTTP/1.0 gets a close-delimited body), after which each
 * keel_res_stream_write is sent as it comes, the handler waiting (without
 * blocking the worker) while the client is slow.  Set status and headers
 * first.  KEEL_ESTATE if already streaming, KEEL_EINVAL for 1xx/204/304.
 */
KEEL_API int keel_res_stream_begin(keel_res_t *res);
/** Send one piece; KEEL_ECLOSED once the client is gone or timed out. */
KEEL_API int keel_res_stream_write(keel_res_t *res, const void *data,
                                   size_t len);
/** End the stream (also done when the handler returns without it). */
KEEL_API int keel_res_stream_end(keel_res_t *res);
/** The body buffer, for writers that stream into it; unused under a file. */
KEEL_API keel_buf_t *keel_res_buf(keel_res_t *res);
/**
 * Answer with `status` and a small JSON error body {"error": message},
 * dropping the headers and body set so far; returns `status` so a handler
 * can `return keel_res_error(res, 404, ..)`.
 */
KEEL_API int keel_res_error(keel_res_t *res, int status, const char *message);

#endif
