/*
 * Requests as handlers see them (keel_req_*), and the client address
 * resolution through trusted proxies.
 */
#include "keel/req.h"
#include "conn.h"

const keel_http_request_t *keel_req_head(const keel_req_t *req)
{
	return &req->head;
}

keel_http_method_t keel_req_method(const keel_req_t *req)
{
	return req->head.method;
}

keel_str_t keel_req_path(const keel_req_t *req)
{
	return req->path;
}

keel_str_t keel_req_query(const keel_req_t *req)
{
	return req->head.query;
}

int keel_req_header(const keel_req_t *req, const char *name, keel_str_t *value)
{
	return keel_http_header_get(&req->head, keel_str_from_cstr(name),
	                            value);
}

keel_str_t keel_req_body(const keel_req_t *req)
{
	return (keel_str_t){req->body.data, req->body.len};
}

keel_arena_t *keel_req_arena(keel_req_t *req)
{
	return &req->arena;
}

const keel_ip_t *keel_req_client(const keel_req_t *req)
{
	return &req->client;
}

const char *keel_req_id(const keel_req_t *req)
{
	return req->id;
}

/* Path parameters are few (a handful per route): a scan beats a map. */
static const keel_http_header_t *find_param(const keel_req_t *req,
                                            const char *name)
{
	keel_str_t key = keel_str_from_cstr(name);
	for (size_t i = 0; i < req->nparams; i++)
		if (keel_str_eq(req->params[i].name, key))
			return &req->params[i];
	return NULL;
}

keel_str_t keel_req_param(const keel_req_t *req, const char *name)
{
	const keel_http_header_t *p = find_param(req, name);
	return p ? p->value : KEEL_STR("");
}

int keel_req_param_int(const keel_req_t *req, const char *name, int64_t *out)
{
	const keel_http_header_t *p = find_param(req, name);
	if (!p)
		return KEEL_ENOENT;
	return keel_str_to_i64(p->value, out);
}

static bool is_trusted(const keel_worker_t *w, const keel_ip_t *ip)
{
	for (size_t i = 0; i < w->ntrusted; i++)
		if (keel_cidr_match(&w->trusted[i], ip))
			return true;
	return false;
}

/* The last element of a comma list, trimmed; shortens *list past it. */
static keel_str_t pop_last(keel_str_t *list)
{
	size_t i = list->len;
	while (i > 0 && list->ptr[i - 1] != ',')
		i--;
	keel_str_t item = keel_str_trim(keel_str_sub(*list, i, list->len - i));
	list->len = i > 0 ? i - 1 : 0;
	return item;
}

/*
 * X-Forwarded-For is a list each proxy appends its peer to, so only the
 * entries added by proxies we trust are believable: walk it from the
 * right, skipping trusted hops; the first untrusted address is the client.
 * A peer that is not a trusted proxy gets no say at all.
 */
keel_ip_t keel__client_addr(keel_worker_t *w, keel_conn_t *c)
{
	keel_ip_t client = c->peer;
	keel_str_t xff;
	if (!w->ntrusted || !is_trusted(w, &c->peer) ||
	    keel_http_header_get(&c->req.head, KEEL_STR("X-Forwarded-For"),
	                         &xff) < 0)
		return client;
	while (xff.len > 0) {
		keel_ip_t hop;
		if (keel_ip_parse(pop_last(&xff), &hop) < 0)
			break;
		client = hop;
		if (!is_trusted(w, &hop))
			break;
	}
	return client;
}

/*
 * State the layers above the server keep per request and set only when
 * they run (identity, validated inputs): cleared at the start of every
 * request so a keep-alive connection never inherits it.  State that is
 * released with the request's arena (session, database, timing) clears
 * itself through arena cleanups.
 */
int keel__req_decode_path(keel_req_t *r)
{
	char *path = keel_arena_alloc(&r->arena, r->head.path.len + 1);
	size_t plen = 0;
	if (!path)
		return 500;
	if (r->head.form == KEEL_HTTP_FORM_ASTERISK) {
		path[0] = '*';
		plen = 1;
	} else if (keel_http_path_decode(r->head.path, path, r->head.path.len,
	                                 &plen) < 0) {
		return 400;
	}
	r->path = (keel_str_t){path, plen};
	return 0;
}

void keel__req_reset_layers(keel_req_t *req)
{
	req->auth = NULL;
	req->valid_params = req->valid_body = NULL;
	req->cache = NULL;
}
