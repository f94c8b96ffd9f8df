/*
 * Redirects: the Location checks of keel/redirect.h, then status, header
 * and an empty body.
 */
#include <string.h>

#include "keel/redirect.h"
#include "keel/res.h"
#include "keel/str.h"

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* RFC 3986 unreserved, reserved, and '%' (its digits checked by caller). */
static bool is_uri_char(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

/* Every byte a URI byte, every '%' starting a valid %XX escape. */
static bool valid_uri_chars(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!is_uri_char(c))
			return false;
		if (c == '%' &&
		    (i + 2 >= s.len || !is_hex((unsigned char)s.ptr[i + 1]) ||
		     !is_hex((unsigned char)s.ptr[i + 2])))
			return false;
	}
	return true;
}

/*
 * A browser resolves "//evil.example/x" and "/\evil.example" against the
 * current scheme as a new host, so a local path must start with exactly
 * one '/' followed by anything but a second slash or a backslash.
 */
static bool valid_local(keel_str_t p)
{
	if (p.len == 0 || p.ptr[0] != '/')
		return false;
	if (p.len > 1 && (p.ptr[1] == '/' || p.ptr[1] == '\\'))
		return false;
	return valid_uri_chars(p);
}

/* host[:port]: a reg-name of LDH labels or an [IPv6] literal. */
static bool valid_authority(keel_str_t a)
{
	size_t i = 0;
	if (a.len > 0 && a.ptr[0] == '[') {
		while (++i < a.len && a.ptr[i] != ']')
			if (!is_hex((unsigned char)a.ptr[i]) &&
			    !strchr(":.", a.ptr[i]))
				return false;
		if (i == a.len || i == 1)
			return false;
		i++;
	} else {
		while (i < a.len && (is_alnum((unsigned char)a.ptr[i]) ||
		                     a.ptr[i] == '-' || a.ptr[i] == '.'))
			i++;
		if (i == 0)
			return false;
	}
	if (i == a.len)
		return true;
	uint64_t port;
	return a.ptr[i] == ':' &&
	       keel_str_to_u64(keel_str_sub(a, i + 1, a.len), &port) == 0 &&
	       port > 0 && port <= 65535;
}

/* "http://" or "https://" (any case), a valid authority, then URI bytes. */
static bool valid_absolute(keel_str_t u)
{
	size_t skip;
	if (keel_str_eq_nocase(keel_str_sub(u, 0, 7), KEEL_STR("http://")))
		skip = 7;
	else if (keel_str_eq_nocase(keel_str_sub(u, 0, 8),
	                            KEEL_STR("https://")))
		skip = 8;
	else
		return false;
	keel_str_t rest = keel_str_sub(u, skip, u.len);
	size_t end = 0;
	while (end < rest.len && !strchr("/?#", rest.ptr[end]))
		end++;
	return valid_authority(keel_str_sub(rest, 0, end)) &&
	       valid_uri_chars(rest);
}

static bool valid_status(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* Header first: it is the step that can fail (memory only). */
static int answer(keel_res_t *res, int status, const char *location)
{
	keel_res_header_remove(res, "Location");
	if (keel_res_header(res, "Location", location) != KEEL_OK)
		return KEEL_ENOMEM;
	keel_res_body(res, "", 0);
	keel_res_status(res, status);
	return status;
}

int keel_res_redirect_local(keel_res_t *res, int status, const char *path)
{
	if (!valid_status(status) || !valid_local(keel_str_from_cstr(path)))
		return KEEL_EINVAL;
	return answer(res, status, path);
}

int keel_res_redirect(keel_res_t *res, int status, const char *location)
{
	keel_str_t loc = keel_str_from_cstr(location);
	if (!valid_status(status) ||
	    (!valid_local(loc) && !valid_absolute(loc)))
		return KEEL_EINVAL;
	return answer(res, status, location);
}
