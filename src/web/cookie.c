/*
 * Cookies: the lenient Cookie header reader and the strict Set-Cookie
 * writer described in keel/cookie.h.
 */
#include <string.h>
#include <time.h>

#include "keel/cookie.h"
#include "keel/req.h"
#include "keel/res.h"

/* Latest Expires accepted: 9999-12-31 23:59:59 UTC (four-digit years). */
#define EXPIRES_MAX INT64_C(253402300799)

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!is_tchar((unsigned char)s.ptr[i]))
			return false;
	return s.len > 0;
}

/* RFC 6265 cookie-octet: visible ASCII but DQUOTE, comma, ';' and '\'. */
static bool is_cookie_octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
	       c != '\\';
}

static bool is_cookie_value(keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!is_cookie_octet((unsigned char)s.ptr[i]))
			return false;
	return true;
}

void keel_cookie_iter_init(keel_cookie_iter_t *it, keel_str_t header)
{
	it->rest = header;
	it->pairs = 0;
}

/*
 * One ';'-separated piece: name and value are trimmed of spaces and tabs,
 * and a value wrapped in double quotes loses them.  Anything that still
 * is not token=cookie-octets is not a cookie this server could have set.
 */
static bool split_pair(keel_str_t pair, keel_str_t *name, keel_str_t *value)
{
	if (keel_str_index(pair, '=') < 0)
		return false;
	keel_str_t n = keel_str_trim(keel_str_cut(&pair, '='));
	keel_str_t v = keel_str_trim(pair);
	if (v.len > 0 && v.ptr[0] == '"') {
		if (v.len < 2 || v.ptr[v.len - 1] != '"')
			return false;
		v = keel_str_sub(v, 1, v.len - 2);
	}
	if (!is_token(n) || !is_cookie_value(v))
		return false;
	*name = n;
	*value = v;
	return true;
}

int keel_cookie_next(keel_cookie_iter_t *it, keel_str_t *name,
                     keel_str_t *value)
{
	while (it->rest.len > 0) {
		if (it->pairs >= KEEL_COOKIE_MAX_PAIRS)
			return KEEL_ELIMIT;
		it->pairs++;
		keel_str_t pair = keel_str_cut(&it->rest, ';');
		if (split_pair(pair, name, value))
			return KEEL_OK;
	}
	return KEEL_ENOENT;
}

int keel_cookie_parse(keel_str_t header, keel_str_t name, keel_str_t *value)
{
	keel_cookie_iter_t it;
	keel_str_t n, v;
	keel_cookie_iter_init(&it, header);
	while (keel_cookie_next(&it, &n, &v) == KEEL_OK) {
		if (keel_str_eq(n, name)) {
			*value = v;
			return KEEL_OK;
		}
	}
	return KEEL_ENOENT;
}

/* HTTP/2 and some proxies split cookies over several fields; all count. */
int keel_req_cookie(const keel_req_t *req, const char *name, keel_str_t *value)
{
	const keel_http_request_t *head = keel_req_head(req);
	keel_str_t want = keel_str_from_cstr(name);
	for (size_t i = 0; i < head->header_count; i++) {
		const keel_http_header_t *h = &head->headers[i];
		if (keel_str_eq_nocase(h->name, KEEL_STR("Cookie")) &&
		    keel_cookie_parse(h->value, want, value) == KEEL_OK)
			return KEEL_OK;
	}
	return KEEL_ENOENT;
}

/* A path attribute: starts with '/', visible ASCII without ';'. */
static bool valid_path(keel_str_t p)
{
	if (p.len == 0 || p.ptr[0] != '/')
		return false;
	for (size_t i = 0; i < p.len; i++) {
		unsigned char c = (unsigned char)p.ptr[i];
		if (c <= 0x20 || c >= 0x7f || c == ';')
			return false;
	}
	return true;
}

/* A domain attribute: an optional leading dot, then LDH labels. */
static bool valid_domain(keel_str_t d)
{
	if (d.len > 0 && d.ptr[0] == '.')
		d = keel_str_sub(d, 1, d.len - 1);
	if (d.len == 0 || d.ptr[d.len - 1] == '.')
		return false;
	while (d.len > 0) {
		keel_str_t label = keel_str_cut(&d, '.');
		if (label.len == 0 || label.len > 63 || label.ptr[0] == '-' ||
		    label.ptr[label.len - 1] == '-')
			return false;
		for (size_t i = 0; i < label.len; i++) {
			unsigned char c = (unsigned char)label.ptr[i];
			if (!(c == '-' || (c >= '0' && c <= '9') ||
			      ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
				return false;
		}
	}
	return true;
}

static bool has_prefix_nocase(keel_str_t s, keel_str_t prefix)
{
	return s.len >= prefix.len &&
	       keel_str_eq_nocase(keel_str_sub(s, 0, prefix.len), prefix);
}

/*
 * The rules that tie attributes together: browsers silently drop a cookie
 * that breaks them, so refusing here turns a lost cookie into an error the
 * developer sees.  The prefixes are matched without regard to case, as
 * current browsers do.
 */
static bool valid_rules(keel_str_t name, const keel_cookie_opts_t *o)
{
	keel_str_t path = keel_str_from_cstr(o->path);
	if ((o->same_site == KEEL_SAMESITE_NONE || o->partitioned) &&
	    !o->secure)
		return false;
	if (has_prefix_nocase(name, KEEL_STR("__Secure-")) && !o->secure)
		return false;
	if (has_prefix_nocase(name, KEEL_STR("__Host-")))
		return o->secure && o->domain == NULL &&
		       keel_str_eq(path, KEEL_STR("/"));
	return true;
}

/* Every check of keel_cookie_format, in one place; 0 or the refusal. */
static int check_cookie(keel_str_t name, keel_str_t value,
                        const keel_cookie_opts_t *o)
{
	keel_str_t path = keel_str_from_cstr(o->path);
	keel_str_t domain = keel_str_from_cstr(o->domain);
	if (!is_token(name) || !is_cookie_value(value))
		return KEEL_EINVAL;
	if (name.len + value.len > KEEL_COOKIE_MAX_PAIR ||
	    path.len > KEEL_COOKIE_MAX_ATTR ||
	    domain.len > KEEL_COOKIE_MAX_ATTR)
		return KEEL_ELIMIT;
	if ((o->path && !valid_path(path)) ||
	    (o->domain && !valid_domain(domain)))
		return KEEL_EINVAL;
	if (o->max_age < 0 || o->expires < 0 || o->expires > EXPIRES_MAX ||
	    (unsigned)o->same_site > KEEL_SAMESITE_NONE)
		return KEEL_EINVAL;
	return valid_rules(name, o) ? KEEL_OK : KEEL_EINVAL;
}

/* `width` decimal digits of v, zero-padded (0: as many as needed). */
static int append_num(keel_buf_t *b, uint64_t v, int width)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v || (int)sizeof(tmp) - i < width);
	return keel_buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
static int append_date(keel_buf_t *b, int64_t when)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t t = (time_t)when;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return KEEL_ERANGE;
	int rc = keel_buf_append(b, days + 3 * tm.tm_wday, 3);
	rc |= keel_buf_append(b, ", ", 2);
	rc |= append_num(b, (uint64_t)tm.tm_mday, 2);
	rc |= keel_buf_append_char(b, ' ');
	rc |= keel_buf_append(b, months + 3 * tm.tm_mon, 3);
	rc |= keel_buf_append_char(b, ' ');
	rc |= append_num(b, (uint64_t)tm.tm_year + 1900, 4);
	rc |= keel_buf_append_char(b, ' ');
	rc |= append_num(b, (uint64_t)tm.tm_hour, 2);
	rc |= keel_buf_append_char(b, ':');
	rc |= append_num(b, (uint64_t)tm.tm_min, 2);
	rc |= keel_buf_append_char(b, ':');
	rc |= append_num(b, (uint64_t)tm.tm_sec, 2);
	rc |= keel_buf_append(b, " GMT", 4);
	return rc ? KEEL_ENOMEM : KEEL_OK;
}

static int append_attr(keel_buf_t *b, const char *attr, const char *value)
{
	int rc = keel_buf_append(b, "; ", 2);
	rc |= keel_buf_append_str(b, keel_str_from_cstr(attr));
	if (value)
		rc |= keel_buf_append_str(b, keel_str_from_cstr(value));
	return rc ? KEEL_ENOMEM : KEEL_OK;
}

/*
 * Attributes go out in one fixed order so the output is predictable in
 * tests and logs; `deleting` forces Max-Age=0 and a 1970 Expires, which
 * the opts cannot express (there 0 means "omit").
 */
static int append_attrs(keel_buf_t *b, const keel_cookie_opts_t *o,
                        bool deleting)
{
	static const char *const same_site[] = {NULL, "Lax", "Strict", "None"};
	int rc = 0;
	if (o->path)
		rc |= append_attr(b, "Path=", o->path);
	if (o->domain)
		rc |= append_attr(b, "Domain=", o->domain);
	if (deleting || o->max_age > 0) {
		rc |= append_attr(b, "Max-Age=", NULL);
		rc |= append_num(b, deleting ? 0 : (uint64_t)o->max_age, 0);
	}
	if (deleting || o->expires > 0) {
		rc |= append_attr(b, "Expires=", NULL);
		rc |= append_date(b, deleting ? 0 : o->expires);
	}
	if (o->secure)
		rc |= append_attr(b, "Secure", NULL);
	if (o->http_only)
		rc |= append_attr(b, "HttpOnly", NULL);
	if (o->same_site != KEEL_SAMESITE_DEFAULT)
		rc |= append_attr(b, "SameSite=", same_site[o->same_site]);
	if (o->partitioned)
		rc |= append_attr(b, "Partitioned", NULL);
	return rc ? KEEL_ENOMEM : KEEL_OK;
}

static int format_cookie(keel_buf_t *out, keel_str_t name, keel_str_t value,
                         const keel_cookie_opts_t *opts, bool deleting)
{
	static const keel_cookie_opts_t none = {0};
	const keel_cookie_opts_t *o = opts ? opts : &none;
	int rc = check_cookie(name, value, o);
	if (rc != KEEL_OK)
		return rc;
	size_t mark = out->len;
	rc = keel_buf_append_str(out, name);
	rc |= keel_buf_append_char(out, '=');
	rc |= keel_buf_append_str(out, value);
	rc |= append_attrs(out, o, deleting);
	if (rc != KEEL_OK) {
		if (out->len != mark) { /* data is writable once it grew */
			out->len = mark;
			out->data[mark] = '\0';
		}
		return KEEL_ENOMEM;
	}
	return KEEL_OK;
}

int keel_cookie_format(keel_buf_t *out, keel_str_t name, keel_str_t value,
                       const keel_cookie_opts_t *opts)
{
	return format_cookie(out, name, value, opts, false);
}

static int add_set_cookie(keel_res_t *res, const char *name, const char *value,
                          const keel_cookie_opts_t *opts, bool deleting)
{
	keel_buf_t b;
	keel_buf_init(&b, 0);
	int rc = format_cookie(&b, keel_str_from_cstr(name),
	                       keel_str_from_cstr(value), opts, deleting);
	if (rc == KEEL_OK)
		rc = keel_res_header_str(res, KEEL_STR("Set-Cookie"),
		                         (keel_str_t){b.data, b.len});
	keel_buf_deinit(&b);
	return rc;
}

int keel_res_cookie(keel_res_t *res, const char *name, const char *value,
                    const keel_cookie_opts_t *opts)
{
	return add_set_cookie(res, name, value, opts, false);
}

int keel_res_cookie_delete(keel_res_t *res, const char *name,
                           const keel_cookie_opts_t *opts)
{
	keel_cookie_opts_t o = {0};
	if (opts) {
		o = *opts;
		o.max_age = 0;
		o.expires = 0;
	}
	return add_set_cookie(res, name, "", &o, true);
}
