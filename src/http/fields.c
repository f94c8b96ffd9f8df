/*
 * The header fields whose meaning the server itself needs: message framing
 * (Content-Length, Transfer-Encoding), Host, Expect and Connection.  Each
 * is judged when its line arrives, so a refusal never waits for the rest
 * of the head.
 */
#include "http/internal.h"

#define SEEN_HOST 0x1u
#define SEEN_CL   0x2u
#define SEEN_TE   0x4u

/*
 * RFC 9112 3.2: exactly one Host, with a valid value, whatever the
 * version; an absolute-form target's authority takes precedence over it.
 */
static int field_host(keel__http_fields_t *f, keel_http_request_t *req,
                      keel_str_t v)
{
	if ((f->seen & SEEN_HOST) != 0 || !keel__http_host_valid(v, false))
		return 400;
	f->seen |= SEEN_HOST;
	if (req->form != KEEL_HTTP_FORM_ABSOLUTE)
		req->authority = v;
	return 0;
}

/*
 * Digits only: no sign, no inner spaces, no "5, 5" list.  A second
 * Content-Length is refused even when equal (RFC 9112 6.3 would let us
 * merge equal values; refusing is simpler and closes a smuggling door), as
 * is one beside Transfer-Encoding.  Too large is known now: 413 before any
 * body byte is read.
 */
static int field_content_length(keel__http_fields_t *f,
                                keel_http_request_t *req,
                                const keel_http_limits_t *lim, keel_str_t v)
{
	uint64_t n;
	if ((f->seen & (SEEN_CL | SEEN_TE)) != 0 ||
	    keel_str_to_u64(v, &n) != KEEL_OK)
		return 400;
	if (n > lim->max_body)
		return 413;
	f->seen |= SEEN_CL;
	req->content_length = n;
	return 0;
}

/*
 * A comma list of codings whose last is "chunked" and which holds
 * "chunked" once (RFC 9112 6.1, 6.3).  Without chunked last the body
 * length is unknowable: 400.  A well-formed list with codings before it
 * that we do not implement (gzip, ...) is 501.  Empty elements, which the
 * RFC tolerates in lists, are refused here: framing is no place for slack.
 */
static int te_codings(keel_str_t v)
{
	bool other = false;
	for (;;) {
		ptrdiff_t comma = keel_str_index(v, ',');
		size_t n = comma < 0 ? v.len : (size_t)comma;
		keel_str_t el = keel_str_trim(keel_str_sub(v, 0, n));
		if (!keel__http_is_token(el))
			return 400;
		bool chunked = keel_str_eq_nocase(el, KEEL_STR("chunked"));
		if (comma < 0)
			return !chunked ? 400 : other ? 501 : 0;
		if (chunked)
			return 400;
		other = true;
		v = keel_str_sub(v, n + 1, v.len);
	}
}

/*
 * HTTP/1.0 has no transfer codings, so a 1.0 request carrying one has
 * framing we cannot trust (RFC 9112 6.1): 400.  Likewise a second
 * Transfer-Encoding line or one beside Content-Length.
 */
static int field_transfer_encoding(keel__http_fields_t *f,
                                   keel_http_request_t *req, keel_str_t v)
{
	if (req->minor_version == 0 || (f->seen & (SEEN_CL | SEEN_TE)) != 0)
		return 400;
	int st = te_codings(v);
	if (st != 0)
		return st;
	f->seen |= SEEN_TE;
	req->chunked = true;
	return 0;
}

/*
 * 100-continue is the only expectation there is (RFC 9110 10.1.1); any
 * other is 417.  An HTTP/1.0 client cannot understand 100 Continue, so its
 * expectation is ignored as the RFC says.
 */
static int field_expect(keel_http_request_t *req, keel_str_t v)
{
	if (!keel_str_eq_nocase(v, KEEL_STR("100-continue")))
		return 417;
	req->expect_continue = req->minor_version == 1;
	return 0;
}

/* Connection options are tokens; only "close" and "keep-alive" matter. */
static int field_connection(keel__http_fields_t *f, keel_str_t v)
{
	while (v.len != 0) {
		keel_str_t el = keel_str_trim(keel_str_cut(&v, ','));
		if (el.len == 0)
			continue;
		if (!keel__http_is_token(el))
			return 400;
		if (keel_str_eq_nocase(el, KEEL_STR("close")))
			f->close = true;
		else if (keel_str_eq_nocase(el, KEEL_STR("keep-alive")))
			f->keepalive = true;
	}
	return 0;
}

/* The five names have five different lengths: one switch, one compare. */
int keel__http_field_apply(keel__http_fields_t *f, keel_http_request_t *req,
                           const keel_http_limits_t *lim,
                           const keel_http_header_t *h)
{
	keel_str_t n = h->name, v = h->value;
	switch (n.len) {
	case 4:
		if (keel_str_eq_nocase(n, KEEL_STR("host")))
			return field_host(f, req, v);
		break;
	case 6:
		if (keel_str_eq_nocase(n, KEEL_STR("expect")))
			return field_expect(req, v);
		break;
	case 10:
		if (keel_str_eq_nocase(n, KEEL_STR("connection")))
			return field_connection(f, v);
		break;
	case 14:
		if (keel_str_eq_nocase(n, KEEL_STR("content-length")))
			return field_content_length(f, req, lim, v);
		break;
	case 17:
		if (keel_str_eq_nocase(n, KEEL_STR("transfer-encoding")))
			return field_transfer_encoding(f, req, v);
		break;
	}
	return 0;
}

/*
 * Host is required from HTTP/1.1 on.  Persistence: on by default in 1.1,
 * opt-in with "keep-alive" in 1.0, and "close" wins over everything.
 */
int keel__http_fields_finish(keel__http_fields_t *f, keel_http_request_t *req)
{
	if (req->minor_version == 1 && (f->seen & SEEN_HOST) == 0)
		return 400;
	req->keep_alive =
	        !f->close && (req->minor_version == 1 || f->keepalive);
	return 0;
}

bool keel_http_list_has(keel_str_t list, keel_str_t tok)
{
	while (list.len > 0) {
		keel_str_t item = keel_str_trim(keel_str_cut(&list, ','));
		keel_str_t name = keel_str_trim(keel_str_cut(&item, '='));
		if (keel_str_eq_nocase(name, tok))
			return true;
	}
	return false;
}
