/*
 * The access log: one line per request, in the combined format nginx and
 * Apache write (plus the request id and the duration in microseconds), or
 * as JSON lines.  Lines are buffered per worker and written with one
 * O_APPEND write per flush, so workers sharing a file never interleave
 * within a line; a timer flushes at least once a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keel/clock.h"
#include "conn.h"

#define ACCESS_FLUSH_AT  (32 * 1024)
#define ACCESS_FLUSH_MS  1000
#define ACCESS_FIELD_MAX 2048 /* longest target/referer/agent logged */

struct keel_access_log {
	int fd;
	bool own_fd;
	keel_buf_t buf;
	keel_timer_t timer;
};

int keel__access_open(keel_worker_t *w)
{
	const char *path = w->cfg->access_log;
	if (!path || !*path)
		return KEEL_OK;
	struct keel_access_log *a = calloc(1, sizeof(*a));
	if (!a)
		return KEEL_ENOMEM;
	a->fd = STDERR_FILENO;
	if (strcmp(path, "-") != 0) {
		a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		             0644);
		a->own_fd = true;
	}
	if (a->fd < 0) {
		free(a);
		return KEEL_EIO;
	}
	keel_buf_init(&a->buf, 4 * ACCESS_FLUSH_AT);
	w->access = a;
	return KEEL_OK;
}

void keel__access_flush(keel_worker_t *w)
{
	struct keel_access_log *a = w->access;
	if (!a || a->buf.len == 0)
		return;
	size_t off = 0;
	while (off < a->buf.len) {
		ssize_t n = write(a->fd, a->buf.data + off, a->buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk must not stop the server */
		off += (size_t)n;
	}
	keel_buf_reset(&a->buf);
}

void keel__access_close(keel_worker_t *w)
{
	struct keel_access_log *a = w->access;
	if (!a)
		return;
	keel__access_flush(w);
	keel_loop_timer_stop(w->loop, &a->timer);
	if (a->own_fd)
		close(a->fd);
	keel_buf_deinit(&a->buf);
	free(a);
	w->access = NULL;
}

static void on_flush_timer(keel_loop_t *loop, keel_timer_t *t)
{
	(void)loop;
	keel__access_flush(t->data);
}

/* Bytes a log reader might misread (quotes, controls, non-ASCII) as \xHH. */
static void put_escaped(keel_buf_t *b, keel_str_t s, bool json)
{
	if (s.len > ACCESS_FIELD_MAX)
		s.len = ACCESS_FIELD_MAX;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			keel_buf_append_char(b, (char)ch);
		else if (json)
			keel_buf_appendf(b, "\\u%04x", ch);
		else
			keel_buf_appendf(b, "\\x%02X", ch);
	}
}

static keel_str_t header_or_dash(const keel_conn_t *c, const char *name)
{
	keel_str_t v;
	if (keel_http_header_get(&c->req.head, keel_str_from_cstr(name), &v) <
	    0)
		return KEEL_STR("-");
	return v;
}

static void put_combined(keel_buf_t *b, keel_conn_t *c, const char *addr,
                         size_t bytes, int64_t us)
{
	char ts[64];
	time_t now = (time_t)(keel_clock_cached_wall_ns() / KEEL_NS_PER_S);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	keel_buf_appendf(b, "%s - - [%s] \"", addr, ts);
	put_escaped(b, c->req.head.method_name, false);
	keel_buf_append_char(b, ' ');
	put_escaped(b, c->req.head.target, false);
	keel_buf_appendf(b, " HTTP/1.%d\" %d %zu \"", c->req.head.minor_version,
	                 c->res.status, bytes);
	put_escaped(b, header_or_dash(c, "Referer"), false);
	keel_buf_append(b, "\" \"", 3);
	put_escaped(b, header_or_dash(c, "User-Agent"), false);
	keel_buf_appendf(b, "\" id=%s us=%lld\n", c->req.id, (long long)us);
}

static void put_json(keel_buf_t *b, keel_conn_t *c, const char *addr,
                     size_t bytes, int64_t us)
{
	keel_buf_appendf(
	        b, "{\"ts\":%lld,\"client\":\"%s\",\"method\":\"",
	        (long long)(keel_clock_cached_wall_ns() / KEEL_NS_PER_MS),
	        addr);
	put_escaped(b, c->req.head.method_name, true);
	keel_buf_append(b, "\",\"target\":\"", 12);
	put_escaped(b, c->req.head.target, true);
	keel_buf_appendf(b, "\",\"status\":%d,\"bytes\":%zu,\"referer\":\"",
	                 c->res.status, bytes);
	put_escaped(b, header_or_dash(c, "Referer"), true);
	keel_buf_append(b, "\",\"agent\":\"", 11);
	put_escaped(b, header_or_dash(c, "User-Agent"), true);
	keel_buf_appendf(b, "\",\"id\":\"%s\",\"us\":%lld}\n", c->req.id,
	                 (long long)us);
}

void keel__access_record(keel_worker_t *w, keel_conn_t *c, size_t bytes)
{
	struct keel_access_log *a = w->access;
	if (!a)
		return;
	char addr[KEEL_IP_STRLEN];
	if (keel_ip_format(&c->req.client, addr) < 0)
		snprintf(addr, sizeof(addr), "-");
	int64_t us = (keel_clock_now_ns() - c->req.start_ns) / 1000;
	if (w->cfg->access_format == KEEL_ACCESS_JSON)
		put_json(&a->buf, c, addr, bytes, us);
	else
		put_combined(&a->buf, c, addr, bytes, us);
	if (a->buf.len >= ACCESS_FLUSH_AT)
		keel__access_flush(w);
	else if (!keel_loop_timer_active(&a->timer))
		keel_loop_timer_start(w->loop, &a->timer, ACCESS_FLUSH_MS,
		                      on_flush_timer, w);
}
