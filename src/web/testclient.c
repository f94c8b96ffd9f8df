/*
 * The in-process test client.  It does what a connection does for one
 * request, minus the socket: writes the request as HTTP/1.1 bytes, parses
 * them with the server's parser, decodes the path and body, runs the
 * handler on a coroutine from its own pool, normalises the status the way
 * the connection does, and copies out what the client would receive.  No
 * event loop exists here, so keel_sleep_ms and friends take their
 * blocking fallback; a handler that yields by hand cannot be resumed and
 * gets a 500.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/conn.h"
#include "keel/clock.h"
#include "keel/log.h"
#include "keel/res.h"
#include "keel/testclient.h"

#define ARENA_CHUNK 4096
#define ARENA_CAP   ((size_t)8 << 20) /* as a connection's request arena */

struct keel_test {
	keel_handler_fn *fn;
	void *ud;
	keel_coro_pool_t *pool;
	keel_http_limits_t limits;
	keel_http_header_t *hdrs; /* limits.max_fields parse slots */
	keel_buf_t raw;           /* the request head as bytes */
	uint64_t counter;
	keel_req_t req;
	keel_res_t res;
};

keel_test_t *keel_test_new_handler(keel_handler_fn *fn, void *ud)
{
	keel_test_t *t = fn ? calloc(1, sizeof(*t)) : NULL;
	if (!t)
		return NULL;
	t->limits = (keel_http_limits_t)KEEL_HTTP_LIMITS_DEFAULT;
	t->hdrs = calloc(t->limits.max_fields, sizeof(*t->hdrs));
	t->pool = keel_coro_pool_new(0, 1);
	if (!t->hdrs || !t->pool) {
		free(t->hdrs);
		keel_coro_pool_free(t->pool);
		free(t);
		return NULL;
	}
	t->fn = fn;
	t->ud = ud;
	keel_buf_init(&t->raw, 0);
	keel_buf_init(&t->req.body, (size_t)t->limits.max_body);
	keel_arena_init(&t->req.arena, ARENA_CHUNK, ARENA_CAP);
	keel_buf_init(&t->res.headers, 64 * 1024);
	keel_buf_init(&t->res.body, SIZE_MAX / 2);
	t->res.file_fd = -1;
	keel__res_reset(&t->res);
	return t;
}

keel_test_t *keel_test_new(keel_app_t *app)
{
	if (!app)
		return NULL;
	int rc = keel_app_freeze(app);
	if (rc == KEEL_ENOMEM)
		return NULL;
	return keel_test_new_handler(keel_app_dispatch, app);
}

void keel_test_free(keel_test_t *t)
{
	if (!t)
		return;
	keel_buf_deinit(&t->raw);
	keel_buf_deinit(&t->req.body);
	keel_arena_deinit(&t->req.arena);
	keel__res_deinit(&t->res);
	keel_coro_pool_free(t->pool);
	free(t->hdrs);
	free(t);
}

/* Which framing headers the caller wrote itself. */
typedef struct given {
	bool host, length, chunked;
} given_t;

static void note_header(keel_str_t line, given_t *g)
{
	keel_str_t name = keel_str_trim(keel_str_cut(&line, ':'));
	if (keel_str_eq_nocase(name, KEEL_STR("Host")))
		g->host = true;
	else if (keel_str_eq_nocase(name, KEEL_STR("Content-Length")))
		g->length = true;
	else if (keel_str_eq_nocase(name, KEEL_STR("Transfer-Encoding")))
		g->chunked = true;
}

/* The caller's header lines, each ended with CRLF whatever it used. */
static int add_headers(keel_buf_t *b, const char *headers, given_t *g)
{
	keel_str_t rest = keel_str_from_cstr(headers);
	while (rest.len > 0) {
		keel_str_t line = keel_str_cut(&rest, '\n');
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			continue;
		note_header(line, g);
		if (keel_buf_append_str(b, line) < 0 ||
		    keel_buf_append(b, "\r\n", 2) < 0)
			return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

static int build_head(keel_test_t *t, const char *method, const char *target,
                      const char *headers, size_t len)
{
	keel_buf_t *b = &t->raw;
	given_t g = {0};
	keel_buf_reset(b);
	if (keel_buf_appendf(b, "%s %s HTTP/1.1\r\n", method, target) < 0 ||
	    add_headers(b, headers, &g) < 0)
		return KEEL_ENOMEM;
	if (!g.host && keel_buf_append_str(b, KEEL_STR("Host: test\r\n")) < 0)
		return KEEL_ENOMEM;
	if (len && !g.length && !g.chunked &&
	    keel_buf_appendf(b, "Content-Length: %zu\r\n", len) < 0)
		return KEEL_ENOMEM;
	return keel_buf_append(b, "\r\n", 2);
}

/* A chunked body decoded into req->body; 0 or the status to refuse. */
static int take_chunked(keel_test_t *t, const char *body, size_t len)
{
	keel_http_chunked_t d;
	size_t used = 0, decoded = 0;
	int status = 0;
	char *tmp = malloc(len ? len : 1);
	if (!tmp)
		return 500;
	memcpy(tmp, body, len);
	keel_http_chunked_init(&d, &t->limits);
	int rc = keel_http_chunked_decode(&d, tmp, len, &used, &decoded,
	                                  &status);
	if (rc == KEEL_OK && keel_buf_append(&t->req.body, tmp, decoded) < 0)
		status = 500;
	else if (rc == KEEL_OK)
		status = 0;
	else if (!status)
		status = 400; /* the body ended before its last chunk */
	free(tmp);
	return status;
}

static int take_body(keel_test_t *t, const char *body, size_t len)
{
	const keel_http_request_t *h = &t->req.head;
	if (h->chunked)
		return take_chunked(t, body, len);
	if (h->content_length > len)
		return 400; /* the server would wait, then time out */
	return keel_buf_append(&t->req.body, body, (size_t)h->content_length) <
	                       0
	               ? 500
	               : 0;
}

/* Parse the head and set the request up as request_begin does; 0 or the
 * status the server would refuse it with. */
static int prepare(keel_test_t *t, const char *body, size_t len)
{
	keel_req_t *r = &t->req;
	keel_buf_t *b = &t->raw;
	int status = 0;
	int n = keel_http_parse_request(b->data, b->len, &t->limits, &r->head,
	                                t->hdrs, t->limits.max_fields, &status);
	if (n < 0 || (size_t)n != b->len)
		return status ? status : 400; /* a CRLF smuggled in a field */
	status = keel__req_decode_path(r);
	if (status)
		return status;
	r->conn = NULL;
	r->start_ns = keel_clock_now_ns();
	snprintf(r->id, sizeof(r->id), "test-%llx",
	         (unsigned long long)++t->counter);
	keel_ip_parse(KEEL_STR("127.0.0.1"), &r->client);
	return take_body(t, body, len);
}

static intptr_t handler_main(void *arg)
{
	keel_test_t *t = arg;
	return t->fn(&t->req, &t->res, t->ud);
}

/* The handler on a coroutine, as a worker runs it; its final status. */
static int run_handler(keel_test_t *t)
{
	keel_coro_t *co = keel_coro_new(t->pool, handler_main, t);
	if (!co)
		return keel_res_error(&t->res, 503, "server busy");
	intptr_t status = KEEL_ESTATE; /* unless the handler returns */
	if (keel_coro_resume(co, 0) == KEEL_CORO_FINISHED)
		status = keel_coro_value(co);
	else
		KEEL_LOG_ERROR("test client: handler yielded, but there is "
		               "no event loop to resume it");
	keel_coro_free(co);
	if (status < 200 || status > 599) {
		/* What the connection does with an impossible status. */
		keel_buf_reset(&t->res.body);
		keel__res_drop_file(&t->res);
		status = 500;
	}
	keel_res_status(&t->res, (int)status);
	return (int)status;
}

/* A file body read back with pread, as sendfile would have sent it. */
static int read_file_body(const keel_res_t *res, keel_buf_t *out)
{
	if (keel_buf_reserve(out, (size_t)res->file_len) < 0)
		return KEEL_ENOMEM;
	uint64_t done = 0;
	while (done < res->file_len) {
		ssize_t n = pread(res->file_fd, out->data + done,
		                  (size_t)(res->file_len - done),
		                  (off_t)(res->file_off + done));
		if (n <= 0)
			break; /* shrunk file: the server would close early */
		done += (uint64_t)n;
	}
	out->len = (size_t)done;
	out->data[out->len] = '\0';
	return KEEL_OK;
}

static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

/* What the client receives: the handler's headers plus Content-Length,
 * and the body unless the method or status has none. */
static int collect(keel_test_t *t, int status, bool head,
                   keel_test_result_t *out)
{
	keel_res_t *res = &t->res;
	keel_buf_t h, b;
	bool file = res->file_fd >= 0;
	keel_buf_init(&h, 0);
	keel_buf_init(&b, 0);
	int rc = keel_buf_append(&h, res->headers.data, res->headers.len);
	if (rc == 0 && status_has_body(status))
		rc = keel_buf_appendf(
		        &h, "Content-Length: %llu\r\n",
		        (unsigned long long)(file ? res->file_len
		                                  : res->body.len));
	if (rc == 0 && status_has_body(status) && !head)
		rc = file ? read_file_body(res, &b)
		          : keel_buf_append(&b, res->body.data, res->body.len);
	out->headers = rc == 0 ? keel_buf_detach(&h, &out->headers_len) : NULL;
	out->body = rc == 0 ? keel_buf_detach(&b, &out->body_len) : NULL;
	keel_buf_deinit(&h);
	keel_buf_deinit(&b);
	out->status = status;
	if (!out->headers || !out->body) {
		keel_test_result_free(out);
		return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

static void reset(keel_test_t *t)
{
	keel_arena_reset(&t->req.arena);
	keel_buf_reset(&t->req.body);
	keel__res_reset(&t->res);
	memset(&t->req.head, 0, sizeof(t->req.head));
	keel__req_reset_layers(&t->req);
}

int keel_test_request(keel_test_t *t, const char *method, const char *target,
                      const char *headers, const void *body, size_t len,
                      keel_test_result_t *out)
{
	if (!out)
		return KEEL_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!t || !method || !target || (len && !body))
		return KEEL_EINVAL;
	if (build_head(t, method, target, headers, len) < 0)
		return KEEL_ENOMEM;
	int status = prepare(t, body, len);
	bool head = false;
	if (status == 0) {
		head = t->req.head.method == KEEL_HTTP_HEAD;
		status = run_handler(t);
	} else {
		/* Refused like the server refuses: the reason, no handler. */
		const char *reason = keel_http_status_text(status);
		keel_res_error(&t->res, status, reason ? reason : "error");
	}
	int rc = collect(t, status, head, out);
	reset(t);
	return rc;
}

int keel_test_get(keel_test_t *t, const char *target, keel_test_result_t *out)
{
	return keel_test_request(t, "GET", target, NULL, NULL, 0, out);
}

int keel_test_header(const keel_test_result_t *r, const char *name,
                     keel_str_t *value)
{
	keel_str_t rest = {r->headers ? r->headers : "", r->headers_len};
	keel_str_t want = keel_str_from_cstr(name);
	while (rest.len > 0) {
		keel_str_t line = keel_str_cut(&rest, '\n');
		keel_str_t n = keel_str_cut(&line, ':');
		if (keel_str_eq_nocase(n, want)) {
			*value = keel_str_trim(line);
			if (value->len && value->ptr[value->len - 1] == '\r')
				value->len--;
			*value = keel_str_trim(*value);
			return KEEL_OK;
		}
	}
	return KEEL_ENOENT;
}

void keel_test_result_free(keel_test_result_t *r)
{
	if (!r)
		return;
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
