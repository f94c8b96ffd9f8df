/*
 * Redirects: accepted targets set status, Location and an empty body;
 * refused ones (open redirects, header injection, bad statuses) leave the
 * response exactly as it was.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/conn.h"
#include "keel/redirect.h"
#include "keel/res.h"

static keel_res_t *res_new(void)
{
	keel_res_t *res = calloc(1, sizeof(*res));
	cr_assert(res != NULL);
	keel_buf_init(&res->headers, 0);
	keel_buf_init(&res->body, 0);
	res->file_fd = -1;
	res->status = 200;
	return res;
}

static void res_free(keel_res_t *res)
{
	keel__res_deinit(res);
	free(res);
}

static char *location(const keel_res_t *res)
{
	keel_str_t v;
	if (keel_res_header_get(res, "Location", &v) != KEEL_OK)
		return NULL;
	char *s = strndup(v.ptr, v.len);
	s[strcspn(s, "\r\n")] = '\0'; /* whether or not the getter trims */
	return s;
}

static void expect_accepted(bool local, int status, const char *target)
{
	keel_res_t *res = res_new();
	keel_res_write(res, "old body", 8);
	int rc = local ? keel_res_redirect_local(res, status, target)
	               : keel_res_redirect(res, status, target);
	cr_expect_eq(rc, status, "%s refused: %d", target, rc);
	cr_expect_eq(keel_res_get_status(res), status);
	cr_expect_eq(res->body.len, 0);
	char *loc = location(res);
	cr_expect_str_eq(loc, target);
	free(loc);
	res_free(res);
}

static void expect_refused(bool local, int status, const char *target)
{
	keel_res_t *res = res_new();
	keel_res_header(res, "X-Keep", "1");
	keel_res_write(res, "body", 4);
	char *headers = strdup(res->headers.data);
	int rc = local ? keel_res_redirect_local(res, status, target)
	               : keel_res_redirect(res, status, target);
	cr_expect_eq(rc, KEEL_EINVAL, "%d %s accepted", status,
	             target ? target : "(null)");
	cr_expect_eq(keel_res_get_status(res), 200);
	cr_expect_str_eq(res->headers.data, headers);
	cr_expect_eq(res->body.len, 4);
	free(headers);
	res_free(res);
}

Test(redirect, local_paths_are_accepted)
{
	static const char *const ok[] = {
	        "/",
	        "/a/b",
	        "/a/b?c=d&e=f#frag",
	        "/%20x",
	        "/a:b@c!$&'()*+,;=",
	        "/~user/._-",
	        "/?next=/",
	        "/a//b",
	        "/%E2%82%AC",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++)
		expect_accepted(true, 303, ok[i]);
}

Test(redirect, local_refuses_other_sites_and_bad_bytes)
{
	static const char *const bad[] = {
	        "",
	        "a/b",
	        "//evil.example",
	        "//evil.example/x",
	        "/\\evil.example",
	        "\\\\evil.example",
	        "https://example.com/",
	        "javascript:alert(1)",
	        "/a b",
	        "/a\r\nSet-Cookie: x=1",
	        "/a\nb",
	        "/a\tb",
	        "/\x7f",
	        "/\xc3\xa9",
	        "/%zz",
	        "/%2",
	        "/%",
	        "/a\"b",
	        "/<script>",
	        "/a\\b",
	        "/a{b}",
	        "/a|b",
	        NULL,
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		expect_refused(true, 302, bad[i]);
}

Test(redirect, absolute_http_urls_only_through_the_explicit_call)
{
	static const char *const ok[] = {
	        "https://example.com",
	        "https://example.com/",
	        "http://example.com:8080/a?b=c#d",
	        "HTTPS://EXAMPLE.COM/x",
	        "https://[::1]:443/",
	        "http://127.0.0.1/",
	        "https://a-b.example.org?q",
	        "https://example.com#top",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++) {
		expect_accepted(false, 302, ok[i]);
		expect_refused(true, 302, ok[i]);
	}
	expect_accepted(false, 301, "/local/too");
}

Test(redirect, absolute_refuses_tricks)
{
	static const char *const bad[] = {
	        "javascript:alert(1)",
	        "data:text/html,<b>x</b>",
	        "ftp://example.com/",
	        "https://",
	        "https:///path",
	        "https:/example.com",
	        "https:example.com",
	        "//example.com",
	        "https://good.example@evil.example/",
	        "https://good.example:pw@evil.example/",
	        "https://evil.example\\@good.example/",
	        "https://a:0/",
	        "https://a:65536/",
	        "https://a:/",
	        "https://a:x/",
	        "https://a_b.com/",
	        "https://[::1/",
	        "https://[]/",
	        "https://[g::1]/",
	        "https://exa mple.com/",
	        "https://example.com/\r\nX: y",
	        "https://example.com/\xc3\xa9",
	        " https://example.com/",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		expect_refused(false, 302, bad[i]);
}

Test(redirect, only_redirect_statuses)
{
	static const int bad[] = {0, 200, 300, 304, 305, 306, 309, 399, 400};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		expect_refused(true, bad[i], "/");
	static const int ok[] = {301, 302, 303, 307, 308};
	for (size_t i = 0; i < KEEL_COUNTOF(ok); i++) {
		expect_accepted(true, ok[i], "/x");
		expect_accepted(false, ok[i], "https://example.com/x");
	}
}

Test(redirect, replaces_location_and_keeps_other_headers)
{
	keel_res_t *res = res_new();
	cr_assert_eq(keel_res_header(res, "Set-Cookie", "sid=1"), KEEL_OK);
	cr_assert_eq(keel_res_redirect_local(res, 302, "/first"), 302);
	cr_assert_eq(keel_res_redirect_local(res, 303, "/second"), 303);
	cr_expect_str_eq(res->headers.data,
	                 "Set-Cookie: sid=1\r\nLocation: /second\r\n");
	cr_expect_eq(keel_res_get_status(res), 303);
	res_free(res);
}

Test(redirect, drops_a_file_body)
{
	keel_res_t *res = res_new();
	FILE *tmp = tmpfile();
	cr_assert(tmp != NULL);
	int fd = dup(fileno(tmp));
	fclose(tmp);
	cr_assert_eq(keel_res_file(res, fd, 0, 10), KEEL_OK);
	cr_assert_eq(keel_res_redirect_local(res, 307, "/x"), 307);
	cr_expect_eq(res->file_fd, -1);
	res_free(res);
}
