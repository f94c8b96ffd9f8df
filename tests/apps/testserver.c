/*
 * The server the integration tests start: every endpoint exercises one
 * part of the engine (bodies, coroutine waits, the thread pool, crashes).
 */
#include <keel/keel.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t query_int(keel_req_t *req, const char *key, int64_t def)
{
	keel_http_query_iter_t it;
	keel_str_t k, v;
	char buf[256];
	keel_http_query_init(&it, keel_req_query(req));
	for (;;) {
		int rc = keel_http_query_next(&it, buf, sizeof(buf), &k, &v);
		if (rc == KEEL_ENOENT)
			return def;
		int64_t n;
		if (rc == 0 && keel_str_eq(k, keel_str_from_cstr(key)) &&
		    keel_str_to_i64(v, &n) == 0)
			return n;
	}
}

/* Method, path, query and body back, so tests see what the server saw. */
static int echo(keel_req_t *req, keel_res_t *res)
{
	const keel_http_request_t *h = keel_req_head(req);
	keel_str_t path = keel_req_path(req), query = keel_req_query(req);
	keel_str_t body = keel_req_body(req);
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_header(res, "X-Method", keel_http_method_name(h->method));
	keel_res_printf(res, "%.*s %.*s?%.*s\n", KEEL_STR_FMT(h->method_name),
	                KEEL_STR_FMT(path), KEEL_STR_FMT(query));
	keel_res_write(res, body.ptr, body.len);
	return 200;
}

static void busy_sleep(void *arg)
{
	int64_t ms = *(int64_t *)arg;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int offload(keel_req_t *req, keel_res_t *res)
{
	int64_t ms = query_int(req, "ms", 100);
	int rc = keel_offload(busy_sleep, &ms);
	if (rc == KEEL_ELIMIT)
		return keel_res_error(res, 503, "pool queue full");
	keel_res_printf(res, "offloaded %lld ms rc=%d\n", (long long)ms, rc);
	return 200;
}

static int big(keel_req_t *req, keel_res_t *res)
{
	int64_t n = query_int(req, "n", 1 << 20);
	if (n < 0 || n > (64 << 20))
		return keel_res_error(res, 400, "n out of range");
	keel_buf_t *b = keel_res_buf(res);
	if (keel_buf_reserve(b, (size_t)n) < 0)
		return keel_res_error(res, 500, "no memory");
	for (int64_t i = 0; i < n; i++)
		b->data[b->len++] = (char)('a' + i % 26);
	b->data[b->len] = '\0';
	return 200;
}

/* n pieces of `size` bytes each, streamed as they are produced. */
static int stream(keel_req_t *req, keel_res_t *res)
{
	int64_t n = query_int(req, "n", 4), size = query_int(req, "size", 10);
	if (n < 0 || size < 1 || size > (1 << 20))
		return keel_res_error(res, 400, "bad n or size");
	char *piece = keel_arena_alloc(keel_req_arena(req), (size_t)size);
	if (!piece)
		return keel_res_error(res, 500, "no memory");
	keel_res_header(res, "Content-Type", "text/plain");
	if (keel_res_stream_begin(res) < 0)
		return 500;
	for (int64_t i = 0; i < n; i++) {
		memset(piece, 'a' + (int)(i % 26), (size_t)size);
		if (keel_res_stream_write(res, piece, (size_t)size) < 0)
			return 200; /* client gone: nothing more to do */
	}
	keel_res_stream_end(res);
	return 200;
}

static int route(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_str_t p = keel_req_path(req);
	if (keel_str_eq(p, KEEL_STR("/plaintext"))) {
		keel_res_header(res, "Content-Type", "text/plain");
		keel_res_body(res, "Hello, World!", 13);
		return 200;
	}
	if (keel_str_has_prefix(p, KEEL_STR("/echo")))
		return echo(req, res);
	if (keel_str_eq(p, KEEL_STR("/sleep"))) {
		keel_sleep_ms(query_int(req, "ms", 100));
		keel_res_body(res, "slept\n", 6);
		return 200;
	}
	if (keel_str_eq(p, KEEL_STR("/offload")))
		return offload(req, res);
	if (keel_str_eq(p, KEEL_STR("/big")))
		return big(req, res);
	if (keel_str_eq(p, KEEL_STR("/stream")))
		return stream(req, res);
	if (keel_str_eq(p, KEEL_STR("/status")))
		return (int)query_int(req, "code", 200);
	if (keel_str_eq(p, KEEL_STR("/close"))) {
		keel_res_header(res, "X-Note", "closing");
		return 200;
	}
	if (keel_str_eq(p, KEEL_STR("/crash")))
		abort(); /* the master must replace this worker */
	if (keel_str_eq(p, KEEL_STR("/pid"))) {
		keel_res_printf(res, "%d\n", (int)getpid());
		return 200;
	}
	return keel_res_error(res, 404, "not found");
}

int main(int argc, char **argv)
{
	return keel_serve(argc, argv, route, NULL);
}
