/*
 * The file server: its pure parts (MIME table, ETag lists, Range,
 * Accept-Encoding, HTTP dates, escaping), opening beneath a root, and the
 * handler itself driven with a hand-built request against a temporary
 * folder (no sockets: the connection code is tested by the integration
 * suite).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/conn.h"
#include "http/static_int.h"
#include "keel/static.h"

#define S(lit) keel_str_from_cstr(lit)

/* ------------------------------------------------------------- MIME */

Test(static, mime_types_of_common_extensions)
{
	static const char *const t[][2] = {
	        {"a.html", "text/html; charset=utf-8"},
	        {"a.htm", "text/html; charset=utf-8"},
	        {"a.css", "text/css; charset=utf-8"},
	        {"a.js", "text/javascript; charset=utf-8"},
	        {"a.mjs", "text/javascript; charset=utf-8"},
	        {"a.txt", "text/plain; charset=utf-8"},
	        {"a.json", "application/json"},
	        {"a.svg", "image/svg+xml"},
	        {"a.png", "image/png"},
	        {"a.jpg", "image/jpeg"},
	        {"a.jpeg", "image/jpeg"},
	        {"a.gif", "image/gif"},
	        {"a.webp", "image/webp"},
	        {"a.avif", "image/avif"},
	        {"a.ico", "image/vnd.microsoft.icon"},
	        {"a.woff2", "font/woff2"},
	        {"a.woff", "font/woff"},
	        {"a.wasm", "application/wasm"},
	        {"a.pdf", "application/pdf"},
	        {"a.mp4", "video/mp4"},
	        {"a.webm", "video/webm"},
	        {"a.webmanifest", "application/manifest+json"},
	        {"a.xml", "application/xml"},
	        {"a.zip", "application/zip"},
	        {"a.7z", "application/x-7z-compressed"},
	        {"a.aac", "audio/aac"},
	        {"a.zip", "application/zip"},
	        {"a.xhtml", "application/xhtml+xml"},
	        {"a.vtt", "text/vtt; charset=utf-8"},
	        {"a.tar.gz", "application/gzip"},
	        {"/dir/sub/app.min.JS", "text/javascript; charset=utf-8"},
	        {"INDEX.HTML", "text/html; charset=utf-8"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++)
		cr_expect_str_eq(keel_static_mime_type(S(t[i][0])), t[i][1],
		                 "%s", t[i][0]);
}

Test(static, mime_unknown_and_odd_names_are_octet_stream)
{
	static const char *const t[] = {
	        "README",
	        ".bashrc",
	        "dir.d/file",
	        "a.",
	        "a.unknownext",
	        "a.verylongextensionname",
	        "",
	        "/",
	        "a/.hidden",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t); i++)
		cr_expect_str_eq(keel_static_mime_type(S(t[i])),
		                 "application/octet-stream", "%s", t[i]);
	/* an embedded NUL must not truncate "js\0x" into "js" */
	cr_expect_str_eq(keel_static_mime_type((keel_str_t){"a.js\0x", 6}),
	                 "application/octet-stream");
}

/* ------------------------------------------------------------- ETag */

Test(static, etag_lists_match_weakly)
{
	keel_str_t tag = S("\"abc\"");
	cr_expect(keel_static_etag_match(S("\"abc\""), tag, false));
	cr_expect(keel_static_etag_match(S("W/\"abc\""), tag, false));
	cr_expect(keel_static_etag_match(S("\"x\", W/\"abc\""), tag, false));
	cr_expect(keel_static_etag_match(S(" \"x\" ,, \"abc\" "), tag, false));
	cr_expect(keel_static_etag_match(S("*"), tag, false));
	cr_expect(keel_static_etag_match(S("\"abc\""), S("W/\"abc\""), false));
	cr_expect(!keel_static_etag_match(S("\"abd\""), tag, false));
	cr_expect(!keel_static_etag_match(S("\"ab\""), tag, false));
	cr_expect(!keel_static_etag_match(S(""), tag, false));
	cr_expect(!keel_static_etag_match(S("abc"), tag, false));
}

Test(static, etag_strong_comparison_refuses_weak_tags)
{
	keel_str_t tag = S("\"abc\"");
	cr_expect(keel_static_etag_match(S("\"abc\""), tag, true));
	cr_expect(!keel_static_etag_match(S("W/\"abc\""), tag, true));
	cr_expect(!keel_static_etag_match(S("\"abc\""), S("W/\"abc\""), true));
	cr_expect(keel_static_etag_match(S("*"), tag, true));
}

Test(static, etag_malformed_lists_match_nothing_after_the_fault)
{
	keel_str_t tag = S("\"abc\"");
	cr_expect(!keel_static_etag_match(S("\"abc"), tag, false));
	cr_expect(!keel_static_etag_match(S("junk, \"abc\""), tag, false));
	cr_expect(!keel_static_etag_match(S("\"x\" junk \"abc\""), tag, false));
	cr_expect(!keel_static_etag_match(S("\"a b\", \"abc\""), tag, false));
	cr_expect(!keel_static_etag_match(S("w/\"abc\""), tag, false));
	cr_expect(!keel_static_etag_match(S("**"), tag, false));
	/* a match before the fault still counts */
	cr_expect(keel_static_etag_match(S("\"abc\", junk"), tag, false));
	/* our own tag must be well-formed too */
	cr_expect(!keel_static_etag_match(S("*"), S("abc"), false));
}

/* ------------------------------------------------------------- Range */

static int range(const char *v, uint64_t size, uint64_t *first, uint64_t *len)
{
	*first = *len = 12345;
	return keel_static_range_parse(S(v), size, first, len);
}

Test(static, range_single_forms)
{
	uint64_t f, l;
	cr_assert_eq(range("bytes=0-0", 10, &f, &l), 0);
	cr_expect(f == 0 && l == 1);
	cr_assert_eq(range("bytes=2-5", 10, &f, &l), 0);
	cr_expect(f == 2 && l == 4);
	cr_assert_eq(range("bytes=7-", 10, &f, &l), 0);
	cr_expect(f == 7 && l == 3);
	cr_assert_eq(range("bytes=-3", 10, &f, &l), 0);
	cr_expect(f == 7 && l == 3);
	cr_assert_eq(range("bytes=-30", 10, &f, &l), 0); /* whole file */
	cr_expect(f == 0 && l == 10);
	cr_assert_eq(range("bytes=5-100", 10, &f, &l), 0); /* clamped */
	cr_expect(f == 5 && l == 5);
	cr_assert_eq(range("Bytes=1-1", 10, &f, &l), 0);
	cr_expect(f == 1 && l == 1);
	cr_assert_eq(range("bytes= 1-2 ,", 10, &f, &l), 0);
	cr_expect(f == 1 && l == 2);
	cr_assert_eq(range("bytes=0-99999999999999999999999", 10, &f, &l), 0);
	cr_expect(f == 0 && l == 10);
}

Test(static, range_unsatisfiable_is_erange)
{
	uint64_t f, l;
	cr_expect_eq(range("bytes=10-", 10, &f, &l), KEEL_ERANGE);
	cr_expect_eq(range("bytes=10-20", 10, &f, &l), KEEL_ERANGE);
	cr_expect_eq(range("bytes=-0", 10, &f, &l), KEEL_ERANGE);
	cr_expect_eq(range("bytes=99999999999999999999999-", 10, &f, &l),
	             KEEL_ERANGE);
	cr_expect_eq(range("bytes=20-30, 40-", 10, &f, &l), KEEL_ERANGE);
	cr_expect(f == 12345 && l == 12345, "outputs untouched on failure");
}

Test(static, range_ignored_when_malformed_or_multiple)
{
	static const char *const bad[] = {
	        "bytes=5-2",        "bytes=a-b",      "bytes=1",
	        "bytes=",           "bytes=,",        "bytes=--1",
	        "bytes=+1-2",       "bytes=1-2-3",    "items=0-1",
	        "bytes 0-1",        "bytes0-1",       "",
	        "bytes=0x1-2",      "bytes=1 -2",     "bytes=0-1,2-3",
	        "bytes=0-1, 20-30", "bytes=0-1,junk",
	};
	uint64_t f, l;
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_expect_eq(range(bad[i], 10, &f, &l), KEEL_ENOENT, "%s",
		             bad[i]);
	/* an empty file is always sent whole */
	cr_expect_eq(range("bytes=0-", 0, &f, &l), KEEL_ENOENT);
	cr_expect_eq(range("bytes=-5", 0, &f, &l), KEEL_ENOENT);
}

/* --------------------------------------------------- Accept-Encoding */

Test(static, accept_encoding_q_values)
{
	keel_str_t gz = S("gzip");
	cr_expect_eq(keel_static_accept_q(S("gzip"), gz), 1000);
	cr_expect_eq(keel_static_accept_q(S("gzip, deflate, br"), gz), 1000);
	cr_expect_eq(keel_static_accept_q(S("br;q=1.0, gzip;q=0.8"), gz), 800);
	cr_expect_eq(keel_static_accept_q(S("gzip;q=0"), gz), 0);
	cr_expect_eq(keel_static_accept_q(S("gzip;q=0.000"), gz), 0);
	cr_expect_eq(keel_static_accept_q(S("gzip;q=0.001"), gz), 1);
	cr_expect_eq(keel_static_accept_q(S("GZIP ; Q=0.5"), gz), 500);
	cr_expect_eq(keel_static_accept_q(S("x-gzip;q=0.3"), gz), 300);
	cr_expect_eq(keel_static_accept_q(S("gzip;level=9;q=0.7"), gz), 700);
	cr_expect_eq(keel_static_accept_q(S("*;q=0.2"), gz), 200);
	cr_expect_eq(keel_static_accept_q(S("*;q=0.2, gzip"), gz), 1000);
	cr_expect_eq(keel_static_accept_q(S("*, gzip;q=0"), gz), 0);
	cr_expect_eq(keel_static_accept_q(S("deflate, br"), gz), KEEL_ENOENT);
	cr_expect_eq(keel_static_accept_q(S(""), gz), KEEL_ENOENT);
	cr_expect_eq(keel_static_accept_q(S("gzipx, xgzip"), gz), KEEL_ENOENT);
	cr_expect_eq(keel_static_accept_q(S("identity;q=0.5"), S("identity")),
	             500);
}

Test(static, accept_encoding_malformed_q_counts_as_zero)
{
	static const char *const bad[] = {
	        "gzip;q=",       "gzip;q=1.5", "gzip;q=2",
	        "gzip;q=0.1234", "gzip;q=abc", "gzip;q=.5",
	        "gzip;q=1.001",  "gzip;q=-1",  "gzip;q=0,5",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_expect_eq(keel_static_accept_q(S(bad[i]), S("gzip")), 0,
		             "%s", bad[i]);
	cr_expect_eq(keel_static_accept_q(S("gzip;q=1.000"), S("gzip")), 1000);
}

/* ------------------------------------------------------------- dates */

Test(static, dates_in_all_three_forms)
{
	static const char *const forms[] = {
	        "Sun, 06 Nov 1994 08:49:37 GMT",
	        "Sunday, 06-Nov-94 08:49:37 GMT",
	        "Sun Nov  6 08:49:37 1994",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(forms); i++) {
		int64_t t = 0;
		cr_expect_eq(keel_static_date_parse(S(forms[i]), &t), 0, "%s",
		             forms[i]);
		cr_expect_eq(t, 784111777, "%s", forms[i]);
	}
	int64_t t;
	cr_assert_eq(
	        keel_static_date_parse(S("Thu, 01 Jan 1970 00:00:00 GMT"), &t),
	        0);
	cr_expect_eq(t, 0);
	cr_assert_eq(
	        keel_static_date_parse(S("Tue, 29 Feb 2000 12:00:00 GMT"), &t),
	        0);
	cr_expect_eq(t, 951825600);
	cr_assert_eq(keel_static_date_parse(S("Thu Feb 29 00:00:00 2024"), &t),
	             0);
	cr_expect_eq(t, 1709164800);
}

Test(static, dates_malformed_are_refused)
{
	static const char *const bad[] = {
	        "",
	        "Sun, 06 Nov 1994 08:49:37",
	        "Sun, 06 Nov 1994 08:49:37 UTC",
	        "Sun, 06 Nov 1994 08:49:37 GMT ",
	        "Sun, 6 Nov 1994 08:49:37 GMT",
	        "Sun, 06 nov 1994 08:49:37 GMT",
	        "Sun, 06 Nov 94 08:49:37 GMT",
	        "Xyz, 06 Nov 1994 08:49:37 GMT",
	        "Sun, 31 Nov 1994 08:49:37 GMT",
	        "Sun, 29 Feb 1900 08:49:37 GMT",
	        "Sun, 00 Nov 1994 08:49:37 GMT",
	        "Sun, 06 Nov 1994 24:00:00 GMT",
	        "Sun, 06 Nov 1994 08:60:00 GMT",
	        "Sun, 06 Nov 1994 8:49:37 GMT",
	        "Sun,06 Nov 1994 08:49:37 GMT",
	        "Sunday, 06-Nov-1994 08:49:37 GMT",
	        "Sun Nov 6 08:49:37 1994",
	        "1994-11-06T08:49:37Z",
	        "784111777",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		int64_t t = 42;
		cr_expect_eq(keel_static_date_parse(S(bad[i]), &t), KEEL_EINVAL,
		             "%s", bad[i]);
		cr_expect_eq(t, 42);
	}
}

Test(static, date_format_round_trips)
{
	char buf[KEEL_STATIC_DATE_LEN + 1];
	cr_assert_eq(keel_static_date_format(784111777, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	for (int64_t t = 0; t < INT64_C(4000000000); t += 97654321) {
		int64_t back;
		cr_assert_eq(keel_static_date_format(t, buf, sizeof(buf)), 0);
		cr_assert_eq(keel_static_date_parse(S(buf), &back), 0, "%s",
		             buf);
		cr_assert_eq(back, t, "%s", buf);
	}
	cr_expect_eq(keel_static_date_format(0, buf, KEEL_STATIC_DATE_LEN),
	             KEEL_ENOMEM);
	cr_expect_eq(keel_static_date_format(-1, buf, sizeof(buf)),
	             KEEL_ERANGE);
	cr_expect_eq(keel_static_date_format(INT64_C(253402300800), buf,
	                                     sizeof(buf)),
	             KEEL_ERANGE);
}

/* ---------------------------------------------------------- escaping */

Test(static, escaping_for_urls_and_html)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	cr_assert_eq(
	        keel__static_url_encode(&b, S("a b/c?d#e%\"<\xc3\xa9"), true),
	        0);
	cr_expect_str_eq(b.data, "a%20b/c%3Fd%23e%25%22%3C%C3%A9");
	keel_buf_reset(&b);
	keel__static_url_encode(&b, S("x/y:z"), false);
	cr_expect_str_eq(b.data, "x%2Fy%3Az");
	keel_buf_reset(&b);
	keel__static_html_escape(&b, S("<a href='x'>&\"</a>"));
	cr_expect_str_eq(b.data,
	                 "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	keel_buf_deinit(&b);
}

/* ------------------------------------------------ a temporary root */

typedef struct tree {
	char root[64];
	char outside[96];
} tree_t;

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
}

/*
 * root/: hello.txt, a.css (+ a.css.gz), sub/index.html, empty/, .env,
 * .well-known/x.txt, in -> hello.txt, out -> the file outside the root,
 * updir -> "..", fifo; and `outside` next to root.
 */
static void tree_make(tree_t *t)
{
	char path[512];
	snprintf(t->root, sizeof(t->root), "/tmp/keel_static_XXXXXX");
	cr_assert(mkdtemp(t->root) != NULL);
	snprintf(t->outside, sizeof(t->outside), "%s.outside", t->root);
	put_file("/", t->outside + 1, "top secret\n");
	put_file(t->root, "hello.txt", "hello world\n");
	put_file(t->root, "a.css", "body { color: red }\n");
	put_file(t->root, "a.css.gz", "GZ-BYTES");
	put_file(t->root, ".env", "PASSWORD=x\n");
	snprintf(path, sizeof(path), "%s/sub", t->root);
	cr_assert_eq(mkdir(path, 0755), 0);
	put_file(path, "index.html", "<p>index</p>\n");
	snprintf(path, sizeof(path), "%s/empty", t->root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.well-known", t->root);
	cr_assert_eq(mkdir(path, 0755), 0);
	put_file(path, "x.txt", "known\n");
	snprintf(path, sizeof(path), "%s/in", t->root);
	cr_assert_eq(symlink("hello.txt", path), 0);
	snprintf(path, sizeof(path), "%s/out", t->root);
	cr_assert_eq(symlink(t->outside, path), 0);
	snprintf(path, sizeof(path), "%s/updir", t->root);
	cr_assert_eq(symlink("..", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", t->root);
	cr_assert_eq(mkfifo(path, 0644), 0);
}

static void tree_remove(tree_t *t)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", t->root, t->outside);
	cr_expect_eq(system(cmd), 0);
}

static int root_fd(const tree_t *t)
{
	int fd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0);
	return fd;
}

/* Open through the helper and read the start of what was opened. */
static int open_read(int dir, const char *rel, bool o2, char *buf, size_t cap)
{
	int fd = keel__static_open(dir, rel, O_RDONLY, o2);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

static void check_beneath(bool o2)
{
	tree_t t;
	tree_make(&t);
	int dir = root_fd(&t);
	char buf[64];
	cr_expect_eq(open_read(dir, "hello.txt", o2, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "hello world\n");
	cr_expect_eq(open_read(dir, "sub//index.html", o2, buf, sizeof(buf)),
	             0);
	cr_expect_str_eq(buf, "<p>index</p>\n");
	cr_expect_neq(open_read(dir, "out", o2, buf, sizeof(buf)), 0);
	cr_expect_neq(open_read(dir, "updir/hello.txt", o2, buf, sizeof(buf)),
	              0);
	cr_expect_neq(open_read(dir, "../x", o2, buf, sizeof(buf)), 0);
	cr_expect_eq(open_read(dir, "/etc/passwd", o2, buf, sizeof(buf)),
	             -EXDEV);
	cr_expect_eq(open_read(dir, "hello.txt/", o2, buf, sizeof(buf)),
	             -ENOTDIR);
	cr_expect_eq(open_read(dir, "nope", o2, buf, sizeof(buf)), -ENOENT);
	/* a FIFO opens without blocking (O_NONBLOCK), to be refused later */
	int fd = keel__static_open(dir, "fifo", O_RDONLY, o2);
	cr_expect(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = keel__static_open(dir, "", O_RDONLY, o2);
	cr_expect(fd >= 0, "the root itself");
	if (fd >= 0)
		close(fd);
	close(dir);
	tree_remove(&t);
}

Test(static, open_beneath_with_openat2)
{
	tree_t t;
	tree_make(&t);
	int dir = root_fd(&t);
	bool have = keel__static_has_openat2(dir);
	char buf[64];
	if (have) {
		/* symlinks that stay inside are followed */
		cr_expect_eq(open_read(dir, "in", true, buf, sizeof(buf)), 0);
		cr_expect_str_eq(buf, "hello world\n");
	}
	close(dir);
	tree_remove(&t);
	if (have)
		check_beneath(true);
}

Test(static, open_beneath_by_walking_refuses_every_symlink)
{
	check_beneath(false);
	tree_t t;
	tree_make(&t);
	int dir = root_fd(&t);
	char buf[64];
	cr_expect_eq(open_read(dir, "in", false, buf, sizeof(buf)), -ELOOP);
	cr_expect_neq(
	        open_read(dir, "sub/../hello.txt", false, buf, sizeof(buf)), 0);
	close(dir);
	tree_remove(&t);
}

/* ------------------------------------------- the handler, no sockets */

typedef struct fake {
	keel_req_t req;
	keel_res_t res;
	keel_http_header_t hdrs[8];
} fake_t;

static fake_t *fake_new(keel_http_method_t m, const char *path)
{
	fake_t *f = calloc(1, sizeof(*f));
	cr_assert(f != NULL);
	f->req.head.method = m;
	f->req.head.headers = f->hdrs;
	f->req.path = S(path);
	keel_arena_init(&f->req.arena, 0, 0);
	keel_buf_init(&f->res.headers, 0);
	keel_buf_init(&f->res.body, 0);
	f->res.file_fd = -1;
	f->res.status = 200;
	return f;
}

static void fake_header(fake_t *f, const char *name, const char *value)
{
	cr_assert(f->req.head.header_count < KEEL_COUNTOF(f->hdrs));
	f->hdrs[f->req.head.header_count++] =
	        (keel_http_header_t){S(name), S(value)};
}

static void fake_free(fake_t *f)
{
	keel__res_deinit(&f->res);
	keel_arena_deinit(&f->req.arena);
	free(f);
}

/* Value of response header `name` as a new string, or NULL. */
static char *res_header(const fake_t *f, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "%s: ", name);
	const char *h = f->res.headers.data;
	for (const char *p = h; (p = strstr(p, key)); p++) {
		if (p != h && p[-1] != '\n')
			continue;
		p += strlen(key);
		return strndup(p, strcspn(p, "\r"));
	}
	return NULL;
}

static void expect_header(const fake_t *f, const char *name, const char *v)
{
	char *got = res_header(f, name);
	cr_expect(got != NULL, "header %s missing", name);
	if (got && v)
		cr_expect_str_eq(got, v, "header %s", name);
	free(got);
}

static void expect_no_header(const fake_t *f, const char *name)
{
	char *got = res_header(f, name);
	cr_expect(got == NULL, "header %s present: %s", name, got);
	free(got);
}

/* Run one request against a mount of `t` at /files. */
static int serve(keel_static_t *st, fake_t *f)
{
	return keel_static_handle(st, &f->req, &f->res);
}

static keel_static_t *mount(const tree_t *t, bool listing)
{
	keel_static_opts_t o;
	keel_static_opts_init(&o);
	o.listing = listing;
	o.max_age = 60;
	keel_static_t *st = keel_static_new(t->root, "/files/", &o);
	cr_assert(st != NULL);
	return st;
}

Test(static, handler_serves_a_file_with_validators)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/hello.txt");
	cr_expect_eq(serve(st, f), 200);
	cr_expect(f->res.file_fd >= 0);
	cr_expect_eq(f->res.file_off, 0);
	cr_expect_eq(f->res.file_len, 12);
	expect_header(f, "Content-Type", "text/plain; charset=utf-8");
	expect_header(f, "X-Content-Type-Options", "nosniff");
	expect_header(f, "Cache-Control", "public, max-age=60");
	expect_header(f, "Accept-Ranges", "bytes");
	expect_header(f, "Last-Modified", NULL);
	char *etag = res_header(f, "ETag");
	cr_assert(etag != NULL);
	cr_expect(etag[0] == '"' && etag[strlen(etag) - 1] == '"', "%s", etag);
	expect_no_header(f, "Vary");
	free(etag);
	char buf[32] = {0};
	cr_expect_eq(pread(f->res.file_fd, buf, sizeof(buf) - 1, 0), 12);
	cr_expect_str_eq(buf, "hello world\n");
	fake_free(f);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_passes_other_paths_on_and_refuses_other_methods)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	static const char *const other[] = {"/", "/file", "/files2/hello.txt",
	                                    "*", "/other/files/hello.txt"};
	for (size_t i = 0; i < KEEL_COUNTOF(other); i++) {
		fake_t *f = fake_new(KEEL_HTTP_GET, other[i]);
		cr_expect_eq(serve(st, f), KEEL_NEXT, "%s", other[i]);
		cr_expect_eq(f->res.headers.len, 0);
		fake_free(f);
	}
	fake_t *f = fake_new(KEEL_HTTP_POST, "/files/hello.txt");
	cr_expect_eq(serve(st, f), 405);
	expect_header(f, "Allow", "GET, HEAD");
	cr_expect_eq(f->res.file_fd, -1);
	fake_free(f);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_refuses_escapes_dotfiles_and_special_files)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, true);
	static const char *const no[] = {
	        "/files/out",  "/files/updir/hello.txt", "/files/.env",
	        "/files/fifo", "/files/missing",         "/files/hello.txt/",
	        "/files//out",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(no); i++) {
		fake_t *f = fake_new(KEEL_HTTP_GET, no[i]);
		cr_expect_eq(serve(st, f), 404, "%s", no[i]);
		cr_expect_eq(f->res.file_fd, -1, "%s", no[i]);
		cr_expect(strstr(f->res.body.data, "secret") == NULL);
		fake_free(f);
	}
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/.well-known/x.txt");
	cr_expect_eq(serve(st, f), 200);
	fake_free(f);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_conditional_requests)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/hello.txt");
	cr_assert_eq(serve(st, f), 200);
	char *etag = res_header(f, "ETag");
	char *lm = res_header(f, "Last-Modified");
	fake_free(f);
	cr_assert(etag && lm);
	char weak[80];
	snprintf(weak, sizeof(weak), "\"zz\", W/%s", etag);
	const struct {
		const char *name, *value;
		int status;
	} t2[] = {
	        {"If-None-Match", etag, 304},
	        {"If-None-Match", weak, 304},
	        {"If-None-Match", "*", 304},
	        {"If-None-Match", "\"other\"", 200},
	        {"If-Modified-Since", lm, 304},
	        {"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT", 200},
	        {"If-Modified-Since", "garbage", 200},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(t2); i++) {
		f = fake_new(KEEL_HTTP_GET, "/files/hello.txt");
		fake_header(f, t2[i].name, t2[i].value);
		cr_expect_eq(serve(st, f), t2[i].status, "%s: %s", t2[i].name,
		             t2[i].value);
		if (t2[i].status == 304) {
			cr_expect_eq(f->res.file_fd, -1);
			expect_header(f, "ETag", etag);
		}
		fake_free(f);
	}
	/* If-None-Match takes precedence over If-Modified-Since */
	f = fake_new(KEEL_HTTP_GET, "/files/hello.txt");
	fake_header(f, "If-None-Match", "\"other\"");
	fake_header(f, "If-Modified-Since", lm);
	cr_expect_eq(serve(st, f), 200);
	fake_free(f);
	free(etag);
	free(lm);
	keel_static_free(st);
	tree_remove(&t);
}

static int ranged(keel_static_t *st, keel_http_method_t m, const char *range,
                  const char *if_range, fake_t **out)
{
	fake_t *f = fake_new(m, "/files/hello.txt");
	fake_header(f, "Range", range);
	if (if_range)
		fake_header(f, "If-Range", if_range);
	*out = f;
	return serve(st, f);
}

Test(static, handler_ranges)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	fake_t *f;
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4", NULL, &f), 206);
	expect_header(f, "Content-Range", "bytes 2-4/12");
	cr_expect(f->res.file_off == 2 && f->res.file_len == 3);
	char *etag = res_header(f, "ETag");
	char *lm = res_header(f, "Last-Modified");
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=-5", NULL, &f), 206);
	expect_header(f, "Content-Range", "bytes 7-11/12");
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=12-", NULL, &f), 416);
	expect_header(f, "Content-Range", "bytes */12");
	cr_expect_eq(f->res.file_fd, -1);
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=0-1,3-4", NULL, &f), 200);
	cr_expect_eq(f->res.file_len, 12);
	expect_no_header(f, "Content-Range");
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_HEAD, "bytes=2-4", NULL, &f), 200);
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4", etag, &f), 206);
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4", lm, &f), 206);
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4", "\"stale\"", &f),
	             200);
	fake_free(f);
	char weak[80];
	snprintf(weak, sizeof(weak), "W/%s", etag);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4", weak, &f), 200);
	fake_free(f);
	cr_expect_eq(ranged(st, KEEL_HTTP_GET, "bytes=2-4",
	                    "Sat, 01 Jan 2000 00:00:00 GMT", &f),
	             200);
	fake_free(f);
	free(etag);
	free(lm);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_precompressed_gzip)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/a.css");
	fake_header(f, "Accept-Encoding", "br, gzip;q=0.9");
	cr_expect_eq(serve(st, f), 200);
	expect_header(f, "Content-Encoding", "gzip");
	expect_header(f, "Vary", "Accept-Encoding");
	expect_header(f, "Content-Type", "text/css; charset=utf-8");
	cr_expect_eq(f->res.file_len, 8);
	char *gz_etag = res_header(f, "ETag");
	fake_free(f);
	static const char *const plain[] = {"gzip;q=0", "br", "",
	                                    "gzip;q=0.5, identity"};
	for (size_t i = 0; i < KEEL_COUNTOF(plain); i++) {
		f = fake_new(KEEL_HTTP_GET, "/files/a.css");
		if (plain[i][0])
			fake_header(f, "Accept-Encoding", plain[i]);
		cr_expect_eq(serve(st, f), 200);
		expect_no_header(f, "Content-Encoding");
		expect_header(f, "Vary", "Accept-Encoding");
		cr_expect_eq(f->res.file_len, 20, "%s", plain[i]);
		char *etag = res_header(f, "ETag");
		cr_expect(etag && gz_etag && strcmp(etag, gz_etag) != 0);
		free(etag);
		fake_free(f);
	}
	free(gz_etag);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_directories)
{
	tree_t t;
	tree_make(&t);
	keel_static_t *st = mount(&t, false);
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/sub");
	f->req.head.query = S("a=1");
	cr_expect_eq(serve(st, f), 301);
	expect_header(f, "Location", "/files/sub/?a=1");
	fake_free(f);
	f = fake_new(KEEL_HTTP_GET, "/files");
	cr_expect_eq(serve(st, f), 301);
	expect_header(f, "Location", "/files/");
	fake_free(f);
	f = fake_new(KEEL_HTTP_GET, "/files/sub/");
	cr_expect_eq(serve(st, f), 200);
	expect_header(f, "Content-Type", "text/html; charset=utf-8");
	cr_expect_eq(f->res.file_len, 13);
	fake_free(f);
	f = fake_new(KEEL_HTTP_GET, "/files/empty/");
	cr_expect_eq(serve(st, f), 404, "no index, no listing");
	fake_free(f);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, handler_listing_escapes_names)
{
	tree_t t;
	tree_make(&t);
	char path[256];
	snprintf(path, sizeof(path), "%s/empty", t.root);
	put_file(path, "<b>&\"x'.txt", "x");
	put_file(path, ".hidden", "x");
	keel_static_t *st = mount(&t, true);
	fake_t *f = fake_new(KEEL_HTTP_GET, "/files/empty/");
	cr_assert_eq(serve(st, f), 200);
	const char *body = f->res.body.data;
	cr_expect(strstr(body, "&lt;b&gt;&amp;&quot;x&#39;.txt") != NULL, "%s",
	          body);
	cr_expect(strstr(body, "href=\"%3Cb%3E%26%22x%27.txt\"") != NULL, "%s",
	          body);
	cr_expect(strstr(body, "<b>") == NULL);
	cr_expect(strstr(body, "hidden") == NULL);
	cr_expect(strstr(body, "href=\"../\"") != NULL);
	fake_free(f);
	keel_static_free(st);
	tree_remove(&t);
}

Test(static, new_refuses_bad_arguments)
{
	tree_t t;
	tree_make(&t);
	keel_static_opts_t o;
	keel_static_opts_init(&o);
	errno = 0;
	cr_expect_null(keel_static_new("/nonexistent/keel", "/", NULL));
	cr_expect_eq(errno, ENOENT);
	cr_expect_null(keel_static_new(t.root, "static", NULL));
	cr_expect_eq(errno, EINVAL);
	char file[128];
	snprintf(file, sizeof(file), "%s/hello.txt", t.root);
	cr_expect_null(keel_static_new(file, "/", NULL));
	cr_expect_eq(errno, ENOTDIR);
	o.index = "a/index.html";
	cr_expect_null(keel_static_new(t.root, "/", &o));
	keel_static_t *st = keel_static_new(t.root, NULL, NULL);
	cr_assert_not_null(st);
	fake_t *f = fake_new(KEEL_HTTP_HEAD, "/hello.txt");
	cr_expect_eq(serve(st, f), 200);
	expect_header(f, "Cache-Control", "no-cache");
	fake_free(f);
	keel_static_free(st);
	keel_static_free(NULL);
	tree_remove(&t);
}
