/*
 * keel/static.h - serving a folder of files.  A mount maps the URL paths
 * under a prefix to the files beneath a root directory and answers GET and
 * HEAD for them the way a front-line web server does: a MIME type from the
 * extension, validators (ETag, Last-Modified) and 304 Not Modified, single
 * byte ranges (206, 416, If-Range), precompressed `<file>.gz` siblings for
 * clients that accept gzip, index files, optional directory listings, and
 * a body sent with sendfile(2).  A request outside the prefix is not
 * touched (KEEL_NEXT), so a mount composes with other handlers.
 *
 * Nothing outside the root is ever served: the request path arrives
 * decoded and normalised by the parser ("..", "%2e%2e", "%2F", "%00" and
 * "\" are refused there), and every file is opened relative to the root's
 * descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so a
 * symlink that leads out of the root is not followed.  On kernels without
 * openat2 the path is walked one component at a time with O_NOFOLLOW,
 * which refuses every symlink.  Names starting with '.' (.git, .env) are
 * hidden unless enabled, except ".well-known"; only regular files are sent.
 *
 * ETags are strong and derived from the file's metadata:
 * "<mtime seconds>-<mtime nanoseconds>-<size>" in hex, with "-gz" appended
 * for the precompressed variant.  They change whenever the file is
 * rewritten, need no hashing, and agree between machines that deployed the
 * same files with their times preserved.
 *
 * The pieces below the mount (MIME lookup, ETag lists, Range, Accept-
 * Encoding q-values, HTTP dates) are pure functions, public so that other
 * handlers can answer conditional and range requests the same way.
 */
#ifndef KEEL_STATIC_H
#define KEEL_STATIC_H

#include <stdbool.h>

#include "keel/req.h"
#include "keel/res.h"
#include "keel/str.h"

/** A mounted folder; opaque. */
typedef struct keel_static keel_static_t;

/** How a mount answers; fill with keel_static_opts_init, then adjust. */
typedef struct keel_static_opts {
	int64_t max_age;   /* Cache-Control: > 0 "public, max-age=N",
	                      0 "no-cache" (revalidate each time), < 0 none */
	const char *index; /* served for a directory URL; NULL or "": none */
	bool gzip;         /* serve <file>.gz to clients accepting gzip */
	bool listing;      /* list a directory that has no index file */
	bool dotfiles;     /* serve names starting with '.' */
} keel_static_opts_t;

/** Length of an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"). */
#define KEEL_STATIC_DATE_LEN 29

/**
 * Defaults: max_age 0, index "index.html", gzip on, no listing, dotfiles
 * hidden.
 */
KEEL_API void keel_static_opts_init(keel_static_opts_t *opts);

/**
 * Mount the directory `root_dir` at the URL prefix `url_prefix` ("/static";
 * NULL, "" or "/" mounts at the root); `opts` NULL means the defaults.
 * Opens the root now (call before keel_serve: workers inherit it) and
 * copies what it keeps.  NULL when the root is not a directory we can
 * open, the prefix does not start with '/', or memory runs out (errno
 * says which).  Free with keel_static_free.
 */
KEEL_API keel_static_t *keel_static_new(const char *root_dir,
                                        const char *url_prefix,
                                        const keel_static_opts_t *opts);

/** Close the root and free the mount; NULL is allowed. */
KEEL_API void keel_static_free(keel_static_t *st);

/**
 * Answer `req` from the mount: KEEL_NEXT (res untouched) when the path is
 * not under the prefix, else the HTTP status written into `res`: 200, 206,
 * 301 (directory without '/'), 304, 403, 404, 405 (with Allow: GET, HEAD),
 * 416, 500 or 503.  Use as a handler's `return keel_static_handle(..)`.
 */
KEEL_API int keel_static_handle(keel_static_t *st, keel_req_t *req,
                                keel_res_t *res);

/**
 * Media type for the extension of file name or path `name`, text types
 * with "; charset=utf-8"; "application/octet-stream" when unknown.
 * Static storage, never NULL.
 */
KEEL_API const char *keel_static_mime_type(keel_str_t name);

/**
 * Does the If-None-Match / If-Match style `list` ("*", or entity-tags
 * like "a", W/"b" separated by commas) match `etag`?  `strong` asks for
 * strong comparison (weak tags never match); otherwise W/ is ignored.  A
 * malformed list matches nothing from the first bad element on.
 */
KEEL_API bool keel_static_etag_match(keel_str_t list, keel_str_t etag,
                                     bool strong);

/**
 * Parse a Range header value against a representation of `size` bytes.
 * Returns 0 with the single range in *first and *len (bytes=a-b, a-, -n;
 * clamped to the size), KEEL_ERANGE when no range can be satisfied (answer
 * 416), or KEEL_ENOENT when the header must be ignored and the whole
 * representation sent: malformed, another unit, or several ranges.
 */
KEEL_API int keel_static_range_parse(keel_str_t value, uint64_t size,
                                     uint64_t *first, uint64_t *len);

/**
 * The q-value (0..1000, in thousandths) an Accept-Encoding `value` gives
 * `coding` (case-insensitive; "x-gzip" counts as "gzip"), falling back to
 * the "*" entry; KEEL_ENOENT when neither is listed.  An entry with a
 * malformed q-value counts as q=0.
 */
KEEL_API int keel_static_accept_q(keel_str_t value, keel_str_t coding);

/**
 * Parse an HTTP date in any of the three forms RFC 9110 requires
 * (IMF-fixdate, RFC 850, asctime) into seconds since the epoch; 0 or
 * KEEL_EINVAL.
 */
KEEL_API int keel_static_date_parse(keel_str_t value, int64_t *unix_time);

/**
 * Write `unix_time` as an IMF-fixdate into out[0..cap), NUL-terminated
 * (cap > KEEL_STATIC_DATE_LEN); 0, KEEL_ENOMEM for a short buffer or
 * KEEL_ERANGE outside the years 1970..9999.
 */
KEEL_API int keel_static_date_format(int64_t unix_time, char *out, size_t cap);

#endif
