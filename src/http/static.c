/*
 * The file server: from a request under the mount's prefix to a file
 * beneath its root, answered with validators, conditional and range
 * handling, and a body the connection sends with sendfile(2).  The order
 * of decisions follows RFC 9110 13.2.2: find the representation (index
 * file, gzip variant), then If-None-Match / If-Modified-Since (304), then
 * If-Range and Range (206 / 416), else the whole file (200).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keel/static.h"
#include "static_int.h"

struct keel_static {
	int root_fd; /* O_PATH descriptor of the root directory */
	bool openat2;
	char *prefix; /* without trailing '/'; "" mounts at the root */
	size_t prefix_len;
	char *index; /* NULL: no index file */
	bool gzip, listing, dotfiles;
	char cache_control[48]; /* "" when none is sent */
};

/* The representation a request resolved to. */
typedef struct file {
	int fd;
	struct stat st;
	const char *rel; /* path beneath the root, NUL-terminated */
	bool gzip;       /* fd is the precompressed sibling */
	bool vary;       /* a precompressed sibling exists */
	char etag[64];
	char modified[KEEL_STATIC_DATE_LEN + 1];
} file_t;

void keel_static_opts_init(keel_static_opts_t *opts)
{
	*opts = (keel_static_opts_t){
	        .max_age = 0,
	        .index = "index.html",
	        .gzip = true,
	};
}

static void cache_control_init(keel_static_t *st, int64_t max_age)
{
	if (max_age > 0)
		snprintf(st->cache_control, sizeof(st->cache_control),
		         "public, max-age=%lld", (long long)max_age);
	else if (max_age == 0)
		snprintf(st->cache_control, sizeof(st->cache_control),
		         "no-cache");
}

/* What keel_static_new keeps of its arguments; 0 or an errno value. */
static int mount_init(keel_static_t *st, const char *root, const char *prefix,
                      const keel_static_opts_t *o)
{
	size_t plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	st->prefix = strndup(prefix, plen);
	st->prefix_len = plen;
	if (o->index && *o->index) {
		if (strchr(o->index, '/'))
			return EINVAL;
		st->index = strdup(o->index);
		if (!st->index)
			return ENOMEM;
	}
	if (!st->prefix)
		return ENOMEM;
	st->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0)
		return errno;
	st->openat2 = keel__static_has_openat2(st->root_fd);
	st->gzip = o->gzip;
	st->listing = o->listing;
	st->dotfiles = o->dotfiles;
	cache_control_init(st, o->max_age);
	return 0;
}

keel_static_t *keel_static_new(const char *root_dir, const char *url_prefix,
                               const keel_static_opts_t *opts)
{
	keel_static_opts_t defaults;
	const char *prefix = url_prefix ? url_prefix : "";
	if (!root_dir || (prefix[0] && prefix[0] != '/')) {
		errno = EINVAL;
		return NULL;
	}
	if (!opts) {
		keel_static_opts_init(&defaults);
		opts = &defaults;
	}
	keel_static_t *st = calloc(1, sizeof(*st));
	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->root_fd = -1;
	int err = mount_init(st, root_dir, prefix, opts);
	if (err) {
		keel_static_free(st);
		errno = err;
		return NULL;
	}
	return st;
}

void keel_static_free(keel_static_t *st)
{
	if (!st)
		return;
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->prefix);
	free(st->index);
	free(st);
}

/* ------------------------------------------------------ request -> path */

/* The path below the prefix, without leading '/'s; false when the
 * request is not for this mount ("/static2" is not under "/static"). */
static bool under_prefix(const keel_static_t *st, keel_str_t path,
                         keel_str_t *rel)
{
	keel_str_t pre = {st->prefix, st->prefix_len};
	if (!keel_str_has_prefix(path, pre))
		return false;
	keel_str_t rest = keel_str_sub(path, pre.len, path.len);
	if (rest.len == 0 ? pre.len == 0 : rest.ptr[0] != '/')
		return false;
	while (rest.len > 0 && rest.ptr[0] == '/')
		rest = keel_str_sub(rest, 1, rest.len); /* "//a" is "/a" */
	*rel = rest;
	return true;
}

/*
 * Dotfiles (.git, .env, .htpasswd) are where secrets sit in a deployed
 * folder, so they are hidden unless the mount opts in; ".well-known" is
 * public by definition (RFC 8615).
 */
static bool hidden(const keel_static_t *st, keel_str_t rel)
{
	if (st->dotfiles)
		return false;
	while (rel.len > 0) {
		keel_str_t seg = keel_str_cut(&rel, '/');
		if (seg.len > 0 && seg.ptr[0] == '.' &&
		    !keel_str_eq(seg, KEEL_STR(".well-known")))
			return true;
	}
	return false;
}

/* a + b as a C string in the request's arena; NULL also for a NUL byte. */
static char *concat(keel_req_t *req, keel_str_t a, const char *b)
{
	size_t blen = strlen(b);
	if (memchr(a.ptr, '\0', a.len))
		return NULL;
	char *s = keel_arena_alloc(keel_req_arena(req), a.len + blen + 1);
	if (!s)
		return NULL;
	memcpy(s, a.ptr, a.len);
	memcpy(s + a.len, b, blen + 1);
	return s;
}

/* Failed opens: escapes and misses look the same (404), so a probe
 * learns nothing about what lies outside the root. */
static int open_status(int err)
{
	switch (err) {
	case EACCES:
	case EPERM: return 403;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EAGAIN: return 503;
	case EIO: return 500;
	default: return 404;
	}
}

static int fail(keel_res_t *res, int status)
{
	const char *text = keel_http_status_text(status);
	return keel_res_error(res, status, text ? text : "error");
}

/* Open `rel` beneath the root as a regular file or directory into *f. */
static int open_rel(keel_static_t *st, file_t *f, const char *rel)
{
	f->fd = keel__static_open(st->root_fd, rel, O_RDONLY, st->openat2);
	if (f->fd < 0)
		return open_status(errno);
	if (fstat(f->fd, &f->st) < 0 ||
	    !(S_ISREG(f->st.st_mode) || S_ISDIR(f->st.st_mode))) {
		close(f->fd);
		f->fd = -1;
		return 404;
	}
	f->rel = rel;
	return 0;
}

/*
 * A directory URL without its trailing '/' would break every relative
 * link in its index page, so it is redirected.  The Location is the
 * decoded path encoded again, so names with '?', '#' or spaces survive.
 */
static int redirect_slash(keel_req_t *req, keel_res_t *res)
{
	keel_str_t path = keel_req_path(req), query = keel_req_query(req);
	if (path.len >= 2 && path.ptr[1] == '/')
		return fail(res, 404); /* "//host" would leave the site */
	keel_buf_t loc;
	keel_buf_init(&loc, 16384);
	int rc = keel__static_url_encode(&loc, path, true);
	if (rc == 0)
		rc = keel_buf_append_char(&loc, '/');
	if (rc == 0 && query.len > 0)
		rc = keel_buf_appendf(&loc, "?%.*s", KEEL_STR_FMT(query));
	keel_res_error(res, 301, "moved permanently");
	if (rc == 0)
		rc = keel_res_header_str(res, KEEL_STR("Location"),
		                         (keel_str_t){loc.data, loc.len});
	keel_buf_deinit(&loc);
	return rc == 0 ? 301 : fail(res, 500);
}

/* A directory: redirect, its index file, a listing, or 404. */
static int open_dir(keel_static_t *st, keel_req_t *req, keel_res_t *res,
                    file_t *f, keel_str_t rel)
{
	keel_str_t path = keel_req_path(req);
	int dir = f->fd;
	f->fd = -1;
	if (path.ptr[path.len - 1] != '/') {
		close(dir);
		return redirect_slash(req, res);
	}
	const char *index = st->index ? concat(req, rel, st->index) : NULL;
	if (index && open_rel(st, f, index) == 0) {
		if (S_ISREG(f->st.st_mode)) {
			close(dir);
			return 0;
		}
		close(f->fd);
		f->fd = -1;
	}
	int status = st->listing ? keel__static_list(req, res, dir, path,
	                                             st->dotfiles)
	                         : fail(res, 404);
	close(dir);
	return status;
}

/* Resolve the request to an open regular file in *f, or answer it. */
static int resolve(keel_static_t *st, keel_req_t *req, keel_res_t *res,
                   file_t *f, keel_str_t rel)
{
	const char *crel = concat(req, rel, "");
	if (!crel)
		return fail(res, 404);
	int status = open_rel(st, f, crel);
	if (status)
		return fail(res, status);
	if (S_ISDIR(f->st.st_mode))
		return open_dir(st, req, res, f, rel);
	return 0;
}

/* ------------------------------------------------- file -> response */

/*
 * gzip wins only when the client gives it a weight above zero and no
 * lower than the one it gives identity ("gzip;q=0.5, identity" keeps the
 * plain file).  Every response of a file that has a .gz sibling varies
 * by Accept-Encoding, the plain one too, or a cache would hand the gzip
 * bytes to a client that cannot read them.
 */
static bool accepts_gzip(keel_req_t *req)
{
	keel_str_t ae;
	if (keel_req_header(req, "Accept-Encoding", &ae) < 0)
		return false;
	int gz = keel_static_accept_q(ae, KEEL_STR("gzip"));
	int id = keel_static_accept_q(ae, KEEL_STR("identity"));
	return gz > 0 && gz >= id;
}

static void pick_encoding(keel_static_t *st, keel_req_t *req, file_t *f)
{
	char *gz = st->gzip ? concat(req, keel_str_from_cstr(f->rel), ".gz")
	                    : NULL;
	file_t g = {.fd = -1};
	if (!gz || open_rel(st, &g, gz) != 0)
		return;
	f->vary = S_ISREG(g.st.st_mode);
	if (!f->vary || !accepts_gzip(req)) {
		close(g.fd);
		return;
	}
	close(f->fd);
	f->fd = g.fd;
	f->st = g.st;
	f->gzip = true;
}

static void make_validators(file_t *f)
{
	snprintf(f->etag, sizeof(f->etag), "\"%llx-%lx-%llx%s\"",
	         (unsigned long long)f->st.st_mtim.tv_sec,
	         (unsigned long)f->st.st_mtim.tv_nsec,
	         (unsigned long long)f->st.st_size, f->gzip ? "-gz" : "");
	if (keel_static_date_format(f->st.st_mtim.tv_sec, f->modified,
	                            sizeof(f->modified)) < 0)
		f->modified[0] = '\0';
}

/* Headers a 304 repeats (RFC 9110 15.4.5) and the full answer carries. */
static void add_validators(const keel_static_t *st, keel_res_t *res,
                           const file_t *f)
{
	keel_res_header(res, "ETag", f->etag);
	if (f->modified[0])
		keel_res_header(res, "Last-Modified", f->modified);
	if (st->cache_control[0])
		keel_res_header(res, "Cache-Control", st->cache_control);
	if (f->vary)
		keel_res_header(res, "Vary", "Accept-Encoding");
}

static void add_content_headers(keel_res_t *res, const file_t *f)
{
	keel_res_header(res, "Content-Type",
	                keel_static_mime_type(keel_str_from_cstr(f->rel)));
	if (f->gzip)
		keel_res_header(res, "Content-Encoding", "gzip");
	keel_res_header(res, "X-Content-Type-Options", "nosniff");
	keel_res_header(res, "Accept-Ranges", "bytes");
}

/* If-None-Match decides when present (weak comparison); otherwise
 * If-Modified-Since, at the one-second resolution of HTTP dates. */
static bool not_modified(keel_req_t *req, const file_t *f)
{
	keel_str_t v;
	int64_t since;
	if (keel_req_header(req, "If-None-Match", &v) == 0)
		return keel_static_etag_match(v, keel_str_from_cstr(f->etag),
		                              false);
	return keel_req_header(req, "If-Modified-Since", &v) == 0 &&
	       keel_static_date_parse(v, &since) == 0 &&
	       f->st.st_mtim.tv_sec <= since;
}

/*
 * If-Range: send the range only if the client's copy is still current,
 * judged by an exact (strong) ETag or the exact Last-Modified date;
 * otherwise the whole new file, so a resumed download never splices two
 * versions together.
 */
static bool if_range_holds(keel_req_t *req, const file_t *f)
{
	keel_str_t v;
	int64_t t;
	if (keel_req_header(req, "If-Range", &v) < 0)
		return true;
	if (v.len > 0 &&
	    (v.ptr[0] == '"' || keel_str_has_prefix(v, KEEL_STR("W/"))))
		return keel_str_eq(v, keel_str_from_cstr(f->etag));
	return keel_static_date_parse(v, &t) == 0 && t == f->st.st_mtim.tv_sec;
}

/* Range is defined for GET only; HEAD and the rest ignore it. */
static int pick_range(keel_req_t *req, const file_t *f, uint64_t *first,
                      uint64_t *len)
{
	keel_str_t v;
	if (keel_req_method(req) != KEEL_HTTP_GET ||
	    keel_req_header(req, "Range", &v) < 0 || !if_range_holds(req, f))
		return KEEL_ENOENT;
	return keel_static_range_parse(v, (uint64_t)f->st.st_size, first, len);
}

/* 416 tells the client the real size so it can ask again. */
static int unsatisfiable(keel_res_t *res, uint64_t size)
{
	char cr[48];
	fail(res, 416);
	snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
	keel_res_header(res, "Content-Range", cr);
	return 416;
}

static int send_file(keel_static_t *st, keel_req_t *req, keel_res_t *res,
                     file_t *f)
{
	pick_encoding(st, req, f);
	make_validators(f);
	add_validators(st, res, f);
	if (not_modified(req, f)) {
		close(f->fd);
		return 304;
	}
	uint64_t size = (uint64_t)f->st.st_size, first = 0, len = size;
	int rc = pick_range(req, f, &first, &len);
	if (rc == KEEL_ERANGE) {
		close(f->fd);
		return unsatisfiable(res, size);
	}
	add_content_headers(res, f);
	int status = 200;
	if (rc == KEEL_OK) {
		char cr[80];
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
		         (unsigned long long)first,
		         (unsigned long long)(first + len - 1),
		         (unsigned long long)size);
		keel_res_header(res, "Content-Range", cr);
		status = 206;
	}
	if (keel_res_file(res, f->fd, first, len) < 0)
		return fail(res, 500);
	return status;
}

int keel_static_handle(keel_static_t *st, keel_req_t *req, keel_res_t *res)
{
	keel_str_t rel;
	if (!under_prefix(st, keel_req_path(req), &rel))
		return KEEL_NEXT;
	keel_http_method_t m = keel_req_method(req);
	if (m != KEEL_HTTP_GET && m != KEEL_HTTP_HEAD) {
		fail(res, 405);
		keel_res_header(res, "Allow", "GET, HEAD");
		return 405;
	}
	if (hidden(st, rel))
		return fail(res, 404);
	file_t f = {.fd = -1};
	int status = resolve(st, req, res, &f, rel);
	if (status != 0)
		return status;
	return send_file(st, req, res, &f);
}
