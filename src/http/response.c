/*
 * Responses: what handlers call (keel_res_*) and how a finished response
 * becomes bytes in the connection's output (status line, server-managed
 * headers, the handler's headers, body).  A body may also be a range of an
 * open file, which the connection sends with sendfile(2) after the head.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "keel/res.h"
#include "conn.h"

/* Bodies at least this big skip the copy into `out` when it is empty. */
#define WRITEV_MIN (16 * 1024)

void keel__res_drop_file(keel_res_t *res)
{
	if (res->file_fd >= 0)
		close(res->file_fd);
	res->file_fd = -1;
	res->file_off = res->file_len = 0;
}

void keel__res_reset(keel_res_t *res)
{
	res->status = 200;
	res->close = false;
	res->streaming = res->stream_ended = res->stream_broken = false;
	res->stream_bytes = 0;
	keel_buf_reset(&res->headers);
	keel_buf_reset(&res->body);
	keel__res_drop_file(res);
}

void keel__res_deinit(keel_res_t *res)
{
	keel_buf_deinit(&res->headers);
	keel_buf_deinit(&res->body);
	keel__res_drop_file(res);
}

void keel_res_status(keel_res_t *res, int status)
{
	res->status = status;
}

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The server writes these itself; a handler setting them would break the
 * message framing. */
static bool is_managed(keel_str_t name)
{
	/* Cheap reject first: every managed name starts with c, d, k, t, u. */
	char first = (char)(name.ptr[0] | 0x20);
	if (!memchr("cdktu", first, 5))
		return false;
	const keel_str_t managed[] = {
	        KEEL_STR("Content-Length"), KEEL_STR("Transfer-Encoding"),
	        KEEL_STR("Connection"),     KEEL_STR("Date"),
	        KEEL_STR("Keep-Alive"),     KEEL_STR("Upgrade"),
	};
	for (size_t i = 0; i < KEEL_COUNTOF(managed); i++)
		if (keel_str_eq_nocase(name, managed[i]))
			return true;
	return false;
}

static bool valid_name(keel_str_t name)
{
	if (name.len == 0)
		return false;
	for (size_t i = 0; i < name.len; i++)
		if (!is_tchar((unsigned char)name.ptr[i]))
			return false;
	return true;
}

static bool valid_value(keel_str_t v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.ptr[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

bool keel_res_committed(const keel_res_t *res)
{
	return res->streaming;
}

int keel_res_get_status(const keel_res_t *res)
{
	return res->status;
}

/* The first "Name: value\r\n" line called `name` at or after *at: its
 * start and length come back in *at and *len, its trimmed value in
 * *value. */
static bool find_header(const keel_buf_t *b, keel_str_t name, size_t *at,
                        size_t *len, keel_str_t *value)
{
	size_t pos = *at;
	while (pos < b->len) {
		const char *line = b->data + pos;
		const char *end = memchr(line, '\n', b->len - pos);
		size_t n = end ? (size_t)(end - line) + 1 : b->len - pos;
		const char *colon = memchr(line, ':', n);
		if (colon &&
		    keel_str_eq_nocase(
		            (keel_str_t){line, (size_t)(colon - line)}, name)) {
			*at = pos;
			*len = n;
			/* The value stops before the line's CRLF. */
			size_t vlen = n - (size_t)(colon + 1 - line);
			while (vlen > 0 &&
			       (colon[vlen] == '\n' || colon[vlen] == '\r'))
				vlen--;
			*value = keel_str_trim((keel_str_t){colon + 1, vlen});
			return true;
		}
		pos += n;
	}
	return false;
}

int keel_res_header_get(const keel_res_t *res, const char *name,
                        keel_str_t *value)
{
	size_t at = 0, len = 0;
	if (!find_header(&res->headers, keel_str_from_cstr(name), &at, &len,
	                 value))
		return KEEL_ENOENT;
	return KEEL_OK;
}

int keel_res_header_remove(keel_res_t *res, const char *name)
{
	keel_buf_t *b = &res->headers;
	size_t at = 0, len = 0;
	keel_str_t v;
	int n = 0;
	while (find_header(b, keel_str_from_cstr(name), &at, &len, &v)) {
		memmove(b->data + at, b->data + at + len, b->len - at - len);
		b->len -= len;
		b->data[b->len] = '\0';
		n++;
	}
	return n;
}

int keel_res_header_str(keel_res_t *res, keel_str_t name, keel_str_t value)
{
	if (!valid_name(name) || is_managed(name) || !valid_value(value))
		return KEEL_EINVAL;
	keel_buf_t *b = &res->headers;
	size_t mark = b->len;
	if (keel_buf_append_str(b, name) < 0 ||
	    keel_buf_append(b, ": ", 2) < 0 ||
	    keel_buf_append_str(b, keel_str_trim(value)) < 0 ||
	    keel_buf_append(b, "\r\n", 2) < 0) {
		b->len = mark;
		return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

int keel_res_header(keel_res_t *res, const char *name, const char *value)
{
	return keel_res_header_str(res, keel_str_from_cstr(name),
	                           keel_str_from_cstr(value));
}

int keel_res_body(keel_res_t *res, const void *data, size_t len)
{
	keel__res_drop_file(res);
	keel_buf_reset(&res->body);
	return keel_buf_append(&res->body, data, len);
}

/*
 * The descriptor is the response's from here on, whatever happens: a
 * handler can hand it over and forget it, and every exit path (sent,
 * replaced, refused, connection lost) has exactly one close.
 */
int keel_res_file(keel_res_t *res, int fd, uint64_t offset, uint64_t len)
{
	if (fd < 0)
		return KEEL_EINVAL;
	keel__res_drop_file(res);
	if (offset > (uint64_t)INT64_MAX ||
	    len > (uint64_t)INT64_MAX - offset) {
		close(fd);
		return KEEL_ERANGE;
	}
	keel_buf_reset(&res->body);
	res->file_fd = fd;
	res->file_off = offset;
	res->file_len = len;
	return KEEL_OK;
}

int keel_res_write(keel_res_t *res, const void *data, size_t len)
{
	return keel_buf_append(&res->body, data, len);
}

int keel_res_printf(keel_res_t *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = keel_buf_vappendf(&res->body, fmt, ap);
	va_end(ap);
	return rc;
}

keel_buf_t *keel_res_buf(keel_res_t *res)
{
	return &res->body;
}

int keel_res_error(keel_res_t *res, int status, const char *message)
{
	/* Headers that described the old body go; others (cookies, request
	 * id, security headers a middleware set) stay. */
	static const char *const body_headers[] = {"Content-Type",
	                                           "Content-Encoding",
	                                           "Content-Language",
	                                           "Content-Disposition",
	                                           "ETag",
	                                           "Last-Modified",
	                                           "Content-Range"};
	keel__res_drop_file(res);
	keel_buf_reset(&res->body);
	for (size_t i = 0; i < KEEL_COUNTOF(body_headers); i++)
		keel_res_header_remove(res, body_headers[i]);
	keel_res_header(res, "Content-Type", "application/json");
	keel_buf_append(&res->body, "{\"error\":\"", 10);
	/* Escape what would end the string or break the JSON; other bytes
	 * pass as they are (messages are meant to be the app's own text). */
	for (const unsigned char *p = (const unsigned char *)message; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			keel_buf_appendf(&res->body, "\\u%04x", *p);
		else if (*p == '"' || *p == '\\')
			keel_buf_appendf(&res->body, "\\%c", *p);
		else
			keel_buf_append_char(&res->body, (char)*p);
	}
	keel_buf_append(&res->body, "\"}\n", 3);
	res->status = status;
	return status;
}

static char *put(char *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(p, tmp + i, sizeof(tmp) - i);
}

/*
 * The head is built with one reservation and plain copies: at 100k
 * responses a second, a dozen checked appends per response showed up in
 * profiles.  Status is always three digits here (200..599, or 1xx for
 * interim answers).
 */
enum framing { FRAME_NONE, FRAME_LENGTH, FRAME_CHUNKED };

static void put_head(keel_conn_t *c, enum framing framing, uint64_t len,
                     bool keep_alive)
{
	keel_res_t *res = &c->res;
	keel_buf_t *out = &c->out;
	const char *reason = keel_http_status_text(res->status);
	size_t rlen = reason ? strlen(reason) : 0;
	keel_str_t date = keel__http_date_lines();
	size_t need = 16 + rlen + date.len + res->headers.len + 40 + 28;
	if (keel_buf_reserve(out, need) < 0)
		return; /* the connection fails on the short write */
	char *p = out->data + out->len;
	int st = res->status;
	p = put(p, "HTTP/1.1 ", 9);
	*p++ = (char)('0' + st / 100 % 10);
	*p++ = (char)('0' + st / 10 % 10);
	*p++ = (char)('0' + st % 10);
	*p++ = ' ';
	p = put(p, reason ? reason : "", rlen);
	p = put(p, "\r\n", 2);
	p = put(p, date.ptr, date.len);
	p = put(p, res->headers.data, res->headers.len);
	if (framing == FRAME_LENGTH) {
		p = put(p, "Content-Length: ", 16);
		p = put_u64(p, len);
		p = put(p, "\r\n", 2);
	} else if (framing == FRAME_CHUNKED) {
		p = put(p, "Transfer-Encoding: chunked\r\n", 28);
	}
	if (!keep_alive)
		p = put(p, "Connection: close\r\n", 19);
	else if (c->req.head.minor_version == 0)
		p = put(p, "Connection: keep-alive\r\n", 24);
	p = put(p, "\r\n", 2);
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
}

static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/*
 * Large bodies go out with one writev straight from the response when
 * nothing is queued before them; what the socket does not take is copied
 * into `out` and finished by the connection's normal flushing.
 */
static void queue_body(keel_conn_t *c, const keel_buf_t *body)
{
	keel_buf_t *out = &c->out;
	if (body->len < WRITEV_MIN || c->out_pos != 0 || !c->writable) {
		keel_buf_append(out, body->data, body->len);
		return;
	}
	struct iovec iov[2] = {{out->data, out->len}, {body->data, body->len}};
	ssize_t n = writev(c->io.fd, iov, 2);
	size_t sent = n > 0 ? (size_t)n : 0;
	if (sent < out->len) {
		c->out_pos = sent;
		keel_buf_append(out, body->data, body->len);
		return;
	}
	sent -= out->len;
	keel_buf_reset(out);
	c->out_pos = 0;
	keel_buf_append(out, body->data + sent, body->len - sent);
}

/*
 * The file itself is not read here: the connection takes the descriptor
 * and sends it once everything queued before it (this head included) is
 * out, so pipelined responses stay in order.
 */
static size_t queue_file(keel_conn_t *c, keel_res_t *res)
{
	size_t len = (size_t)res->file_len;
	if (res->file_len == 0) {
		keel__res_drop_file(res);
		return 0;
	}
	c->file_fd = res->file_fd;
	c->file_off = (off_t)res->file_off;
	c->file_left = res->file_len;
	res->file_fd = -1;
	return len;
}

size_t keel__res_serialize(keel_conn_t *c, bool keep_alive)
{
	keel_res_t *res = &c->res;
	bool head = c->req.head.method == KEEL_HTTP_HEAD;
	bool has_body = status_has_body(res->status);
	bool file = res->file_fd >= 0;
	put_head(c, has_body ? FRAME_LENGTH : FRAME_NONE,
	         file ? res->file_len : res->body.len, keep_alive);
	if (!has_body || head) {
		keel__res_drop_file(res);
		return 0;
	}
	if (file)
		return queue_file(c, res);
	queue_body(c, &res->body);
	return res->body.len;
}

/*
 * HTTP/1.1 streams use the chunked coding; an HTTP/1.0 client has no way
 * to find the end of an unsized body but the connection closing.  The
 * keep-alive promise made here may still be broken later by closing after
 * the response, which clients must accept anyway.
 */
void keel__res_stream_head(keel_conn_t *c)
{
	keel_worker_t *w = c->w;
	bool http11 = c->req.head.minor_version == 1;
	bool keep = http11 && c->req.head.keep_alive && !c->res.close &&
	            !w->draining;
	if (!keep)
		c->res.close = true;
	put_head(c, http11 ? FRAME_CHUNKED : FRAME_NONE, 0, keep);
}

bool keel__res_stream_done(keel_conn_t *c)
{
	keel_res_t *res = &c->res;
	bool ok = !res->stream_broken && !res->close;
	if (!res->stream_broken && !res->stream_ended &&
	    c->req.head.minor_version == 1 &&
	    c->req.head.method != KEEL_HTTP_HEAD)
		keel_buf_append(&c->out, "0\r\n\r\n", 5);
	res->stream_ended = true;
	return ok;
}

/*
 * A refused request: the framing of anything after it cannot be trusted,
 * so the answer closes the connection and the rest of the input is
 * discarded unread.
 */
void keel__res_reject(keel_conn_t *c, int status)
{
	const char *reason = keel_http_status_text(status);
	keel__res_reset(&c->res);
	keel_res_error(&c->res, status, reason ? reason : "error");
	c->req.head.method = KEEL_HTTP_UNKNOWN;
	c->req.head.minor_version = 1;
	c->in_pos = c->in_len;
	keel__res_serialize(c, false);
	c->state = KEEL_CONN_CLOSING;
}
