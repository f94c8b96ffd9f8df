/*
 * gzip compression of response bodies.  Text shrinks to a fifth or less,
 * which on a slow link is worth far more than the milliseconds of CPU;
 * already-compressed media (images, archives) would only grow, and small
 * bodies fit in one packet either way, so both are left alone.
 */
#define ZLIB_CONST
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "keel/mw.h"
#include "keel/res.h"
#include "keel/static.h"
#include "http/conn.h"

#define CHUNK (16 * 1024)

static const keel_mw_gzip_opts_t default_opts = {
        .min_size = 1024,
        .level = 6,
};

void keel_mw_gzip_opts_init(keel_mw_gzip_opts_t *opts)
{
	*opts = default_opts;
}

static bool ends_with_nocase(keel_str_t s, keel_str_t suffix)
{
	return s.len > suffix.len &&
	       keel_str_eq_nocase(
	               keel_str_sub(s, s.len - suffix.len, suffix.len), suffix);
}

/* Text-like media: the text/ tree (but not event streams, which must
 * reach the client unbuffered), structured +json/+xml types and a few
 * well-known formats that compress well. */
bool keel_mw_gzip_compressible(keel_str_t content_type)
{
	static const char *const exact[] = {
	        "application/json",
	        "application/javascript",
	        "application/x-javascript",
	        "application/ecmascript",
	        "application/xml",
	        "application/wasm",
	        "application/x-www-form-urlencoded",
	        "application/vnd.ms-fontobject",
	        "image/svg+xml",
	        "image/x-icon",
	        "image/vnd.microsoft.icon",
	        "image/bmp",
	        "font/ttf",
	        "font/otf",
	};
	keel_str_t t = keel_str_trim(keel_str_cut(&content_type, ';'));
	keel_str_t text = KEEL_STR("text/");
	if (t.len > text.len &&
	    keel_str_eq_nocase(keel_str_sub(t, 0, text.len), text))
		return !keel_str_eq_nocase(t, KEEL_STR("text/event-stream"));
	for (size_t i = 0; i < KEEL_COUNTOF(exact); i++)
		if (keel_str_eq_nocase(t, keel_str_from_cstr(exact[i])))
			return true;
	return keel_str_index(t, '/') > 0 &&
	       (ends_with_nocase(t, KEEL_STR("+json")) ||
	        ends_with_nocase(t, KEEL_STR("+xml")));
}

/* Everything that rules compression out whatever the client says. */
static bool eligible(keel_res_t *res, const keel_mw_gzip_opts_t *o)
{
	int st = keel_res_get_status(res);
	keel_str_t v;
	if (st < 200 || st == 204 || st == 206 || st == 304 ||
	    res->file_fd >= 0 || keel_res_buf(res)->len < o->min_size)
		return false;
	if (keel_res_header_get(res, "Content-Encoding", &v) == 0 ||
	    keel_res_header_get(res, "Content-Type", &v) < 0 ||
	    !keel_mw_gzip_compressible(v))
		return false;
	return keel_res_header_get(res, "Cache-Control", &v) < 0 ||
	       !keel_http_list_has(v, KEEL_STR("no-transform"));
}

static bool client_accepts(const keel_req_t *req)
{
	keel_str_t v;
	return keel_req_header(req, "Accept-Encoding", &v) == 0 &&
	       keel_static_accept_q(v, KEEL_STR("gzip")) > 0;
}

/* Caches must key on Accept-Encoding for anything we might compress. */
static void add_vary(keel_res_t *res)
{
	keel_str_t v;
	if (keel_res_header_get(res, "Vary", &v) == 0 &&
	    (keel_http_list_has(v, KEEL_STR("Accept-Encoding")) ||
	     keel_http_list_has(v, KEEL_STR("*"))))
		return;
	keel_res_header(res, "Vary", "Accept-Encoding");
}

/* The bytes changed, so a strong validator no longer names them; a weak
 * one still says "semantically the same", which is true. */
static void weaken_etag(keel_res_t *res)
{
	keel_str_t v;
	if (keel_res_header_get(res, "ETag", &v) < 0 || v.len == 0 ||
	    v.ptr[0] != '"')
		return;
	char tag[256];
	int n = snprintf(tag, sizeof(tag), "W/%.*s", KEEL_STR_FMT(v));
	keel_res_header_remove(res, "ETag");
	if (n > 0 && (size_t)n < sizeof(tag))
		keel_res_header(res, "ETag", tag);
}

/* One deflate step's output into `out`; KEEL_ERANGE once it is no smaller
 * than the input, so incompressible bodies are abandoned early. */
static int deflate_step(z_stream *zs, int flush, keel_buf_t *out, size_t in_len)
{
	unsigned char chunk[CHUNK];
	zs->next_out = chunk;
	zs->avail_out = sizeof(chunk);
	int rc = deflate(zs, flush);
	if (rc == Z_STREAM_ERROR)
		return KEEL_EINVAL;
	int arc = keel_buf_append(out, chunk, sizeof(chunk) - zs->avail_out);
	if (arc < 0)
		return arc;
	if (out->len >= in_len)
		return KEEL_ERANGE;
	return rc == Z_STREAM_END ? KEEL_OK : KEEL_AGAIN;
}

/* A window no larger than the body (zlib's minimum is 2^9): zlib allocates
 * and clears tables sized by the window and memLevel, about 256 KiB at the
 * maximum, which for a 2 KiB body costs more than compressing it; a
 * window covering the whole body finds the same matches. */
static int window_bits(size_t len)
{
	int bits = 9;
	while (bits < 15 && ((size_t)1 << bits) < len)
		bits++;
	return bits;
}

/*
 * gzip `in[0..len)` into `out`.  Input is fed in pieces a zlib uInt can
 * count; output goes through a stack chunk so nothing is sized up front.
 */
static int gzip_into(const unsigned char *in, size_t len, int level,
                     keel_buf_t *out)
{
	int wbits = window_bits(len);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	int mem_level = wbits - 6 < 8 ? wbits - 6 : 8; /* hash ~ window */
	if (deflateInit2(&zs, level, Z_DEFLATED, wbits + 16, mem_level,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return KEEL_ENOMEM;
	size_t left = len;
	int rc;
	do {
		if (zs.avail_in == 0 && left > 0) {
			uInt n = left > (1u << 30) ? (1u << 30) : (uInt)left;
			zs.next_in = in + (len - left);
			zs.avail_in = n;
			left -= n;
		}
		rc = deflate_step(&zs, left == 0 ? Z_FINISH : Z_NO_FLUSH, out,
		                  len);
	} while (rc == KEEL_AGAIN);
	deflateEnd(&zs);
	return rc;
}

static int clamp_level(int level)
{
	return level < 1 ? 1 : level > 9 ? 9 : level;
}

static void gzip_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	/* A streamed response's head is already out: nothing to add. */
	if (keel_res_committed(res))
		return;
	const keel_mw_gzip_opts_t *o = ud ? ud : &default_opts;
	if (!eligible(res, o))
		return;
	add_vary(res);
	if (!client_accepts(req))
		return;
	keel_buf_t *body = keel_res_buf(res);
	keel_buf_t z;
	keel_buf_init(&z, body->len);
	/* The header first: it is the step that can fail, and the shorter
	 * body then fits where the old one was, so keel_res_body cannot. */
	if (gzip_into((const unsigned char *)body->data, body->len,
	              clamp_level(o->level), &z) == KEEL_OK &&
	    keel_res_header(res, "Content-Encoding", "gzip") == KEEL_OK) {
		keel_res_body(res, z.data, z.len);
		weaken_etag(res);
	}
	keel_buf_deinit(&z);
}

keel_middleware_t keel_mw_gzip(const keel_mw_gzip_opts_t *opts)
{
	return (keel_middleware_t){
	        .name = "gzip",
	        .after = gzip_after,
	        .ud = (void *)opts,
	};
}
