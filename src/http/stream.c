/*
 * Streamed response bodies: the head goes out first (chunked for
 * HTTP/1.1, close-delimited for HTTP/1.0), then each write becomes one
 * chunk sent at once.  When the socket is full the handler's coroutine
 * waits for the connection to become writable again, so a slow client
 * holds back its own producer and nothing else; the write timeout still
 * applies.  Outside a server connection (the test client) a stream just
 * accumulates into the ordinary body.
 */
#include <stdio.h>
#include <string.h>

#include "keel/coro.h"
#include "keel/res.h"
#include "conn.h"

/* Flush `out`, waiting on the coroutine while the client catches up. */
static int stream_flush(keel_conn_t *c)
{
	for (;;) {
		int rc = keel__conn_flush(c);
		if (rc != KEEL_AGAIN)
			return rc;
		c->stream_wait = true;
		intptr_t why = keel_coro_yield(0);
		c->stream_wait = false;
		if (why != KEEL_OK)
			return (int)why;
	}
}

int keel_res_stream_begin(keel_res_t *res)
{
	keel_conn_t *c = res->conn;
	if (res->streaming)
		return KEEL_ESTATE;
	res->streaming = true;
	if (!c)
		return KEEL_OK;
	if (res->status < 200 || res->status == 204 || res->status == 304)
		return KEEL_EINVAL;
	keel__res_drop_file(res);
	keel__res_stream_head(c);
	return stream_flush(c);
}

int keel_res_stream_write(keel_res_t *res, const void *data, size_t len)
{
	keel_conn_t *c = res->conn;
	if (!res->streaming)
		return KEEL_ESTATE;
	if (!c)
		return keel_buf_append(&res->body, data, len);
	if (len == 0 || res->stream_broken ||
	    c->req.head.method == KEEL_HTTP_HEAD)
		return res->stream_broken ? KEEL_ECLOSED : KEEL_OK;
	char size[24];
	int n = c->req.head.minor_version == 1
	                ? snprintf(size, sizeof(size), "%zx\r\n", len)
	                : 0;
	if (keel_buf_append(&c->out, size, (size_t)n) < 0 ||
	    keel_buf_append(&c->out, data, len) < 0 ||
	    (n && keel_buf_append(&c->out, "\r\n", 2) < 0))
		return KEEL_ENOMEM;
	res->stream_bytes += len;
	int rc = stream_flush(c);
	if (rc < 0)
		res->stream_broken = true;
	return rc < 0 ? KEEL_ECLOSED : KEEL_OK;
}

int keel_res_stream_end(keel_res_t *res)
{
	keel_conn_t *c = res->conn;
	if (!res->streaming)
		return KEEL_ESTATE;
	if (!c || res->stream_ended)
		return KEEL_OK;
	res->stream_ended = true;
	if (res->stream_broken)
		return KEEL_ECLOSED;
	if (c->req.head.minor_version == 1 &&
	    c->req.head.method != KEEL_HTTP_HEAD &&
	    keel_buf_append(&c->out, "0\r\n\r\n", 5) < 0)
		return KEEL_ENOMEM;
	return stream_flush(c) < 0 ? KEEL_ECLOSED : KEEL_OK;
}
