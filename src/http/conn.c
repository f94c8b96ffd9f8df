/*
 * One HTTP/1.1 connection as a state machine driven by the event loop:
 * IDLE -> HEAD -> BODY -> handler (on a coroutine) -> IDLE again for the
 * next request, or CLOSING -> LINGER -> closed.
 *
 * Descriptors are edge-triggered, so the connection remembers whether the
 * socket may still be readable or writable and keeps working until a call
 * says EAGAIN.  Pipelined requests are parsed from the bytes already read,
 * their responses queued in order in `out`, which is written when there is
 * nothing more to parse (one write for a whole batch).  Reading stops while
 * `out` holds more than cfg->max_output, so a client that pipelines and
 * never reads cannot make the server buffer without bound.
 *
 * A response whose body is a file is a barrier: its head goes out with the
 * rest of `out`, then the file with sendfile(2), and only then is the next
 * pipelined request parsed, so responses can never overtake each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keel/clock.h"
#include "keel/log.h"
#include "keel/res.h"
#include "conn.h"

#define LINGER_MS      2000
#define LINGER_MAX     (64 * 1024)
#define IDLE_SHRINK_MS 1000 /* keep-alive buffers kept this long */
#define ARENA_CHUNK    4096
#define ARENA_CAP      ((size_t)8 << 20) /* per-request memory bound */

static void conn_drive(keel_conn_t *c);
static void request_after(keel_conn_t *c, size_t bytes, bool keep);

static size_t out_pending(const keel_conn_t *c)
{
	return c->out.len - c->out_pos;
}

/* ------------------------------------------------------------ lifecycle */

/*
 * Connections come from slabs of CONN_SLAB structs kept per worker, not
 * from malloc one by one: live connection structs then sit together, so
 * the buffers idle connections give back form whole free pages the
 * kernel can take back (malloc_trim), instead of holes between structs.
 * Slabs are kept for the worker's life; their number follows the peak
 * connection count.
 */
#define CONN_SLAB 64

typedef union conn_slot {
	union conn_slot *next_free;
	keel_conn_t conn;
} conn_slot_t;

static keel_conn_t *conn_alloc(keel_worker_t *w)
{
	if (!w->conn_free) {
		conn_slot_t *slab = calloc(CONN_SLAB, sizeof(*slab));
		if (!slab)
			return NULL;
		for (int i = 0; i < CONN_SLAB; i++)
			slab[i].next_free =
			        i + 1 < CONN_SLAB ? &slab[i + 1] : NULL;
		w->conn_free = slab;
		keel__worker_keep(w, slab);
	}
	conn_slot_t *slot = w->conn_free;
	w->conn_free = slot->next_free;
	memset(&slot->conn, 0, sizeof(slot->conn));
	return &slot->conn;
}

static void conn_release(keel_conn_t *c)
{
	keel_worker_t *w = c->w;
	conn_slot_t *slot = (conn_slot_t *)(void *)c;
	slot->next_free = w->conn_free;
	w->conn_free = slot;
}

static void conn_free_task(keel_loop_t *loop, keel_task_t *task)
{
	(void)loop;
	keel_conn_t *c = task->data;
	free(c->in);
	free(c->pend);
	keel_buf_deinit(&c->out);
	keel_buf_deinit(&c->req.body);
	keel_arena_deinit(&c->req.arena);
	keel__res_deinit(&c->res);
	conn_release(c);
}

static void conn_close(keel_conn_t *c)
{
	keel_worker_t *w = c->w;
	if (c->state == KEEL_CONN_CLOSED)
		return;
	c->state = KEEL_CONN_CLOSED;
	keel_loop_timer_stop(w->loop, &c->timer);
	int fd = c->io.fd;
	keel_loop_io_stop(w->loop, &c->io);
	close(fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	if (c->co) {
		/* Only at the drain deadline: the handler never resumes. */
		keel_coro_free(c->co);
		c->co = NULL;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	if (!w->accepting && !w->draining && w->listen_fd >= 0 &&
	    w->nconns < w->cfg->max_connections) {
		w->accepting = true;
		keel_loop_io_modify(w->loop, &w->listen_io, KEEL_IO_READ);
	}
	/* Events for this connection may be queued behind us in the batch. */
	keel_loop_defer(w->loop, &c->task, conn_free_task, c);
}

/* Idle connections keep no buffers: memory per keep-alive client stays
 * at the size of this struct. */
static void conn_shrink(keel_conn_t *c)
{
	if (c->in_pos == c->in_len && out_pending(c) == 0) {
		free(c->in);
		c->in = NULL;
		c->in_cap = c->in_len = c->in_pos = 0;
		keel_buf_deinit(&c->out);
		keel_buf_deinit(&c->req.body);
		keel__res_deinit(&c->res);
		keel_arena_deinit(&c->req.arena);
		keel__worker_trim_soon(c->w);
	}
}

static void on_timeout(keel_loop_t *loop, keel_timer_t *t)
{
	(void)loop;
	keel_conn_t *c = t->data;
	if (c->state == KEEL_CONN_HANDLER) {
		/* Only a stalled stream arms the timer while a handler runs:
		 * wake it with the error so it can unwind, then close. */
		c->res.close = true;
		if (c->stream_wait)
			keel__conn_resume(c, KEEL_ETIMEDOUT);
		return;
	}
	if (c->write_stalled) {
		/* The client stopped reading: nothing more can reach it. */
		conn_close(c);
		return;
	}
	if (c->state == KEEL_CONN_IDLE && c->shrink_pending) {
		conn_shrink(c);
		keel__conn_arm(c, c->w->cfg->idle_timeout_ms - IDLE_SHRINK_MS);
		return;
	}
	if (c->state == KEEL_CONN_HEAD || c->state == KEEL_CONN_BODY) {
		/* The client was too slow sending its request (slowloris). */
		keel__res_reject(c, 408);
		conn_drive(c);
		return;
	}
	conn_close(c);
}

void keel__conn_arm(keel_conn_t *c, int64_t ms)
{
	c->write_stalled = false;
	c->shrink_pending = false;
	keel_loop_timer_start(c->w->loop, &c->timer, ms, on_timeout, c);
}

/*
 * Keep-alive wait in two steps: buffers are kept for the first moments
 * (a busy client's next request reuses them, no malloc), then released
 * (an idle client costs only this struct), then the idle timeout closes.
 */
void keel__conn_arm_idle(keel_conn_t *c)
{
	int64_t idle = c->w->cfg->idle_timeout_ms;
	keel__conn_arm(c, idle < IDLE_SHRINK_MS ? idle : IDLE_SHRINK_MS);
	c->shrink_pending = idle > IDLE_SHRINK_MS;
}

static void on_io(keel_loop_t *loop, keel_io_t *io, uint32_t events)
{
	(void)loop;
	keel_conn_t *c = io->data;
	if (events & KEEL_IO_READ)
		c->readable = true;
	if (events & KEEL_IO_WRITE)
		c->writable = true;
	if (events & (KEEL_IO_HUP | KEEL_IO_ERROR))
		c->peer_hup = true;
	if (c->state == KEEL_CONN_HANDLER) {
		if (c->stream_wait && c->writable)
			keel__conn_resume(c, KEEL_OK);
		return;
	}
	conn_drive(c);
}

void keel__conn_open(keel_worker_t *w, int fd, const struct sockaddr *peer)
{
	keel_conn_t *c = conn_alloc(w);
	if (!c) {
		close(fd);
		return;
	}
	c->w = w;
	c->io.fd = -1;
	c->file_fd = -1;
	c->res.file_fd = -1;
	if (keel_ip_from_sockaddr(peer, &c->peer) < 0)
		memset(&c->peer, 0, sizeof(c->peer));
	keel_buf_init(&c->out, SIZE_MAX / 2);
	keel_buf_init(&c->req.body, (size_t)w->cfg->limits.max_body +
	                                    KEEL_CONN_READ_MAX + 64);
	keel_buf_init(&c->res.headers, 64 * 1024);
	keel_buf_init(&c->res.body, SIZE_MAX / 2);
	keel_arena_init(&c->req.arena, ARENA_CHUNK, ARENA_CAP);
	c->req.conn = c;
	c->res.conn = c;
	if (keel_loop_io_start(w->loop, &c->io, fd,
	                       KEEL_IO_READ | KEEL_IO_WRITE, on_io, c) < 0) {
		close(fd);
		conn_free_task(w->loop, &(keel_task_t){.data = c});
		return;
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	c->state = KEEL_CONN_IDLE;
	/* A fresh connection usually has its request waiting already. */
	c->readable = true;
	c->writable = true;
	keel__conn_arm(c, w->cfg->header_timeout_ms);
	conn_drive(c);
}

/* ------------------------------------------------------------ socket I/O */

/* -------------------------------------------------------------- requests */

static intptr_t handler_main(void *arg)
{
	keel_conn_t *c = arg;
	keel_worker_t *w = c->w;
	return w->handler(&c->req, &c->res, w->ud);
}

/* A streamed response's head is already out: only its end is left. */
static bool request_finish_stream(keel_conn_t *c, size_t *bytes)
{
	*bytes = (size_t)c->res.stream_bytes;
	return keel__res_stream_done(c);
}

static void request_done(keel_conn_t *c, intptr_t status)
{
	keel_worker_t *w = c->w;
	if (c->res.streaming) {
		size_t sent;
		bool ok = request_finish_stream(c, &sent);
		request_after(c, sent, ok);
		return;
	}
	/* 1xx is interim only: a handler's final answer cannot be one. */
	c->res.status = status >= 200 && status <= 599 ? (int)status : 500;
	if (status < 200 || status > 599) {
		keel_buf_reset(&c->res.body);
		keel__res_drop_file(&c->res);
	}
	bool keep = c->req.head.keep_alive && !c->res.close && !w->draining &&
	            c->requests + 1 < (unsigned)w->cfg->max_requests_per_conn;
	request_after(c, keel__res_serialize(c, keep), keep);
}

/* The response is queued: log it, release the request, pick what next. */
static void request_after(keel_conn_t *c, size_t bytes, bool keep)
{
	keel_worker_t *w = c->w;
	c->requests++;
	keel__access_record(w, c, bytes);
	keel_arena_reset(&c->req.arena);
	keel_buf_reset(&c->req.body);
	c->req_active = false;
	memset(&c->scan, 0, sizeof(c->scan));
	if (keel__body_release(c) < 0)
		keep = false;
	if (!keep) {
		c->state = KEEL_CONN_CLOSING;
		return;
	}
	c->state = c->in_pos < c->in_len ? KEEL_CONN_HEAD : KEEL_CONN_IDLE;
	if (c->state == KEEL_CONN_HEAD)
		keel__conn_arm(c, w->cfg->header_timeout_ms);
	else
		keel__conn_arm_idle(c);
}

static void handler_resume(keel_conn_t *c, intptr_t value)
{
	keel_worker_t *w = c->w;
	w->current = c;
	int rc = keel_coro_resume(c->co, value);
	w->current = NULL;
	if (rc == KEEL_CORO_YIELDED) {
		c->state = KEEL_CONN_HANDLER;
		return;
	}
	intptr_t status =
	        rc == KEEL_CORO_FINISHED ? keel_coro_value(c->co) : 500;
	keel_coro_free(c->co);
	c->co = NULL;
	request_done(c, status);
}

void keel__conn_resume(keel_conn_t *c, intptr_t value)
{
	if (c->state != KEEL_CONN_HANDLER || !c->co)
		return;
	handler_resume(c, value);
	if (c->state != KEEL_CONN_HANDLER)
		conn_drive(c);
}

static int handler_start(keel_conn_t *c)
{
	keel_loop_timer_stop(c->w->loop, &c->timer);
	c->write_stalled = false;
	keel__res_reset(&c->res);
	c->co = keel_coro_new(c->w->coros, handler_main, c);
	if (!c->co) {
		keel_res_error(&c->res, 503, "server busy");
		request_done(c, 503);
		return KEEL_OK;
	}
	handler_resume(c, 0);
	return KEEL_OK;
}

/*
 * "<pid hex>-<counter hex>": unique per server run across workers.  The
 * prefix is formatted once per worker; snprintf and getpid per request
 * were a measurable share of a pipelined benchmark.
 */
static void request_id(keel_worker_t *w, char out[40])
{
	if (!w->id_prefix_len)
		w->id_prefix_len =
		        (size_t)snprintf(w->id_prefix, sizeof(w->id_prefix),
		                         "%x-", (unsigned)getpid());
	memcpy(out, w->id_prefix, w->id_prefix_len);
	char tmp[16];
	size_t i = sizeof(tmp);
	uint64_t v = ++w->req_counter;
	do {
		tmp[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i > 0);
	memcpy(out + w->id_prefix_len, tmp + i, sizeof(tmp) - i);
	out[w->id_prefix_len + sizeof(tmp) - i] = '\0';
}

/* Set up req from a parsed head of `len` bytes at in + in_pos. */
static int request_begin(keel_conn_t *c, size_t len)
{
	keel_worker_t *w = c->w;
	keel_req_t *r = &c->req;
	size_t n = r->head.header_count;
	keel_http_header_t *h = keel_arena_calloc(&r->arena, n + 1, sizeof(*h));
	if (!h)
		return 500;
	memcpy(h, w->scratch_headers, n * sizeof(*h));
	r->head.headers = h;
	int status = keel__req_decode_path(r);
	if (status)
		return status;
	c->in_pos += len;
	keel__req_reset_layers(r);
	r->start_ns = keel_clock_cached_ns();
	request_id(w, r->id);
	r->client = keel__client_addr(w, c);
	c->req_active = true;
	c->body_raw = 0;
	if (r->head.chunked)
		keel_http_chunked_init(&c->chunked, &w->cfg->limits);
	return 0;
}

static void request_reject(keel_conn_t *c, int status)
{
	c->req_active = false;
	keel__res_reject(c, status);
}

/* Parse what has arrived; 0 when the state changed, KEEL_AGAIN if not. */
static int head_try_parse(keel_conn_t *c)
{
	keel_worker_t *w = c->w;
	const keel_http_limits_t *lim = &w->cfg->limits;
	const char *p = c->in + c->in_pos;
	size_t len = c->in_len - c->in_pos;
	if (len == 0 || keel_http_scan(&c->scan, p, len, lim) == KEEL_AGAIN)
		return KEEL_AGAIN;
	int status = 0;
	int n = keel_http_parse_request(p, len, lim, &c->req.head,
	                                w->scratch_headers, lim->max_fields,
	                                &status);
	if (n == KEEL_AGAIN)
		return KEEL_AGAIN;
	if (n < 0) {
		request_reject(c, status ? status : 400);
		return KEEL_OK;
	}
	status = request_begin(c, (size_t)n);
	if (status) {
		request_reject(c, status);
		return KEEL_OK;
	}
	c->state = KEEL_CONN_BODY;
	/* The header deadline is over; the body is timed on its own. */
	keel__conn_arm(c, w->cfg->body_timeout_ms);
	return KEEL_OK;
}

static int step_head(keel_conn_t *c)
{
	keel_worker_t *w = c->w;
	if (c->file_fd >= 0 || out_pending(c) >= w->cfg->max_output) {
		int rc = keel__conn_flush(c);
		if (rc != KEEL_OK)
			return rc;
	}
	if (head_try_parse(c) == KEEL_OK)
		return KEEL_OK;
	if (!c->readable) {
		int rc = keel__conn_flush(c);
		return rc == KEEL_OK ? KEEL_AGAIN : rc;
	}
	int rc = keel__conn_make_room(c);
	if (rc < 0) {
		request_reject(c, 431);
		return KEEL_OK;
	}
	ssize_t n =
	        keel__conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
	if (n == KEEL_AGAIN) {
		rc = keel__conn_flush(c);
		return rc == KEEL_OK ? KEEL_AGAIN : rc;
	}
	if (n <= 0)
		return KEEL_ECLOSED; /* EOF between or inside requests */
	if (c->state == KEEL_CONN_IDLE) {
		c->state = KEEL_CONN_HEAD;
		keel__conn_arm(c, w->cfg->header_timeout_ms);
	}
	c->in_len += (size_t)n;
	return KEEL_OK;
}

static int step_body(keel_conn_t *c)
{
	int rc = keel__body_read(c);
	if (rc == KEEL_AGAIN || rc == KEEL_ECLOSED)
		return rc;
	if (rc > 0) {
		request_reject(c, rc);
		return KEEL_OK;
	}
	return handler_start(c);
}

/* Final response queued: write it, then shut our side and linger. */
static int step_closing(keel_conn_t *c)
{
	int rc = keel__conn_flush(c);
	if (rc != KEEL_OK)
		return rc;
	shutdown(c->io.fd, SHUT_WR);
	c->state = KEEL_CONN_LINGER;
	keel__conn_arm(c, LINGER_MS);
	return KEEL_OK;
}

/*
 * Closing with unread input makes the kernel send RST, which can destroy
 * the response before the client reads it; so read and drop the client's
 * leftovers until it closes, for a bounded time and amount.
 */
static int step_linger(keel_conn_t *c)
{
	char sink[4096];
	for (;;) {
		if (!c->readable)
			return KEEL_AGAIN;
		ssize_t n = keel__conn_recv(c, sink, sizeof(sink));
		if (n == KEEL_AGAIN)
			return KEEL_AGAIN;
		if (n <= 0)
			return KEEL_ECLOSED;
		c->linger_bytes += (size_t)n;
		if (c->linger_bytes > LINGER_MAX)
			return KEEL_ECLOSED;
	}
}

static void conn_drive(keel_conn_t *c)
{
	for (;;) {
		int rc;
		switch (c->state) {
		case KEEL_CONN_IDLE:
		case KEEL_CONN_HEAD: rc = step_head(c); break;
		case KEEL_CONN_BODY: rc = step_body(c); break;
		case KEEL_CONN_CLOSING: rc = step_closing(c); break;
		case KEEL_CONN_LINGER: rc = step_linger(c); break;
		case KEEL_CONN_HANDLER:
		case KEEL_CONN_CLOSED:
		default: return;
		}
		if (rc == KEEL_AGAIN)
			return;
		if (rc < 0) {
			conn_close(c);
			return;
		}
	}
}

/*
 * Draining: a keep-alive connection that is idle right now may have its
 * next request already in flight, so closing it at once would make that
 * client see a reset.  Instead each idle connection gets a short grace;
 * a request arriving meanwhile is answered with Connection: close.
 */
void keel__conn_drain(keel_worker_t *w, int64_t grace_ms)
{
	for (keel_conn_t *c = w->conns; c; c = c->next)
		if (c->state == KEEL_CONN_IDLE && !c->req_active &&
		    out_pending(c) == 0 && c->file_fd < 0)
			keel__conn_arm(c, grace_ms);
}

void keel__conn_close_all(keel_worker_t *w)
{
	while (w->conns)
		conn_close(w->conns);
}
