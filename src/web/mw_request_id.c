/*
 * Request ids: one id per request, shared by the client, the proxy in front,
 * the logs and error bodies, so a user's "request id 1a2b-3f" leads straight
 * to the log lines of that request.  An id the proxy (or client) already
 * chose is adopted when it is harmless, so one id follows the request across
 * every service it touches; otherwise the server's own id stays.
 */
#include <string.h>

#include "keel/mw.h"
#include "keel/res.h"
#include "http/conn.h"

_Static_assert(sizeof(((keel_req_t *)0)->id) > KEEL_MW_REQUEST_ID_MAX,
               "request ids must fit keel_req_t.id");

static const keel_mw_request_id_opts_t default_opts = {
        .header = "X-Request-Id",
        .trust_incoming = true,
};

void keel_mw_request_id_opts_init(keel_mw_request_id_opts_t *opts)
{
	*opts = default_opts;
}

/*
 * The id is echoed in a header, written to logs and embedded in JSON error
 * bodies, so only bytes that need no escaping anywhere are allowed: no
 * quotes, backslashes, spaces, controls or non-ASCII.
 */
bool keel_mw_request_id_valid(keel_str_t id)
{
	if (id.len == 0 || id.len > KEEL_MW_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < id.len; i++) {
		unsigned char ch = (unsigned char)id.ptr[i];
		bool ok = (ch >= 'a' && ch <= 'z') ||
		          (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') ||
		          (ch && strchr("._:+/=-", ch));
		if (!ok)
			return false;
	}
	return true;
}

static const keel_mw_request_id_opts_t *opts_of(void *ud)
{
	return ud ? ud : &default_opts;
}

/* Overwriting req->id makes keel_req_id and the access log agree with the
 * id the caller knows, without a second slot to keep in sync. */
static int rid_before(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)res;
	const keel_mw_request_id_opts_t *o = opts_of(ud);
	keel_str_t in;
	if (!o->trust_incoming || !o->header ||
	    keel_req_header(req, o->header, &in) < 0 ||
	    !keel_mw_request_id_valid(in))
		return KEEL_NEXT;
	memcpy(req->id, in.ptr, in.len);
	req->id[in.len] = '\0';
	return KEEL_NEXT;
}

/* Exactly one header, equal to what the logs recorded. */
static void rid_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	/* A streamed response's head is already out: nothing to add. */
	if (keel_res_committed(res))
		return;
	const keel_mw_request_id_opts_t *o = opts_of(ud);
	if (!o->header)
		return;
	keel_res_header_remove(res, o->header);
	keel_res_header(res, o->header, keel_req_id(req));
}

keel_middleware_t keel_mw_request_id(const keel_mw_request_id_opts_t *opts)
{
	return (keel_middleware_t){
	        .name = "request_id",
	        .before = rid_before,
	        .after = rid_after,
	        .ud = (void *)opts,
	};
}
