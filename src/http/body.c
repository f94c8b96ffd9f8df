/*
 * Reading a request body into req->body: Content-Length bodies are copied
 * from what the head's read already brought and then received straight
 * into the body buffer; chunked bodies are received after the decoded
 * bytes and decoded in place.  `Expect: 100-continue` is answered only
 * when the body is actually read.
 *
 * The connection's read buffer is never moved while a request is active
 * (the request's head points into it), so bytes read past the end of a
 * chunked body, which belong to the next pipelined request, wait in
 * c->pend until the request is done (keel__body_release).
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"

/* Bytes after the head already in `in` go to the body buffer first. */
static int body_take_buffered(keel_conn_t *c, uint64_t want)
{
	size_t avail = c->in_len - c->in_pos;
	size_t n = want < avail ? (size_t)want : avail;
	if (n == 0)
		return KEEL_OK;
	if (keel_buf_append(&c->req.body, c->in + c->in_pos, n) < 0)
		return KEEL_ENOMEM;
	c->in_pos += n;
	return KEEL_OK;
}

/* Read up to `want` bytes from the socket onto the end of the body. */
static ssize_t body_recv(keel_conn_t *c, size_t want)
{
	keel_buf_t *b = &c->req.body;
	if (want > KEEL_CONN_READ_MAX)
		want = KEEL_CONN_READ_MAX;
	if (keel_buf_reserve(b, want) < 0)
		return KEEL_ENOMEM;
	ssize_t n = keel__conn_recv(c, b->data + b->len, want);
	if (n > 0) {
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		keel__conn_arm(c, c->w->cfg->body_timeout_ms);
	}
	return n;
}

static void send_continue(keel_conn_t *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (c->req.head.expect_continue && c->req.head.minor_version == 1) {
		keel_buf_append(&c->out, msg, sizeof(msg) - 1);
		c->req.head.expect_continue = false;
		keel__conn_flush(c);
	}
}

static int body_length(keel_conn_t *c)
{
	uint64_t total = c->req.head.content_length;
	keel_buf_t *b = &c->req.body;
	if (b->len == 0 && body_take_buffered(c, total) < 0)
		return 500;
	while (b->len < total) {
		send_continue(c);
		ssize_t n = body_recv(c, (size_t)(total - b->len));
		if (n == KEEL_AGAIN)
			return KEEL_AGAIN;
		if (n == KEEL_ENOMEM)
			return 500;
		if (n <= 0)
			return KEEL_ECLOSED;
	}
	return KEEL_OK;
}

/* Keep the next request's bytes aside until this request is done. */
static int keep_pending(keel_conn_t *c, const char *p, size_t n)
{
	char *q = malloc(n);
	if (!q)
		return 500;
	memcpy(q, p, n);
	c->pend = q;
	c->pend_len = n;
	return KEEL_OK;
}

/*
 * Chunked: raw bytes sit after the decoded ones in the body buffer and
 * are decoded in place; the decoder takes all input until the body ends.
 */
static int chunked_feed(keel_conn_t *c)
{
	keel_buf_t *b = &c->req.body;
	size_t used = 0, decoded = 0;
	int status = 0;
	char *raw = b->data + b->len;
	int rc = keel_http_chunked_decode(&c->chunked, raw, c->body_raw, &used,
	                                  &decoded, &status);
	size_t left = c->body_raw - used;
	if (rc == KEEL_OK && left > 0 &&
	    keep_pending(c, raw + used, left) != KEEL_OK)
		return 500;
	b->len += decoded;
	b->data[b->len] = '\0';
	c->body_raw = 0;
	if (rc == KEEL_AGAIN)
		return KEEL_AGAIN;
	return rc < 0 ? (status ? status : 400) : KEEL_OK;
}

static int body_chunked(keel_conn_t *c)
{
	keel_buf_t *b = &c->req.body;
	if (c->in_pos < c->in_len) {
		size_t avail = c->in_len - c->in_pos;
		if (keel_buf_reserve(b, avail + 1) < 0)
			return 413;
		memcpy(b->data + b->len, c->in + c->in_pos, avail);
		c->body_raw = avail;
		c->in_pos = c->in_len;
	}
	for (;;) {
		int rc = c->body_raw ? chunked_feed(c) : KEEL_AGAIN;
		if (rc != KEEL_AGAIN)
			return rc;
		send_continue(c);
		if (keel_buf_reserve(b, KEEL_CONN_READ_MAX + 1) < 0)
			return 413;
		ssize_t n = keel__conn_recv(c, b->data + b->len,
		                            KEEL_CONN_READ_MAX);
		if (n == KEEL_AGAIN)
			return KEEL_AGAIN;
		if (n <= 0)
			return KEEL_ECLOSED;
		c->body_raw = (size_t)n;
		keel__conn_arm(c, c->w->cfg->body_timeout_ms);
	}
}

int keel__body_read(keel_conn_t *c)
{
	if (c->req.head.chunked)
		return body_chunked(c);
	return body_length(c);
}

/*
 * The request is done and `in` may move again: bytes that arrived after
 * a chunked body join the unparsed input.  Everything in `in` before them
 * was consumed by the request, so they go to its start.
 */
int keel__body_release(keel_conn_t *c)
{
	if (!c->pend)
		return KEEL_OK;
	c->in_pos = c->in_len = 0;
	int rc = KEEL_OK;
	if (c->in_cap < c->pend_len) {
		char *p = realloc(c->in, c->pend_len);
		if (p) {
			c->in = p;
			c->in_cap = c->pend_len;
		} else {
			rc = KEEL_ENOMEM;
		}
	}
	if (rc == KEEL_OK) {
		memcpy(c->in, c->pend, c->pend_len);
		c->in_len = c->pend_len;
	}
	free(c->pend);
	c->pend = NULL;
	c->pend_len = 0;
	return rc;
}
