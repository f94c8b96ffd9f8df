#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"

#define HDR_CAP 128

static keel_http_header_t hdrs[HDR_CAP];

/* A heap copy of exactly n bytes, so ASan catches any read past the end. */
static char *dup_exact(const char *s, size_t n)
{
	char *b = malloc(n != 0 ? n : 1);
	cr_assert_not_null(b);
	if (n != 0)
		memcpy(b, s, n);
	return b;
}

static int parse_n(const char *s, size_t n, const keel_http_limits_t *lim,
                   keel_http_request_t *req, int *status)
{
	return keel_http_parse_request(s, n, lim, req, hdrs, HDR_CAP, status);
}

/* Verdict of a copy of s[0..n), which is freed again. */
static int verdict(const char *s, size_t n, const keel_http_limits_t *lim,
                   int *status)
{
	keel_http_request_t req;
	char *b = dup_exact(s, n);
	int rc = parse_n(b, n, lim, &req, status);
	free(b);
	return rc;
}

/*
 * The whole input gives (want, want_status).  Fed a byte at a time, every
 * prefix gives KEEL_AGAIN until the first verdict, which must be that same
 * one, and longer prefixes keep it.  The gate keel_http_scan, fed the same
 * way, may only say "ready" where the parser has a verdict.  Long inputs
 * are checked at a stride to keep the test quick.
 */
static void check_verdict(const char *name, const char *s, size_t n,
                          const keel_http_limits_t *lim, int want,
                          int want_status)
{
	int st = -1;
	int rc = verdict(s, n, lim, &st);
	cr_assert_eq(rc, want, "%s: rc %d, want %d", name, rc, want);
	cr_assert_eq(st, want_status, "%s: status %d, want %d", name, st,
	             want_status);
	size_t step = n > 4096 ? n / 256 : 1;
	bool decided = false;
	keel_http_scan_t sc = {0};
	bool ready = false;
	for (size_t i = 0; i <= n; i += (i + step < n) ? step : 1) {
		rc = verdict(s, i, lim, &st);
		if (!ready)
			ready = keel_http_scan(&sc, s, i, lim) == KEEL_OK;
		if (ready)
			cr_assert_neq(rc, KEEL_AGAIN, "%s: gate early at %zu",
			              name, i);
		if (rc == KEEL_AGAIN && !decided)
			continue;
		decided = true;
		cr_assert_eq(rc, want, "%s: prefix %zu gives %d, want %d", name,
		             i, rc, want);
		cr_assert_eq(st, want_status, "%s: prefix %zu status %d", name,
		             i, st);
	}
}

struct bad {
	const char *name;
	const char *req;
	size_t len;
	int status;
};

#define BAD(name, lit, st)                                                     \
	{                                                                      \
		name, lit, sizeof(lit) - 1, st                                 \
	}

static void check_bad_table(const struct bad *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_verdict(t[i].name, t[i].req, t[i].len, NULL, KEEL_EINVAL,
		              t[i].status);
}

#define OKH "Host: a\r\n\r\n"

Test(http_parser, request_line_errors)
{
	static const struct bad t[] = {
	        BAD("lowercase method", "get / HTTP/1.1\r\n" OKH, 501),
	        BAD("unknown method", "FOO / HTTP/1.1\r\n" OKH, 501),
	        BAD("TRACE", "TRACE / HTTP/1.1\r\n" OKH, 501),
	        BAD("CONNECT", "CONNECT a.example:443 HTTP/1.1\r\n" OKH, 501),
	        BAD("CONNECT no port", "CONNECT a.example HTTP/1.1\r\n" OKH,
	            400),
	        BAD("CONNECT origin", "CONNECT / HTTP/1.1\r\n" OKH, 400),
	        BAD("method not token", "G(T / HTTP/1.1\r\n" OKH, 400),
	        BAD("empty method", " / HTTP/1.1\r\n" OKH, 400),
	        BAD("two spaces", "GET  / HTTP/1.1\r\n" OKH, 400),
	        BAD("two spaces 2", "GET /  HTTP/1.1\r\n" OKH, 400),
	        BAD("trailing space", "GET / HTTP/1.1 \r\n" OKH, 400),
	        BAD("tab separator", "GET\t/ HTTP/1.1\r\n" OKH, 400),
	        BAD("no version", "GET /\r\n" OKH, 400),
	        BAD("only method", "GET\r\n" OKH, 400),
	        BAD("HTTP/2.0", "GET / HTTP/2.0\r\n" OKH, 505),
	        BAD("HTTP/1.2", "GET / HTTP/1.2\r\n" OKH, 505),
	        BAD("HTTP/3", "GET / HTTP/3\r\n" OKH, 505),
	        BAD("HTTP/0.9", "GET / HTTP/0.9\r\n" OKH, 505),
	        BAD("lowercase http", "GET / http/1.1\r\n" OKH, 400),
	        BAD("version junk", "GET / HTTP/1.1x\r\n" OKH, 400),
	        BAD("version 11.1", "GET / HTTP/11.1\r\n" OKH, 400),
	        BAD("version 1.", "GET / HTTP/1.\r\n" OKH, 400),
	        BAD("version garbage", "GET / XTTP/1.1\r\n" OKH, 400),
	        BAD("control in target", "GET /a\x01 HTTP/1.1\r\n" OKH, 400),
	        BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\n" OKH, 400),
	        BAD("non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" OKH,
	            400),
	        BAD("fragment", "GET /a#f HTTP/1.1\r\n" OKH, 400),
	        BAD("bad escape", "GET /a%zz HTTP/1.1\r\n" OKH, 400),
	        BAD("short escape", "GET /a%2 HTTP/1.1\r\n" OKH, 400),
	        BAD("backslash path", "GET /a\\b HTTP/1.1\r\n" OKH, 400),
	        BAD("quote in path", "GET /a\"b HTTP/1.1\r\n" OKH, 400),
	        BAD("bare CR in target", "GET /a\rb HTTP/1.1\r\n" OKH, 400),
	        BAD("asterisk with GET", "GET * HTTP/1.1\r\n" OKH, 400),
	        BAD("asterisk junk", "OPTIONS *a HTTP/1.1\r\n" OKH, 400),
	        BAD("relative target", "GET a/b HTTP/1.1\r\n" OKH, 400),
	        BAD("ftp scheme", "GET ftp://a/ HTTP/1.1\r\n" OKH, 400),
	        BAD("userinfo", "GET http://u@a/ HTTP/1.1\r\n" OKH, 400),
	        BAD("empty authority", "GET http:///a HTTP/1.1\r\n" OKH, 400),
	        BAD("leading space", " GET / HTTP/1.1\r\n" OKH, 400),
	        BAD("bare CR before line", "\rGET / HTTP/1.1\r\n" OKH, 400),
	};
	check_bad_table(t, KEEL_COUNTOF(t));
}

#define RL "GET / HTTP/1.1\r\n"

Test(http_parser, header_syntax_errors)
{
	static const struct bad t[] = {
	        BAD("missing Host", RL "\r\n", 400),
	        BAD("duplicate Host", RL "Host: a\r\nHost: a\r\n\r\n", 400),
	        BAD("empty Host", RL "Host:\r\n\r\n", 400),
	        BAD("Host with space", RL "Host: a b\r\n\r\n", 400),
	        BAD("Host bad port", RL "Host: a:99999\r\n\r\n", 400),
	        BAD("Host empty port", RL "Host: a:\r\n\r\n", 400),
	        BAD("Host port letters", RL "Host: a:8o\r\n\r\n", 400),
	        BAD("Host userinfo", RL "Host: u@a\r\n\r\n", 400),
	        BAD("Host open bracket", RL "Host: [::1\r\n\r\n", 400),
	        BAD("Host bad IPv6", RL "Host: [::g]\r\n\r\n", 400),
	        BAD("Host IPv6 zone", RL "Host: [fe80::1%25e]\r\n\r\n", 400),
	        BAD("space before colon", RL "Host : a\r\n\r\n", 400),
	        BAD("tab before colon", RL "Host\t: a\r\n\r\n", 400),
	        BAD("name not token", RL "Host: a\r\nX(y: 1\r\n\r\n", 400),
	        BAD("empty name", RL "Host: a\r\n: v\r\n\r\n", 400),
	        BAD("no colon", RL "Host: a\r\nX-A b\r\n\r\n", 400),
	        BAD("obs-fold", RL "Host: a\r\nX: a\r\n b\r\n\r\n", 400),
	        BAD("space before first", RL " Host: a\r\n\r\n", 400),
	        BAD("NUL in value", RL "Host: a\r\nX: a\0b\r\n\r\n", 400),
	        BAD("bare CR in value", RL "Host: a\r\nX: a\rb\r\n\r\n", 400),
	        BAD("DEL in value", RL "Host: a\r\nX: a\x7f\r\n\r\n", 400),
	        BAD("VT in value", RL "Host: a\r\nX: a\x0b\r\n\r\n", 400),
	        BAD("LF after CRLF", RL "Host: a\n\r\n", 400),
	        BAD("CRLF after LF", "GET / HTTP/1.1\nHost: a\r\n\n", 400),
	        BAD("LF head, CRLF end", "GET / HTTP/1.1\nHost: a\n\r\n", 400),
	        BAD("bad Connection", RL "Host: a\r\nConnection: c(\r\n\r\n",
	            400),
	        BAD("Expect other", RL "Host: a\r\nExpect: 200-ok\r\n\r\n",
	            417),
	        BAD("Expect list",
	            RL "Host: a\r\nExpect: 100-continue, x\r\n\r\n", 417),
	};
	check_bad_table(t, KEEL_COUNTOF(t));
}

#define POST "POST / HTTP/1.1\r\nHost: a\r\n"
#define TE   "Transfer-Encoding: "

Test(http_parser, smuggling_variants)
{
	static const struct bad t[] = {
	        BAD("CL then TE",
	            POST "Content-Length: 3\r\n" TE "chunked\r\n\r\n", 400),
	        BAD("TE then CL",
	            POST TE "chunked\r\nContent-Length: 3\r\n\r\n", 400),
	        BAD("TE space colon",
	            POST "Transfer-Encoding : chunked\r\n\r\n", 400),
	        BAD("xchunked", POST TE "xchunked\r\n\r\n", 400),
	        BAD("chunked twice", POST TE "chunked, chunked\r\n\r\n", 400),
	        BAD("two TE lines", POST TE "chunked\r\n" TE "chunked\r\n\r\n",
	            400),
	        BAD("gzip alone", POST TE "gzip\r\n\r\n", 400),
	        BAD("chunked then gzip", POST TE "chunked, gzip\r\n\r\n", 400),
	        BAD("chunked, identity", POST TE "chunked, identity\r\n\r\n",
	            400),
	        BAD("empty TE", POST TE "\r\n\r\n", 400),
	        BAD("empty element", POST TE ", chunked\r\n\r\n", 400),
	        BAD("TE params", POST TE "chunked;q=1\r\n\r\n", 400),
	        BAD("TE quoted", POST TE "\"chunked\"\r\n\r\n", 400),
	        BAD("TE VT",
	            POST TE "\x0b"
	                    "chunked\r\n\r\n",
	            400),
	        BAD("TE obs-fold",
	            POST "Transfer-Encoding:\r\n chunked\r\n\r\n", 400),
	        BAD("TE in 1.0", "POST / HTTP/1.0\r\n" TE "chunked\r\n\r\n",
	            400),
	        BAD("TE in 1.0 with CL",
	            "POST / HTTP/1.0\r\nContent-Length: 1\r\n" TE
	            "chunked\r\n\r\n",
	            400),
	        BAD("gzip, chunked", POST TE "gzip, chunked\r\n\r\n", 501),
	        BAD("CL twice equal",
	            POST "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", 400),
	        BAD("CL plus", POST "Content-Length: +1\r\n\r\n", 400),
	        BAD("CL minus", POST "Content-Length: -1\r\n\r\n", 400),
	        BAD("CL inner space", POST "Content-Length: 1 2\r\n\r\n", 400),
	        BAD("CL list", POST "Content-Length: 1,1\r\n\r\n", 400),
	        BAD("CL list space", POST "Content-Length: 1, 1\r\n\r\n", 400),
	        BAD("CL empty", POST "Content-Length:\r\n\r\n", 400),
	        BAD("CL hex", POST "Content-Length: 0x10\r\n\r\n", 400),
	        BAD("CL overflow",
	            POST "Content-Length: 18446744073709551616\r\n\r\n", 400),
	        BAD("CL space colon", POST "Content-Length : 1\r\n\r\n", 400),
	        BAD("CL over limit", POST "Content-Length: 1048577\r\n\r\n",
	            413),
	};
	check_bad_table(t, KEEL_COUNTOF(t));
}

/* Parse a literal that must succeed; the request slices point into `b`. */
static char *parse_ok(const char *s, size_t n, keel_http_request_t *req)
{
	int st = -1;
	check_verdict("valid", s, n, NULL, (int)n, 0);
	char *b = dup_exact(s, n);
	int rc = parse_n(b, n, NULL, req, &st);
	cr_assert_eq(rc, (int)n, "rc %d status %d for %.*s", rc, st, (int)n, s);
	cr_assert_eq(st, 0);
	return b;
}

#define PARSE_OK(lit, req) parse_ok(lit, sizeof(lit) - 1, req)

static bool str_is(keel_str_t s, const char *c)
{
	return keel_str_eq(s, keel_str_from_cstr(c));
}

Test(http_parser, simple_get_fills_every_field)
{
	keel_http_request_t r;
	char *b = PARSE_OK("GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\n"
	                   "Accept:  */*  \r\nX-Empty:\r\n\r\n",
	                   &r);
	cr_assert_eq(r.method, KEEL_HTTP_GET);
	cr_assert(str_is(r.method_name, "GET"));
	cr_assert(str_is(r.target, "/a/b?x=1&y"));
	cr_assert(str_is(r.path, "/a/b"));
	cr_assert(str_is(r.query, "x=1&y"));
	cr_assert(str_is(r.authority, "example.com"));
	cr_assert_eq(r.form, KEEL_HTTP_FORM_ORIGIN);
	cr_assert_eq(r.minor_version, 1);
	cr_assert_eq(r.header_count, 3);
	cr_assert_eq(r.headers, hdrs);
	cr_assert(str_is(r.headers[1].name, "Accept"));
	cr_assert(str_is(r.headers[1].value, "*/*"));
	cr_assert_eq(r.headers[2].value.len, 0);
	cr_assert(r.keep_alive);
	cr_assert(!r.chunked && r.content_length == 0 && !r.expect_continue);
	cr_assert(r.method_name.ptr == b && r.path.ptr == b + 4);
	free(b);
}

Test(http_parser, keep_alive_rules)
{
	static const struct {
		const char *req;
		bool keep;
	} t[] = {
	        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	         false},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n",
	         false},
	        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, "
	         "close\r\n"
	         "\r\n",
	         false},
	        {"GET / HTTP/1.1\r\nConnection: upgrade\r\nHost: a\r\n"
	         "Connection: ,close,\r\n\r\n",
	         false},
	        {"GET / HTTP/1.0\r\n\r\n", false},
	        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
	        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: "
	         "close\r\n\r\n",
	         false},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++) {
		keel_http_request_t r;
		char *b = parse_ok(t[i].req, strlen(t[i].req), &r);
		cr_assert_eq(r.keep_alive, t[i].keep, "case %zu", i);
		free(b);
	}
}

Test(http_parser, http10_needs_no_host)
{
	keel_http_request_t r;
	char *b = PARSE_OK("HEAD /x HTTP/1.0\r\n\r\n", &r);
	cr_assert_eq(r.method, KEEL_HTTP_HEAD);
	cr_assert_eq(r.minor_version, 0);
	cr_assert_eq(r.authority.len, 0);
	free(b);
}

Test(http_parser, absolute_form_authority_wins_over_host)
{
	keel_http_request_t r;
	char *b = PARSE_OK("GET http://Example.com:8080/a?b=c HTTP/1.1\r\n"
	                   "Host: other.example\r\n\r\n",
	                   &r);
	cr_assert_eq(r.form, KEEL_HTTP_FORM_ABSOLUTE);
	cr_assert(str_is(r.authority, "Example.com:8080"));
	cr_assert(str_is(r.path, "/a"));
	cr_assert(str_is(r.query, "b=c"));
	free(b);
	b = PARSE_OK("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", &r);
	cr_assert(str_is(r.path, "/"));
	cr_assert_eq(r.query.len, 0);
	free(b);
	b = PARSE_OK("GET http://[::1]:80?q HTTP/1.1\r\nHost: h\r\n\r\n", &r);
	cr_assert(str_is(r.authority, "[::1]:80"));
	cr_assert(str_is(r.path, "/"));
	cr_assert(str_is(r.query, "q"));
	free(b);
}

Test(http_parser, options_asterisk)
{
	keel_http_request_t r;
	char *b = PARSE_OK("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	cr_assert_eq(r.method, KEEL_HTTP_OPTIONS);
	cr_assert_eq(r.form, KEEL_HTTP_FORM_ASTERISK);
	cr_assert(str_is(r.path, "*"));
	free(b);
}

Test(http_parser, host_forms_accepted)
{
	static const char *hosts[] = {
	        "a",
	        "example.com",
	        "example.com.",
	        "a-b.c_d~e",
	        "1.2.3.4",
	        "1.2.3.4:65535",
	        "h:0",
	        "[::1]",
	        "[::1]:443",
	        "[2001:db8::1.2.3.4]",
	        "%41b",
	        "x!$&'()*+,;=",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(hosts); i++) {
		char req[128];
		int n = snprintf(req, sizeof(req),
		                 "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
		                 hosts[i]);
		keel_http_request_t r;
		char *b = parse_ok(req, (size_t)n, &r);
		cr_assert(str_is(r.authority, hosts[i]), "%s", hosts[i]);
		free(b);
	}
}

Test(http_parser, framing_fields)
{
	keel_http_request_t r;
	char *b = PARSE_OK(POST "Content-Length: 007\r\n\r\n", &r);
	cr_assert_eq(r.content_length, 7);
	cr_assert(!r.chunked);
	free(b);
	b = PARSE_OK(POST "Content-Length: 1048576\r\n\r\n", &r);
	cr_assert_eq(r.content_length, 1048576);
	free(b);
	b = PARSE_OK(POST "transfer-encoding:\t Chunked \t\r\n\r\n", &r);
	cr_assert(r.chunked);
	cr_assert_eq(r.content_length, 0);
	free(b);
}

Test(http_parser, expect_continue)
{
	keel_http_request_t r;
	char *b = PARSE_OK(POST "Expect: 100-Continue\r\n"
	                        "Content-Length: 5\r\n\r\n",
	                   &r);
	cr_assert(r.expect_continue);
	free(b);
	b = PARSE_OK("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &r);
	cr_assert(!r.expect_continue, "ignored for HTTP/1.0");
	free(b);
}

Test(http_parser, pipelined_request_left_alone)
{
	const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	                  "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t first = strlen("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
	keel_http_request_t r;
	int st;
	int rc = parse_n(two, strlen(two), NULL, &r, &st);
	cr_assert_eq(rc, (int)first);
	cr_assert(str_is(r.path, "/1"));
	rc = parse_n(two + rc, strlen(two) - first, NULL, &r, &st);
	cr_assert_eq(rc, (int)first);
	cr_assert(str_is(r.path, "/2"));
	/* A body after the head is not looked at either. */
	static const char body[] = POST "Content-Length: 4\r\n\r\n"
	                                "\x01\r\n\0";
	size_t head = sizeof(POST "Content-Length: 4\r\n\r\n") - 1;
	rc = parse_n(body, sizeof(body) - 1, NULL, &r, &st);
	cr_assert_eq(rc, (int)head);
}

Test(http_parser, lf_only_heads_and_leading_empty_lines)
{
	keel_http_request_t r;
	char *b = PARSE_OK("GET / HTTP/1.1\nHost: a\nX: y\n\n", &r);
	cr_assert_eq(r.header_count, 2);
	cr_assert(str_is(r.headers[1].value, "y"));
	free(b);
	b = PARSE_OK("\r\n\r\nGET /e HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	cr_assert(str_is(r.path, "/e"));
	free(b);
	b = PARSE_OK("\nGET / HTTP/1.1\nHost: a\n\n", &r);
	free(b);
	const char *mixed = "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	check_verdict("LF then CRLF", mixed, strlen(mixed), NULL, KEEL_EINVAL,
	              400);
}

Test(http_parser, lenient_bytes_browsers_send)
{
	keel_http_request_t r;
	char *b = PARSE_OK("GET /a|b^[c]:@!$&'()*+,;=-._~%41 HTTP/1.1\r\n"
	                   "Host: a\r\nX: caf\xc3\xa9 \"q\"\t(x)\r\n\r\n",
	                   &r);
	cr_assert(str_is(r.headers[1].value, "caf\xc3\xa9 \"q\"\t(x)"));
	free(b);
	b = PARSE_OK(
	        "GET /?q={\"a\":[1]}|^`\\<>/?%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	        &r);
	cr_assert(str_is(r.query, "q={\"a\":[1]}|^`\\<>/?%zz"));
	free(b);
	b = PARSE_OK("GET /? HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	cr_assert(str_is(r.path, "/"));
	cr_assert_eq(r.query.len, 0);
	free(b);
}

Test(http_parser, every_method_is_recognised)
{
	static const char *m[] = {"GET",   "HEAD",   "POST",   "PUT",
	                          "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; i < KEEL_COUNTOF(m); i++) {
		char req[64];
		int n = snprintf(req, sizeof(req),
		                 "%s / HTTP/1.1\r\nHost: a\r\n\r\n", m[i]);
		keel_http_request_t r;
		char *b = parse_ok(req, (size_t)n, &r);
		cr_assert_eq(r.method, (keel_http_method_t)(i + 1));
		free(b);
	}
}

Test(http_parser, header_get_is_case_insensitive)
{
	keel_http_request_t r;
	char *b = PARSE_OK(RL "Host: a\r\nX-Id: 1\r\nx-id: 2\r\n\r\n", &r);
	keel_str_t v;
	cr_assert_eq(keel_http_header_get(&r, KEEL_STR("X-ID"), &v), KEEL_OK);
	cr_assert(str_is(v, "1"), "first one wins");
	cr_assert_eq(keel_http_header_get(&r, KEEL_STR("X-Idd"), &v),
	             KEEL_ENOENT);
	free(b);
}

/* --------------------------------------------------------- limits */

/* A request whose request line is exactly `n` bytes long. */
static char *line_of(size_t n, size_t *len)
{
	const char *tail = " HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t t = strlen(tail);
	char *s = malloc(n + t);
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', n - 5 - 11);
	memcpy(s + n - 11, tail, t);
	*len = n - 11 + t;
	return s;
}

Test(http_parser, request_line_limit_at_and_past)
{
	size_t len;
	char *s = line_of(8192, &len);
	check_verdict("line 8192", s, len, NULL, (int)len, 0);
	free(s);
	s = line_of(8193, &len);
	check_verdict("line 8193", s, len, NULL, KEEL_EINVAL, 414);
	int st;
	cr_assert_eq(verdict(s, 8191, NULL, &st), KEEL_AGAIN);
	cr_assert_eq(verdict(s, 8192, NULL, &st), KEEL_EINVAL,
	             "414 as soon as the limit is passed, before any CRLF");
	cr_assert_eq(st, 414);
	free(s);
}

Test(http_parser, empty_lines_count_against_line_limit)
{
	keel_http_limits_t lim = KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_line = 24;
	const char *ok = "\r\nGET /abcdef HTTP/1.1\r\nHost: a\r\n\r\n";
	check_verdict("at", ok, strlen(ok), &lim, (int)strlen(ok), 0);
	const char *bad = "\r\n\r\nGET /abcdef HTTP/1.1\r\nHost: a\r\n\r\n";
	check_verdict("past", bad, strlen(bad), &lim, KEEL_EINVAL, 414);
	char many[64];
	memset(many, '\n', sizeof(many));
	check_verdict("only LFs", many, sizeof(many), &lim, KEEL_EINVAL, 414);
}

/* Request with one field line of exactly `n` bytes, CRLF included. */
static char *field_of(size_t n, size_t *len)
{
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\n";
	size_t h = strlen(head);
	char *s = malloc(h + n + 2);
	memcpy(s, head, h);
	memcpy(s + h, "X: ", 3);
	memset(s + h + 3, 'v', n - 5);
	memcpy(s + h + n - 2, "\r\n\r\n", 4);
	*len = h + n + 2;
	return s;
}

Test(http_parser, field_limit_at_and_past)
{
	size_t len;
	char *s = field_of(8192, &len);
	check_verdict("field 8192", s, len, NULL, (int)len, 0);
	free(s);
	s = field_of(8193, &len);
	check_verdict("field 8193", s, len, NULL, KEEL_EINVAL, 431);
	free(s);
}

/* Request whose header section (after the request line) is n bytes. */
static char *head_of(size_t n, size_t *len)
{
	const char *rl = "GET / HTTP/1.1\r\n";
	size_t r = strlen(rl), at = r;
	char *s = malloc(r + n);
	memcpy(s, rl, r);
	memcpy(s + at, "Host: a\r\n", 9);
	at += 9;
	size_t left = n - 9 - 2;
	while (left > 0) {
		size_t f = left > 8000 ? 8000 : left;
		if (left - f > 0 && left - f < 6)
			f -= 6;
		memcpy(s + at, "X:", 2);
		memset(s + at + 2, 'v', f - 4);
		memcpy(s + at + f - 2, "\r\n", 2);
		at += f;
		left -= f;
	}
	memcpy(s + at, "\r\n", 2);
	*len = r + n;
	return s;
}

Test(http_parser, head_limit_at_and_past)
{
	size_t len;
	char *s = head_of(32768, &len);
	check_verdict("head 32768", s, len, NULL, (int)len, 0);
	free(s);
	s = head_of(32769, &len);
	check_verdict("head 32769", s, len, NULL, KEEL_EINVAL, 431);
	free(s);
}

/* Request with `n` header fields (Host among them). */
static char *fields_of(size_t n, size_t *len)
{
	char *s = malloc(32 + n * 16);
	size_t at = (size_t)snprintf(s, 32, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 1; i < n; i++)
		at += (size_t)snprintf(s + at, 16, "X%zu: v\r\n", i);
	memcpy(s + at, "\r\n", 2);
	*len = at + 2;
	return s;
}

Test(http_parser, field_count_at_and_past)
{
	size_t len;
	char *s = fields_of(100, &len);
	check_verdict("100 fields", s, len, NULL, (int)len, 0);
	free(s);
	s = fields_of(101, &len);
	check_verdict("101 fields", s, len, NULL, KEEL_EINVAL, 431);
	keel_http_request_t r;
	int st;
	cr_assert_eq(keel_http_parse_request(s, len, NULL, &r, hdrs, 5, &st),
	             KEEL_EINVAL, "the caller's array is a limit too");
	cr_assert_eq(st, 431);
	free(s);
}

Test(http_parser, body_limit_at_and_past)
{
	keel_http_limits_t lim = KEEL_HTTP_LIMITS_DEFAULT;
	lim.max_body = 10;
	const char *at = POST "Content-Length: 10\r\n\r\n";
	check_verdict("at", at, strlen(at), &lim, (int)strlen(at), 0);
	const char *past = POST "Content-Length: 11\r\n\r\n";
	check_verdict("past", past, strlen(past), &lim, KEEL_EINVAL, 413);
}

/* --------------------------------------------------------- scan gate */

Test(http_parser, scan_gate_waits_for_the_end_of_head)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET";
	size_t head = strlen(s) - 3;
	keel_http_scan_t sc = {0};
	for (size_t i = 0; i < head; i++)
		cr_assert_eq(keel_http_scan(&sc, s, i, NULL), KEEL_AGAIN, "%zu",
		             i);
	cr_assert_eq(keel_http_scan(&sc, s, head, NULL), KEEL_OK);
	cr_assert_leq(sc.off, head, "never reads past the head");
	keel_http_scan_t whole = {0};
	cr_assert_eq(keel_http_scan(&whole, s, strlen(s), NULL), KEEL_OK);
	cr_assert_eq(whole.off, head);
}

Test(http_parser, scan_gate_fires_on_limits)
{
	size_t len;
	char *s = line_of(9000, &len);
	keel_http_scan_t sc = {0};
	cr_assert_eq(keel_http_scan(&sc, s, 8191, NULL), KEEL_AGAIN);
	cr_assert_eq(keel_http_scan(&sc, s, 8192, NULL), KEEL_OK);
	free(s);
	s = fields_of(101, &len);
	sc = (keel_http_scan_t){0};
	cr_assert_eq(keel_http_scan(&sc, s, len - 2, NULL), KEEL_OK,
	             "too many fields before the end of the head");
	free(s);
	s = field_of(9000, &len);
	sc = (keel_http_scan_t){0};
	cr_assert_eq(keel_http_scan(&sc, s, 16 + 9 + 8191, NULL), KEEL_AGAIN);
	cr_assert_eq(keel_http_scan(&sc, s, 16 + 9 + 8192, NULL), KEEL_OK);
	free(s);
	s = head_of(40000, &len);
	sc = (keel_http_scan_t){0};
	cr_assert_eq(keel_http_scan(&sc, s, 16 + 32767, NULL), KEEL_AGAIN);
	cr_assert_eq(keel_http_scan(&sc, s, 16 + 32768, NULL), KEEL_OK,
	             "the header section limit spans lines");
	free(s);
}

/* --------------------------------------------------------- tables */

Test(http_parser, status_texts)
{
	cr_assert_str_eq(keel_http_status_text(200), "OK");
	cr_assert_str_eq(keel_http_status_text(404), "Not Found");
	cr_assert_str_eq(keel_http_status_text(413), "Content Too Large");
	cr_assert_str_eq(keel_http_status_text(429), "Too Many Requests");
	cr_assert_str_eq(keel_http_status_text(431),
	                 "Request Header Fields Too Large");
	cr_assert_str_eq(keel_http_status_text(505),
	                 "HTTP Version Not Supported");
	static const int every[] = {100, 101, 200, 201, 202, 203, 204, 205, 206,
	                            300, 301, 302, 303, 304, 305, 307, 308, 400,
	                            401, 402, 403, 404, 405, 406, 407, 408, 409,
	                            410, 411, 412, 413, 414, 415, 416, 417, 421,
	                            422, 426, 500, 501, 502, 503, 504, 505};
	for (size_t i = 0; i < KEEL_COUNTOF(every); i++)
		cr_assert_not_null(keel_http_status_text(every[i]), "%d",
		                   every[i]);
	cr_assert_null(keel_http_status_text(0));
	cr_assert_null(keel_http_status_text(306));
	cr_assert_null(keel_http_status_text(418));
	cr_assert_null(keel_http_status_text(999));
	cr_assert_null(keel_http_status_text(-1));
}

Test(http_parser, method_table_round_trips)
{
	for (int m = KEEL_HTTP_GET; m <= KEEL_HTTP_CONNECT; m++) {
		const char *name = keel_http_method_name((keel_http_method_t)m);
		cr_assert_not_null(name);
		cr_assert_eq(keel_http_method_parse(keel_str_from_cstr(name)),
		             (keel_http_method_t)m);
	}
	cr_assert_null(keel_http_method_name(KEEL_HTTP_UNKNOWN));
	cr_assert_null(keel_http_method_name((keel_http_method_t)99));
	cr_assert_eq(keel_http_method_parse(KEEL_STR("get")),
	             KEEL_HTTP_UNKNOWN);
	cr_assert_eq(keel_http_method_parse(KEEL_STR("GETS")),
	             KEEL_HTTP_UNKNOWN);
	cr_assert_eq(keel_http_method_parse(KEEL_STR("")), KEEL_HTTP_UNKNOWN);
}
