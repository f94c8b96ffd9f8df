/*
 * keel/multipart.h - multipart/form-data request bodies (RFC 7578 on top
 * of RFC 2046), the format of HTML forms that upload files.
 *
 * The parser is incremental: it is fed the body in chunks of any size, as
 * they arrive, and reports each part through callbacks - begin (headers
 * parsed), data (bytes as soon as they are known not to be a boundary),
 * end - so a part is never held in memory whole; only one part's header
 * section is buffered.  Chunking never changes the outcome: the same body
 * split anywhere gives the same parts, the same data per part (possibly
 * in different pieces) and the same verdict.
 *
 * Grammar as accepted: a preamble (ignored), "--boundary" at the start of
 * the body or after CRLF, optional spaces/tabs, CRLF, the part's header
 * lines (CRLF-terminated, no folding), an empty line, the data; each next
 * delimiter is CRLF "--boundary"; the last one ends in "--" and whatever
 * follows it (the epilogue) is not read.  Every part must carry
 * Content-Disposition: form-data with a name; a filename parameter makes
 * it a file part; a missing Content-Type means text/plain.  Parameter
 * values are taken raw between their quotes with no backslash escapes,
 * since browsers send Windows paths unescaped and percent-encode '"', CR
 * and LF instead.  A parameter given twice is malformed: two readers
 * picking different copies is how filters get bypassed.
 *
 * Failures carry an HTTP status: 400 malformed, 413 over a limit, 500 out
 * of memory, or the status a callback stopped the parser with.  After a
 * failure no more callbacks run, so a begun part may never see its end.
 */
#ifndef KEEL_MULTIPART_H
#define KEEL_MULTIPART_H

#include <stdbool.h>

#include "keel/buf.h"
#include "keel/common.h"
#include "keel/server.h"
#include "keel/str.h"

/** Longest boundary RFC 2046 allows. */
#define KEEL_MULTIPART_BOUNDARY_MAX 70

/** Bounds on one body; a field left 0 takes its default. */
typedef struct keel_multipart_limits {
	size_t max_parts;         /* parts in the body (default 100) */
	size_t max_header_bytes;  /* one part's header section (8 KiB) */
	uint64_t max_field_bytes; /* data of a part without filename (64 KiB) */
	uint64_t max_file_bytes;  /* data of a file part (16 MiB) */
	uint64_t max_total;       /* body bytes through the end (32 MiB) */
} keel_multipart_limits_t;

/**
 * What the parser knows of a part; slices point into its header buffer
 * and stay valid from the begin callback until the end callback returns.
 */
typedef struct keel_multipart_part {
	size_t index;            /* 0 for the first part */
	keel_str_t name;         /* the form field name, raw */
	keel_str_t filename;     /* raw (see keel_multipart_safe_filename) */
	bool is_file;            /* a filename parameter was present */
	keel_str_t content_type; /* as sent, "text/plain" when absent */
	keel_str_t headers;      /* the whole header section, raw */
	uint64_t size;           /* data bytes delivered so far */
} keel_multipart_part_t;

/**
 * Event handlers; any may be NULL.  Each returns 0 to go on, or an HTTP
 * status (400..599) to stop the parser with; other values count as 500.
 */
typedef struct keel_multipart_callbacks {
	int (*part_begin)(void *ud, const keel_multipart_part_t *part);
	int (*part_data)(void *ud, const keel_multipart_part_t *part,
	                 const char *data, size_t len);
	int (*part_end)(void *ud, const keel_multipart_part_t *part);
} keel_multipart_callbacks_t;

/** Parser state in caller storage; fields are private. */
typedef struct keel_multipart {
	keel_multipart_callbacks_t cb;
	void *ud;
	keel_multipart_limits_t lim;
	char delim[4 + KEEL_MULTIPART_BOUNDARY_MAX]; /* CRLF "--" boundary */
	size_t delim_len;
	size_t match;   /* delimiter bytes matched, held back */
	int hmatch;     /* bytes of CRLF CRLF matched in a header section */
	int state;      /* internal state machine */
	bool in_part;   /* a part was begun and not yet ended */
	size_t parts;   /* parts started */
	uint64_t total; /* body bytes read */
	keel_buf_t hdr; /* current part's header section */
	keel_multipart_part_t part;
	int rc;     /* failure code once failed */
	int status; /* HTTP status of the failure, 0 before */
} keel_multipart_t;

/**
 * The boundary parameter of a Content-Type value, as a slice of it
 * (quotes removed).  0, KEEL_ENOENT when the type is not
 * multipart/form-data (answer 415), KEEL_EINVAL when the boundary is
 * missing, repeated or not 1..70 RFC 2046 characters (answer 400).
 */
KEEL_API int keel_multipart_boundary(keel_str_t content_type,
                                     keel_str_t *boundary);

/**
 * Prepare `mp` for one body; the boundary is copied, `lim` NULL means the
 * defaults, `cb` is copied and `ud` handed to each callback.  KEEL_EINVAL
 * for a bad boundary.  Allocates nothing yet; pair with deinit.
 */
KEEL_API int keel_multipart_init(keel_multipart_t *mp, keel_str_t boundary,
                                 const keel_multipart_limits_t *lim,
                                 const keel_multipart_callbacks_t *cb,
                                 void *ud);

/** Free the parser's memory; safe after any init, also a failed one. */
KEEL_API void keel_multipart_deinit(keel_multipart_t *mp);

/**
 * Parse the next `len` body bytes, running callbacks as it goes.  Returns
 * KEEL_AGAIN (feed more), 0 once the closing delimiter was read (further
 * bytes are ignored), or on failure (repeated by later calls) KEEL_EINVAL
 * malformed, KEEL_ELIMIT over a limit, KEEL_ENOMEM, or KEEL_ESTATE when a
 * callback stopped it; keel_multipart_status gives the HTTP status.
 */
KEEL_API int keel_multipart_feed(keel_multipart_t *mp, const char *data,
                                 size_t len);

/**
 * The body has ended: 0 when the closing delimiter was read, otherwise
 * KEEL_EINVAL (truncated, 400) or the earlier failure.
 */
KEEL_API int keel_multipart_finish(keel_multipart_t *mp);

/** HTTP status of the parser's failure (400, 413, 500, a callback's), or 0. */
KEEL_API int keel_multipart_status(const keel_multipart_t *mp);

/**
 * Run the parser over the request's body, which the server has already
 * received whole (bounded by its max_body).  Returns 0, or the HTTP
 * status to answer: 415 when the type is not multipart/form-data, 400,
 * 413, 500, or a callback's status.
 */
KEEL_API int keel_req_multipart(keel_req_t *req,
                                const keel_multipart_limits_t *lim,
                                const keel_multipart_callbacks_t *cb, void *ud);

/**
 * A file name safe to use in a directory: the part after the last '/' or
 * '\', without controls, invalid UTF-8, or the characters <>:"|?* (each
 * becomes '_'), without leading dots and spaces or trailing ones, at most
 * 255 bytes.  Written NUL-terminated to out (cap >= raw.len + 1, else
 * KEEL_ENOMEM); KEEL_EINVAL when nothing usable is left.
 */
KEEL_API int keel_multipart_safe_filename(keel_str_t raw, char *out, size_t cap,
                                          size_t *out_len);

#endif
