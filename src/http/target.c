/*
 * The request-target (RFC 9112 3.2) and the authority syntax it shares with
 * the Host field (RFC 3986 3.2).  Only syntax is judged here; whether the
 * host is one we serve is the application's business.
 */
#include <arpa/inet.h>
#include <string.h>

#include "http/internal.h"

/* Every byte in class `cls`, and each '%' followed by two hex digits. */
static bool bytes_valid(keel_str_t s, unsigned cls)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!keel__http_is(c, cls))
			return false;
		if (c == '%' &&
		    (i + 2 >= s.len ||
		     keel__http_hexval((unsigned char)s.ptr[i + 1]) < 0 ||
		     keel__http_hexval((unsigned char)s.ptr[i + 2]) < 0))
			return false;
	}
	return true;
}

/* Query bytes are only checked, not their escapes: see keel_http_query_next. */
static bool query_valid(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!keel__http_is((unsigned char)s.ptr[i], KEEL__HTTP_QUERY))
			return false;
	return true;
}

/* 1 to 5 digits, at most 65535. */
static bool port_valid(keel_str_t s)
{
	uint64_t n;
	return s.len >= 1 && s.len <= 5 && keel_str_to_u64(s, &n) == KEEL_OK &&
	       n <= 65535;
}

/*
 * "[" IPv6address "]".  inet_pton knows the address grammar better than a
 * hand-written check would; zone identifiers and IPvFuture are refused.
 */
static bool ipv6_valid(keel_str_t s)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	if (s.len < 2 || s.len > sizeof(tmp) - 1)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c != ':' && c != '.' && keel__http_hexval(c) < 0)
			return false;
	}
	memcpy(tmp, s.ptr, s.len);
	tmp[s.len] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/*
 * host [":" port] where host is a bracketed IPv6 address or a reg-name
 * (which covers IPv4 dotted quads).  The host may not be empty and the
 * port, when its colon is there, may not be either: stricter than RFC 3986
 * (port = *DIGIT), looser than nothing, and no client sends "host:".
 * Userinfo ("user@host") is refused since '@' is no reg-name byte.
 */
bool keel__http_host_valid(keel_str_t hp, bool port_required)
{
	keel_str_t host = hp, port = {hp.ptr, 0};
	size_t host_len = hp.len;
	if (hp.len != 0 && hp.ptr[0] == '[') {
		ptrdiff_t close = keel_str_index(hp, ']');
		if (close < 0 || !ipv6_valid(keel_str_sub(hp, 1, close - 1)))
			return false;
		host_len = (size_t)close + 1;
	} else {
		ptrdiff_t colon = keel_str_index(hp, ':');
		host_len = colon < 0 ? hp.len : (size_t)colon;
		host = keel_str_sub(hp, 0, host_len);
		if (host.len == 0 || !bytes_valid(host, KEEL__HTTP_HOST))
			return false;
	}
	if (host_len == hp.len)
		return !port_required;
	if (hp.ptr[host_len] != ':')
		return false;
	port = keel_str_sub(hp, host_len + 1, hp.len);
	return port_valid(port);
}

/* absolute-path [ "?" query ], the origin-form (and tail of absolute). */
static int path_query(keel_http_request_t *req, keel_str_t t)
{
	ptrdiff_t q = keel_str_index(t, '?');
	size_t n = q < 0 ? t.len : (size_t)q;
	req->path = keel_str_sub(t, 0, n);
	req->query = keel_str_sub(t, q < 0 ? t.len : n + 1, t.len);
	if (!bytes_valid(req->path, KEEL__HTTP_PATH) ||
	    !query_valid(req->query))
		return 400;
	return 0;
}

/*
 * "http://" or "https://" (scheme case-insensitive), an authority, then an
 * optional path and query.  An empty path means "/" (RFC 9112 3.2.2); that
 * one slice is static rather than inside the buffer.
 */
static int absolute_form(keel_http_request_t *req, keel_str_t t)
{
	size_t skip;
	if (keel_str_eq_nocase(keel_str_sub(t, 0, 7), KEEL_STR("http://")))
		skip = 7;
	else if (keel_str_eq_nocase(keel_str_sub(t, 0, 8),
	                            KEEL_STR("https://")))
		skip = 8;
	else
		return 400;
	keel_str_t rest = keel_str_sub(t, skip, t.len);
	size_t n = 0;
	while (n < rest.len && rest.ptr[n] != '/' && rest.ptr[n] != '?')
		n++;
	req->form = KEEL_HTTP_FORM_ABSOLUTE;
	req->authority = keel_str_sub(rest, 0, n);
	if (!keel__http_host_valid(req->authority, false))
		return 400;
	rest = keel_str_sub(rest, n, rest.len);
	if (rest.len != 0 && rest.ptr[0] == '/')
		return path_query(req, rest);
	req->path = KEEL_STR("/");
	req->query = keel_str_sub(rest, 1, rest.len);
	return query_valid(req->query) ? 0 : 400;
}

/*
 * The form follows from the method and the first byte: CONNECT takes
 * authority-form and nothing else, '*' is for OPTIONS alone (RFC 9112
 * 3.2.4), '/' starts origin-form, anything else must be absolute-form.
 */
int keel__http_target_parse(keel_http_request_t *req, keel_str_t t)
{
	req->target = t;
	if (req->method == KEEL_HTTP_CONNECT) {
		req->form = KEEL_HTTP_FORM_AUTHORITY;
		return keel__http_host_valid(t, true) ? 0 : 400;
	}
	if (t.ptr[0] == '/') {
		req->form = KEEL_HTTP_FORM_ORIGIN;
		return path_query(req, t);
	}
	if (t.len == 1 && t.ptr[0] == '*') {
		req->form = KEEL_HTTP_FORM_ASTERISK;
		req->path = t;
		return req->method == KEEL_HTTP_OPTIONS ? 0 : 400;
	}
	return absolute_form(req, t);
}
