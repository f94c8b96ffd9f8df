/*
 * Unit tests for the in-process test client (src/web/testclient.c): what
 * it sends, what comes back, refusals the server would make, bodies
 * (plain, chunked, file), HEAD, and handlers that wait.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keel/app.h"
#include "keel/clock.h"
#include "keel/coro.h"
#include "keel/log.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/testclient.h"

static int calls;

/* Method, path, query, a header and the body back. */
static int echo(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_str_t ct = KEEL_STR("-"), body = keel_req_body(req);
	(void)ud;
	calls++;
	keel_req_header(req, "Content-Type", &ct);
	keel_res_header(res, "X-Echo", "1");
	keel_res_printf(res, "%s %.*s ?%.*s ct=%.*s id=%s body=",
	                keel_http_method_name(keel_req_method(req)),
	                KEEL_STR_FMT(keel_req_path(req)),
	                KEEL_STR_FMT(keel_req_query(req)), KEEL_STR_FMT(ct),
	                keel_req_id(req));
	keel_res_write(res, body.ptr, body.len);
	return 200;
}

static bool header_is(const keel_test_result_t *r, const char *name,
                      const char *want)
{
	keel_str_t v;
	return keel_test_header(r, name, &v) == 0 &&
	       keel_str_eq(v, keel_str_from_cstr(want));
}

static void quiet(void)
{
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	calls = 0;
}

TestSuite(testclient, .init = quiet);

Test(testclient, get_returns_status_headers_and_body)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/a/b?x=1", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "GET /a/b ?x=1 ct=- id=test-1 body=");
	cr_assert_eq(r.body_len, strlen(r.body));
	cr_assert(header_is(&r, "x-echo", "1"));
	cr_assert(header_is(&r, "Content-Length", "34"));
	keel_str_t v;
	cr_assert_eq(keel_test_header(&r, "X-None", &v), KEEL_ENOENT);
	keel_test_result_free(&r);
	keel_test_result_free(&r);
	cr_assert_null(r.body);
	keel_test_free(t);
}

Test(testclient, body_and_header_lines_reach_the_handler)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	const char *json = "{\"a\":1}";
	cr_assert_eq(keel_test_request(t, "POST", "/p",
	                               "X-One: 1\nContent-Type: "
	                               "application/json\r\n\n",
	                               json, strlen(json), &r),
	             0);
	cr_assert_str_eq(r.body, "POST /p ? ct=application/json id=test-1 "
	                         "body={\"a\":1}");
	keel_test_result_free(&r);
	keel_test_free(t);
}

Test(testclient, chunked_body_is_decoded)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	const char *body = "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
	cr_assert_eq(keel_test_request(t, "PUT", "/c",
	                               "Transfer-Encoding: chunked", body,
	                               strlen(body), &r),
	             0);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "body=abcde"), "%s", r.body);
	keel_test_result_free(&r);
	cr_assert_eq(keel_test_request(t, "PUT", "/c",
	                               "Transfer-Encoding: chunked", "3\r\nab",
	                               6, &r),
	             0);
	cr_assert_eq(r.status, 400);
	keel_test_result_free(&r);
	cr_assert_eq(calls, 1);
	keel_test_free(t);
}

Test(testclient, malformed_requests_are_refused_like_the_server_does)
{
	static const struct {
		const char *method, *target, *headers;
		int status;
	} cases[] = {
	        {"GET", "/a b", NULL, 400},
	        {"GET", "/a%2Fb", NULL, 400},
	        {"GET", "/../x", NULL, 400},
	        {"GET", "/x", "Bad Header", 400},
	        {"GET", "/x\r\nX-Injected: 1", NULL, 400},
	        {"TRACE", "/x", NULL, 501},
	        {"get", "/x", NULL, 501},
	        {"GET", "/x", "Content-Length: 1\nContent-Length: 1", 400},
	};
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		keel_test_result_t r;
		cr_assert_eq(keel_test_request(t, cases[i].method,
		                               cases[i].target,
		                               cases[i].headers, NULL, 0, &r),
		             0);
		cr_expect_eq(r.status, cases[i].status, "case %zu: %d", i,
		             r.status);
		cr_expect(header_is(&r, "Content-Type", "application/json"));
		keel_test_result_free(&r);
	}
	cr_assert_eq(calls, 0);
	keel_test_free(t);
}

Test(testclient, body_length_mismatch_and_limit)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_request(t, "POST", "/x", "Content-Length: 10",
	                               "abc", 3, &r),
	             0);
	cr_assert_eq(r.status, 400);
	keel_test_result_free(&r);
	cr_assert_eq(keel_test_request(t, "POST", "/x",
	                               "Content-Length: 2000000", "abc", 3, &r),
	             0);
	cr_assert_eq(r.status, 413);
	keel_test_result_free(&r);
	cr_assert_eq(keel_test_request(t, "POST", "/x", "Content-Length: 2",
	                               "abc", 3, &r),
	             0);
	cr_assert_eq(r.status, 200);
	cr_assert(strstr(r.body, "body=ab"), "%s", r.body);
	cr_assert_eq(calls, 1);
	keel_test_result_free(&r);
	keel_test_free(t);
}

Test(testclient, bad_arguments_are_einval)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_request(t, NULL, "/", NULL, NULL, 0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_test_request(t, "GET", NULL, NULL, NULL, 0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_test_request(t, "GET", "/", NULL, NULL, 3, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_test_request(NULL, "GET", "/", NULL, NULL, 0, &r),
	             KEEL_EINVAL);
	cr_assert_eq(keel_test_request(t, "GET", "/", NULL, NULL, 0, NULL),
	             KEEL_EINVAL);
	cr_assert_null(keel_test_new_handler(NULL, NULL));
	cr_assert_null(keel_test_new(NULL));
	keel_test_free(NULL);
	keel_test_free(t);
}

static int no_content(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "dropped", 7);
	return 204;
}

Test(testclient, head_and_204_have_no_body)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_request(t, "HEAD", "/h", NULL, NULL, 0, &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 0);
	cr_assert_str_eq(r.body, "");
	cr_assert(header_is(&r, "Content-Length", "30"));
	keel_test_result_free(&r);
	keel_test_free(t);
	t = keel_test_new_handler(no_content, NULL);
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(r.status, 204);
	cr_assert_eq(r.body_len, 0);
	keel_str_t v;
	cr_assert_eq(keel_test_header(&r, "Content-Length", &v), KEEL_ENOENT);
	keel_test_result_free(&r);
	keel_test_free(t);
}

static void busy(void *arg)
{
	usleep(20000);
	*(int *)arg = 42;
}

static int waits(keel_req_t *req, keel_res_t *res, void *ud)
{
	int out = 0;
	(void)req;
	(void)ud;
	int a = keel_sleep_ms(30);
	int b = keel_offload(busy, &out);
	keel_res_printf(res, "%d %d %d %d", a, b, out,
	                keel_coro_current() != NULL);
	return 200;
}

Test(testclient, waiting_handlers_block_and_finish)
{
	keel_test_t *t = keel_test_new_handler(waits, NULL);
	keel_test_result_t r;
	int64_t t0 = keel_clock_now_ns();
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	int64_t ms = (keel_clock_now_ns() - t0) / 1000000;
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "0 0 42 1"); /* ran on a coroutine */
	cr_assert_geq(ms, 50);
	keel_test_result_free(&r);
	keel_test_free(t);
}

static int yields(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	(void)ud;
	keel_res_body(res, "partial", 7);
	keel_coro_yield(0);
	return 200;
}

Test(testclient, handler_that_yields_by_hand_gets_a_500)
{
	keel_test_t *t = keel_test_new_handler(yields, NULL);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(r.status, 500);
	cr_assert_eq(r.body_len, 0);
	keel_test_result_free(&r);
	/* The client is still usable afterwards. */
	cr_assert_eq(keel_test_get(t, "/", &r), 0);
	cr_assert_eq(r.status, 500);
	keel_test_result_free(&r);
	keel_test_free(t);
}

static int file_body(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	FILE *f = ud;
	int fd = dup(fileno(f));
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_file(res, fd, 6, 5);
	return 200;
}

Test(testclient, file_bodies_are_read_back)
{
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	fputs("hello world!", f);
	fflush(f);
	keel_test_t *t = keel_test_new_handler(file_body, f);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/f", &r), 0);
	cr_assert_str_eq(r.body, "world");
	cr_assert(header_is(&r, "Content-Length", "5"));
	keel_test_result_free(&r);
	cr_assert_eq(keel_test_request(t, "HEAD", "/f", NULL, NULL, 0, &r), 0);
	cr_assert_eq(r.body_len, 0);
	cr_assert(header_is(&r, "Content-Length", "5"));
	keel_test_result_free(&r);
	keel_test_free(t);
	fclose(f);
}

static int weird_status(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req;
	keel_res_body(res, "x", 1);
	return (int)(intptr_t)ud;
}

Test(testclient, impossible_statuses_become_500_without_body)
{
	static const int bad[] = {-3, 0, 1, 100, 199, 600, 1000};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		keel_test_t *t = keel_test_new_handler(
		        weird_status, (void *)(intptr_t)bad[i]);
		keel_test_result_t r;
		cr_assert_eq(keel_test_get(t, "/", &r), 0);
		cr_expect_eq(r.status, 500, "%d", bad[i]);
		cr_expect_eq(r.body_len, 0);
		keel_test_result_free(&r);
		keel_test_free(t);
	}
}

Test(testclient, request_ids_and_state_do_not_leak_between_requests)
{
	keel_test_t *t = keel_test_new_handler(echo, NULL);
	keel_test_result_t a, b;
	cr_assert_eq(keel_test_request(t, "POST", "/1", "Content-Type: x",
	                               "body", 4, &a),
	             0);
	cr_assert_eq(keel_test_get(t, "/2", &b), 0);
	cr_assert(strstr(a.body, "id=test-1 body=body"), "%s", a.body);
	cr_assert_str_eq(b.body, "GET /2 ? ct=- id=test-2 body=");
	keel_test_result_free(&a);
	keel_test_result_free(&b);
	keel_test_free(t);
}

static int hello(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	keel_str_t name = keel_req_param(req, "name");
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_printf(res, "hello %.*s", KEEL_STR_FMT(name));
	return 200;
}

Test(testclient, drives_a_whole_app)
{
	keel_app_t *app = keel_app_new();
	KEEL_GET(app, "/hello/{name}", hello);
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	cr_assert(keel_app_frozen(app));
	cr_assert_eq(keel_test_get(t, "/hello/w%C3%B6rld", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello w\xc3\xb6rld");
	cr_assert(header_is(&r, "Content-Type", "text/plain"));
	keel_test_result_free(&r);
	cr_assert_eq(keel_test_get(t, "/hello/", &r), 0);
	cr_assert_eq(r.status, 404);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}
