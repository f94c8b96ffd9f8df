/*
 * keel_mw_cache: answer repeated anonymous GETs from the response cache
 * (src/web/cache.c), and give every 200 it sees an ETag that turns a
 * matching If-None-Match into 304.
 *
 * The before hook runs ahead of validation and the handler: a hit costs a
 * hash lookup and a copy of the stored body.  On a miss it notes the
 * request's key and the generation *before* the handler reads anything;
 * the after hook stores the answer under that generation only, so a
 * response built from data a concurrent write has since replaced is never
 * kept (keel__cache_put refuses a moved generation).
 */
#include <stdio.h>
#include <string.h>

#include "http/conn.h"
#include "keel/clock.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/static.h"
#include "web/cache_int.h"

/* What before tells after, in the request's arena. */
typedef struct cache_req {
	keel_str_t key; /* empty: not to be stored */
	uint64_t gen;
	/* Header lines outer middleware had added when before ran: they are
	 * added again on a hit, so only what follows them is stored. */
	keel_str_t outer;
} cache_req_t;

/* Answers that may depend on who asks are neither served nor kept. */
static bool personal(const keel_req_t *req)
{
	keel_str_t v;
	return keel_req_header(req, "Authorization", &v) == 0 ||
	       keel_req_header(req, "Cookie", &v) == 0;
}

/* "path\0query" in the arena: the decoded path, so two spellings of one
 * resource share an entry, then a NUL (which no decoded path holds) so
 * "/a%3Fb" and "/a?b" stay apart. */
static keel_str_t make_key(keel_req_t *req)
{
	keel_str_t path = keel_req_path(req), q = keel_req_query(req);
	size_t len = path.len + (q.len ? 1 + q.len : 0);
	char *p = keel_arena_alloc(keel_req_arena(req), len + 1);
	if (!p)
		return (keel_str_t){NULL, 0};
	memcpy(p, path.ptr, path.len);
	if (q.len) {
		p[path.len] = '\0';
		memcpy(p + path.len + 1, q.ptr, q.len);
	}
	p[len] = '\0';
	return (keel_str_t){p, len};
}

static bool client_has(const keel_req_t *req, keel_str_t etag)
{
	keel_str_t inm;
	return keel_req_header(req, "If-None-Match", &inm) == 0 &&
	       keel_static_etag_match(inm, etag, false);
}

/* 304: no body and no representation metadata, the validator kept. */
static int not_modified(keel_res_t *res)
{
	keel_res_body(res, NULL, 0);
	keel_res_header_remove(res, "Content-Type");
	keel_res_header_remove(res, "Content-Language");
	keel_res_status(res, 304);
	return 304;
}

static int answer_hit(const keel_req_t *req, keel_res_t *res,
                      const keel__cache_entry_t *e, int64_t now)
{
	char age[24];
	snprintf(age, sizeof(age), "%lld",
	         (long long)((now - e->stored_ns) / KEEL_NS_PER_S));
	/* The stored lines were checked when the handler added them. */
	if (keel_buf_append(&res->headers, e->headers.ptr, e->headers.len) <
	            0 ||
	    keel_res_header(res, "X-Cache", "HIT") < 0 ||
	    keel_res_header(res, "Age", age) < 0)
		return KEEL_ENOMEM;
	if (client_has(req, e->etag))
		return not_modified(res);
	if (keel_res_body(res, e->body.ptr, e->body.len) < 0)
		return KEEL_ENOMEM;
	return e->status;
}

static int cache_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_cache_t *c = ud;
	keel_http_method_t m = keel_req_method(req);
	req->cache = NULL;
	if (m != KEEL_HTTP_GET && m != KEEL_HTTP_HEAD)
		return KEEL_NEXT;
	cache_req_t *st =
	        keel_arena_calloc(keel_req_arena(req), 1, sizeof(*st));
	if (!st)
		return KEEL_NEXT;
	req->cache = st;
	if (personal(req))
		return KEEL_NEXT;
	st->gen = keel__cache_gen(c);
	keel_str_t key = make_key(req);
	if (!key.ptr)
		return KEEL_NEXT;
	int64_t now = keel_clock_now_ns();
	const keel__cache_entry_t *e = keel__cache_get(c, key, now);
	if (e) {
		req->cache = NULL;
		return answer_hit(req, res, e, now);
	}
	/* HEAD never stores: its handler may skip writing the body. */
	if (m != KEEL_HTTP_GET)
		return KEEL_NEXT;
	char *outer =
	        keel_arena_alloc(keel_req_arena(req), res->headers.len + 1);
	if (!outer)
		return KEEL_NEXT;
	memcpy(outer, res->headers.data, res->headers.len);
	st->outer = (keel_str_t){outer, res->headers.len};
	st->key = key;
	return KEEL_NEXT;
}

/* Only a plain 200 that says nothing against being shared is kept. */
static bool storable(const keel_res_t *res)
{
	keel_str_t v;
	if (keel_res_get_status(res) != 200 || keel_res_committed(res) ||
	    res->file_fd >= 0 ||
	    keel_res_header_get(res, "Set-Cookie", &v) == 0 ||
	    keel_res_header_get(res, "Vary", &v) == 0)
		return false;
	return keel_res_header_get(res, "Cache-Control", &v) < 0 ||
	       (!keel_http_list_has(v, KEEL_STR("no-store")) &&
	        !keel_http_list_has(v, KEEL_STR("private")));
}

/* The handler's ETag, or one hashed from the body and added; a copy in
 * the arena, as the header buffer moves when more headers come. */
static keel_str_t etag_of(keel_cache_t *c, keel_req_t *req, keel_res_t *res)
{
	keel_str_t v;
	char tag[20];
	if (keel_res_header_get(res, "ETag", &v) < 0) {
		keel__cache_etag(c, (keel_str_t){res->body.data, res->body.len},
		                 tag);
		if (keel_res_header(res, "ETag", tag) < 0)
			return (keel_str_t){NULL, 0};
		v = keel_str_from_cstr(tag);
	}
	char *p = keel_arena_strndup(keel_req_arena(req), v);
	return p ? (keel_str_t){p, v.len} : (keel_str_t){NULL, 0};
}

static void cache_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	keel_cache_t *c = ud;
	cache_req_t *st = req->cache;
	req->cache = NULL;
	if (!st || keel_res_get_status(res) != 200 || keel_res_committed(res) ||
	    res->file_fd >= 0)
		return;
	keel_str_t etag = etag_of(c, req, res);
	if (!etag.ptr)
		return;
	keel_str_t head = {res->headers.data, res->headers.len};
	if (st->key.len && storable(res) &&
	    keel_str_has_prefix(head, st->outer)) {
		/* The header slices die with the next change: keep first. */
		keel__cache_item_t it = {
		        .key = st->key,
		        .headers = keel_str_sub(head, st->outer.len,
		                                head.len - st->outer.len),
		        .body = {res->body.data, res->body.len},
		        .etag = etag,
		        .status = 200};
		keel__cache_put(c, st->gen, &it, keel_clock_now_ns());
	}
	keel_res_header(res, "X-Cache", "MISS");
	if (client_has(req, etag))
		not_modified(res);
}

keel_middleware_t keel_mw_cache(keel_cache_t *cache)
{
	return (keel_middleware_t){
	        .name = "cache",
	        .before = cache_before,
	        .after = cache_after,
	        .ud = cache,
	};
}
