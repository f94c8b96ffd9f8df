/*
 * keel/http.h - HTTP/1.1 message parsing (RFC 9110, RFC 9112): the request
 * head parser, the chunked body decoder, request-target path decoding and
 * query iteration, and the status and method tables.
 *
 * The parser keeps no state and copies nothing: method, target, header
 * names and values are slices of the caller's read buffer, valid while that
 * buffer is.  It is strict on purpose, because a server that is more
 * lenient than the proxy in front of it can be made to see two requests
 * where the proxy saw one (request smuggling).  Every refusal comes with
 * the precise status to answer: 400, 413, 414, 417, 431, 501 or 505.  After
 * any refusal the server answers and closes the connection, since the
 * framing of whatever follows cannot be trusted.
 *
 * Choices made where the RFCs leave room:
 * - a lone LF ends a line only if the request line ends with one too; a
 *   head mixing CRLF and LF is refused (400);
 * - empty lines before the request line are skipped (RFC 9112 2.2), inside
 *   the request-line byte limit;
 * - methods are case-sensitive; TRACE (it echoes credentials back) and
 *   CONNECT (a proxy's job) are known but answered 501, like any unknown
 *   method;
 * - Content-Length sent twice is refused even when the values agree, and
 *   Content-Length together with Transfer-Encoding is refused (400);
 * - the only transfer coding is "chunked", once and last; other codings
 *   before it are 501, anything else 400; Transfer-Encoding in HTTP/1.0
 *   is 400;
 * - the target may hold the RFC 3986 characters plus the few that browsers
 *   send unescaped ('|', '^', '[', ']' in the path, any visible byte but
 *   '#' in the query); controls, spaces, DEL and non-ASCII are 400.
 */
#ifndef KEEL_HTTP_H
#define KEEL_HTTP_H

#include <stdbool.h>

#include "keel/common.h"
#include "keel/str.h"

/** Request methods; values other than UNKNOWN are dense from 1. */
typedef enum keel_http_method {
	KEEL_HTTP_UNKNOWN = 0,
	KEEL_HTTP_GET,
	KEEL_HTTP_HEAD,
	KEEL_HTTP_POST,
	KEEL_HTTP_PUT,
	KEEL_HTTP_PATCH,
	KEEL_HTTP_DELETE,
	KEEL_HTTP_OPTIONS,
	KEEL_HTTP_TRACE,
	KEEL_HTTP_CONNECT,
} keel_http_method_t;

/** Which of the four request-target forms of RFC 9112 3.2 was sent. */
typedef enum keel_http_form {
	KEEL_HTTP_FORM_ORIGIN = 0, /* /path?query */
	KEEL_HTTP_FORM_ABSOLUTE,   /* http://authority/path?query */
	KEEL_HTTP_FORM_ASTERISK,   /* * (OPTIONS only) */
	KEEL_HTTP_FORM_AUTHORITY,  /* host:port (CONNECT only, refused) */
} keel_http_form_t;

/**
 * Size and count limits, each enforced as soon as the bytes received prove
 * it is exceeded.  Every byte counts, line endings included.
 */
typedef struct keel_http_limits {
	size_t max_line;      /* request line and empty lines before it: 414 */
	size_t max_field;     /* one header or trailer field line: 431 */
	size_t max_fields;    /* header fields, and trailer fields: 431 */
	size_t max_head;      /* header section after the request line: 431 */
	uint64_t max_body;    /* body bytes (after chunked decoding): 413 */
	size_t max_chunk_ext; /* chunk-extension bytes in one body: 400 */
} keel_http_limits_t;

/**
 * Defaults: 8 KiB request line, 8 KiB per field, 100 fields, 32 KiB of
 * header section, 1 MiB body, 4 KiB of chunk extensions.
 */
#define KEEL_HTTP_LIMITS_DEFAULT                                               \
	{                                                                      \
		.max_line = 8192, .max_field = 8192, .max_fields = 100,        \
		.max_head = 32768, .max_body = 1048576, .max_chunk_ext = 4096, \
	}

/** One header field: name as sent, value without surrounding whitespace. */
typedef struct keel_http_header {
	keel_str_t name;
	keel_str_t value;
} keel_http_header_t;

/**
 * A parsed request head.  Slices point into the parsed buffer; `path` and
 * `query` are still percent-encoded (see keel_http_path_decode).
 */
typedef struct keel_http_request {
	keel_http_method_t method;
	keel_str_t method_name; /* as sent */
	keel_str_t target;      /* the request-target as sent */
	keel_http_form_t form;
	keel_str_t authority;        /* absolute-form authority, else Host */
	keel_str_t path;             /* "*" for asterisk-form; never empty */
	keel_str_t query;            /* after '?', empty when there is none */
	int minor_version;           /* 0 or 1: HTTP/1.0 or HTTP/1.1 */
	keel_http_header_t *headers; /* the caller's array */
	size_t header_count;
	uint64_t content_length; /* 0 when absent */
	bool chunked;            /* body framed by the chunked coding */
	bool keep_alive;         /* the connection may serve another request */
	bool expect_continue;    /* HTTP/1.1 client waits for 100 Continue */
} keel_http_request_t;

/**
 * Parse the request head at the start of buf[0..len); `lim` NULL means the
 * defaults, `hdrs[hdr_cap]` receives the header fields (more than hdr_cap
 * fields is 431).  Returns the head length in bytes (pipelined data after
 * it is left alone), KEEL_AGAIN when more bytes are needed, or KEEL_EINVAL
 * with *status set to the HTTP status to answer (otherwise 0); *req is
 * only meaningful after success.  A longer prefix of the same bytes never
 * changes a verdict already given.  Each call is one pass over the head
 * from byte 0: gate repeated calls with keel_http_scan.
 */
KEEL_API int keel_http_parse_request(const char *buf, size_t len,
                                     const keel_http_limits_t *lim,
                                     keel_http_request_t *req,
                                     keel_http_header_t *hdrs, size_t hdr_cap,
                                     int *status);

/**
 * Value of the first header field called `name` (case-insensitive) in
 * *value; returns 0 or KEEL_ENOENT.
 */
KEEL_API int keel_http_header_get(const keel_http_request_t *req,
                                  keel_str_t name, keel_str_t *value);

/** Caller-kept progress of keel_http_scan; zero it for each new request. */
typedef struct keel_http_scan {
	size_t off;        /* bytes already examined */
	size_t line_start; /* start of the line being received */
	size_t head_start; /* end of the request line; 0 until it is seen */
	size_t fields;     /* complete header field lines */
} keel_http_scan_t;

/**
 * Cheap gate between reads: looks only at bytes not seen before and
 * returns 0 once keel_http_parse_request has a verdict to give (the head
 * is complete, or a limit is already exceeded), KEEL_AGAIN before that.
 * The same bytes, grown only at their end, must be passed on every call;
 * after a 0, zero *sc before scanning the next request.
 */
KEEL_API int keel_http_scan(keel_http_scan_t *sc, const char *buf, size_t len,
                            const keel_http_limits_t *lim);

/**
 * Incremental chunked-body decoder state, owned by the caller; fields are
 * private.  Initialise with keel_http_chunked_init for each body.
 */
typedef struct keel_http_chunked {
	uint64_t remaining; /* data bytes left in the current chunk */
	uint64_t body;      /* decoded bytes so far */
	uint64_t max_body;
	size_t max_ext, ext;         /* chunk-extension byte budget, used */
	size_t max_field, line;      /* trailer line budget, used */
	size_t max_trailer, trailer; /* trailer section budget, used */
	size_t max_fields, fields;   /* trailer field count budget, used */
	int digits;                  /* hex digits of the current size */
	int state;
	int status; /* verdict once failed */
} keel_http_chunked_t;

/** Prepare `d` for one body under `lim` (NULL: defaults); cannot fail. */
KEEL_API void keel_http_chunked_init(keel_http_chunked_t *d,
                                     const keel_http_limits_t *lim);

/**
 * Decode the chunked bytes buf[0..len) in place: the body data found is
 * moved to buf[0..*decoded), and *consumed input bytes were used.  Returns
 * KEEL_AGAIN when the body continues (all input consumed), KEEL_OK when
 * the body ended (bytes after *consumed belong to the next request), or
 * KEEL_EINVAL with *status 400 (syntax), 413 (body limit) or 431 (trailer
 * limits).  Trailer fields are checked, then dropped: they never join the
 * headers.  Line endings must be CRLF here, no bare LF.
 */
KEEL_API int keel_http_chunked_decode(keel_http_chunked_t *d, char *buf,
                                      size_t len, size_t *consumed,
                                      size_t *decoded, int *status);

/**
 * Percent-decode a raw path once and remove its dot segments (RFC 3986
 * 5.2.4) into out[0..*out_len); needs out_cap >= raw.len (else
 * KEEL_ENOMEM), no terminating NUL.  KEEL_EINVAL (answer 400) for a path
 * not starting with '/', a bad escape, an escaped NUL, '/' or '\', other
 * controls, invalid UTF-8, or ".." climbing above the root.
 */
KEEL_API int keel_http_path_decode(keel_str_t raw, char *out, size_t out_cap,
                                   size_t *out_len);

/** Iterator over the key=value pairs of a raw query string. */
typedef struct keel_http_query_iter {
	keel_str_t rest; /* not yet visited */
} keel_http_query_iter_t;

/** Start iterating `query` (the slice after '?'); it is not copied. */
KEEL_API void keel_http_query_init(keel_http_query_iter_t *it,
                                   keel_str_t query);

/**
 * Next pair, in order and repeated keys included: decodes '+' and %XX of
 * key and value into buf[0..cap) and points *key and *value there; a pair
 * without '=' has an empty value.  Returns 0, KEEL_ENOENT at the end,
 * KEEL_EINVAL for a bad escape or %00, KEEL_ENOMEM when cap is too small;
 * a failed pair is skipped so iteration can go on.
 */
KEEL_API int keel_http_query_next(keel_http_query_iter_t *it, char *buf,
                                  size_t cap, keel_str_t *key,
                                  keel_str_t *value);

/**
 * Reason phrase of an HTTP status code ("Not Found"), or NULL for a code
 * keel does not know.  Static storage.
 */
KEEL_API const char *keel_http_status_text(int code);
/**
 * Does the comma-separated field value `list` (Cache-Control, Vary,
 * Connection...) hold the token `tok`, in any case?  A member's
 * "=value" part is ignored: "max-age=0, private" holds "private".
 */
KEEL_API bool keel_http_list_has(keel_str_t list, keel_str_t tok);

/** Method named exactly (case-sensitively) `name`, or KEEL_HTTP_UNKNOWN. */
KEEL_API keel_http_method_t keel_http_method_parse(keel_str_t name);

/** Name of a method ("GET"), or NULL for KEEL_HTTP_UNKNOWN and bad values. */
KEEL_API const char *keel_http_method_name(keel_http_method_t method);

#endif
