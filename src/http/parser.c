/*
 * The request-head parser: splits the head into lines under the size
 * limits, reads the request line and the header fields, and hands each
 * field to fields.c and the target to target.c.  It keeps no state between
 * calls; every call starts again at byte 0.
 */
#include <limits.h>
#include <string.h>

#include "http/internal.h"

/* Line endings: unknown until the first line ends, then fixed. */
enum { EOL_UNKNOWN, EOL_CRLF, EOL_LF };

/* One pass over one head. */
struct parse {
	const char *buf;
	size_t len;
	const keel_http_limits_t *lim;
	keel_http_request_t *req;
	size_t cap; /* header fields allowed */
	int eol;
	int status;
	keel__http_fields_t fields;
};

static const keel_http_limits_t default_limits = KEEL_HTTP_LIMITS_DEFAULT;

static int fail(struct parse *p, int status)
{
	p->status = status;
	return KEEL_EINVAL;
}

/*
 * The line starting at `start` must end within `budget` bytes, line ending
 * included.  Only that window is searched, so a peer cannot make a call
 * cost more than the limits allow; and when the window is full without a
 * LF the limit is already exceeded, whatever arrives later, so the verdict
 * `over` is given now.  A LF alone ends a line only if every line so far
 * ended that way (mixing is how a header hides from a proxy).
 */
static int next_line(struct parse *p, size_t start, size_t budget, int over,
                     keel_str_t *line, size_t *next)
{
	size_t avail = p->len - start;
	size_t n = avail < budget ? avail : budget;
	const char *nl = n != 0 ? memchr(p->buf + start, '\n', n) : NULL;
	if (nl == NULL)
		return avail >= budget ? fail(p, over) : KEEL_AGAIN;
	size_t end = (size_t)(nl - p->buf);
	int eol = EOL_LF;
	*next = end + 1;
	if (end > start && p->buf[end - 1] == '\r') {
		end--;
		eol = EOL_CRLF;
	}
	if (p->eol != EOL_UNKNOWN && p->eol != eol)
		return fail(p, 400);
	p->eol = eol;
	*line = (keel_str_t){p->buf + start, end - start};
	return KEEL_OK;
}

/*
 * "HTTP/" DIGIT "." DIGIT.  A well-formed version other than 1.0 and 1.1
 * is 505 rather than 400, and so is "HTTP/" DIGIT, the way HTTP/2 and
 * HTTP/3 are written; anything else is not a version at all.
 */
static int parse_version(keel_str_t v, int *minor)
{
	if (v.len < 6 || memcmp(v.ptr, "HTTP/", 5) != 0 || v.ptr[5] < '0' ||
	    v.ptr[5] > '9')
		return 400;
	if (v.len == 6)
		return 505;
	if (v.len != 8 || v.ptr[6] != '.' || v.ptr[7] < '0' || v.ptr[7] > '9')
		return 400;
	if (v.ptr[5] != '1' || v.ptr[7] > '1')
		return 505;
	*minor = v.ptr[7] - '0';
	return 0;
}

/*
 * method SP request-target SP HTTP-version, exactly one space each.  The
 * checks run from syntax to meaning: a malformed line is 400 whatever its
 * method, a version we cannot read makes the rest meaningless (505), and
 * only a well-formed request for a method we lack is 501.
 */
static int request_line(struct parse *p, keel_str_t line)
{
	keel_http_request_t *req = p->req;
	ptrdiff_t sp1 = keel_str_index(line, ' ');
	keel_str_t method = keel_str_sub(line, 0, sp1 > 0 ? (size_t)sp1 : 0);
	keel_str_t rest = keel_str_sub(line, method.len + 1, line.len);
	ptrdiff_t sp2 = keel_str_index(rest, ' ');
	if (!keel__http_is_token(method) || sp2 <= 0)
		return fail(p, 400);
	keel_str_t target = keel_str_sub(rest, 0, (size_t)sp2);
	keel_str_t version = keel_str_sub(rest, (size_t)sp2 + 1, rest.len);
	int st = parse_version(version, &req->minor_version);
	if (st != 0)
		return fail(p, st);
	req->method_name = method;
	req->method = keel_http_method_parse(method);
	st = keel__http_target_parse(req, target);
	if (st != 0)
		return fail(p, st);
	if (req->method == KEEL_HTTP_UNKNOWN ||
	    req->method == KEEL_HTTP_TRACE || req->method == KEEL_HTTP_CONNECT)
		return fail(p, 501);
	return KEEL_OK;
}

/*
 * Empty lines before the request line are skipped (RFC 9112 2.2: clients
 * may send a stray CRLF after a body) but count against max_line, so a
 * stream of them still ends in 414.
 */
static int parse_start(struct parse *p, size_t *pos)
{
	keel_str_t line;
	size_t next = 0;
	do {
		size_t budget = p->lim->max_line - *pos;
		int rc = next_line(p, *pos, budget, 414, &line, &next);
		if (rc != KEEL_OK)
			return rc;
		*pos = next;
	} while (line.len == 0);
	return request_line(p, line);
}

/*
 * name ":" OWS value OWS.  A line starting with whitespace is refused: it
 * is either obs-fold (RFC 9112 5.2 lets a server refuse it) or whitespace
 * before the first field (5.1 asks for refusal), and both have been used
 * to hide headers.  The name must be a token right up to the colon, so
 * "Transfer-Encoding : chunked" is refused, not read as another header.
 */
static bool split_field(keel_str_t line, keel_http_header_t *h)
{
	size_t i = 0;
	while (i < line.len &&
	       keel__http_is((unsigned char)line.ptr[i], KEEL__HTTP_TCHAR))
		i++;
	if (i == 0 || i == line.len || line.ptr[i] != ':')
		return false;
	h->name = (keel_str_t){line.ptr, i};
	h->value = keel_str_trim(keel_str_sub(line, i + 1, line.len));
	for (size_t j = 0; j < h->value.len; j++)
		if (!keel__http_is((unsigned char)h->value.ptr[j],
		                   KEEL__HTTP_VALUE))
			return false;
	return true;
}

static int add_field(struct parse *p, keel_str_t line)
{
	keel_http_request_t *req = p->req;
	if (req->header_count == p->cap)
		return fail(p, 431);
	keel_http_header_t *h = &req->headers[req->header_count];
	if (!split_field(line, h))
		return fail(p, 400);
	req->header_count++;
	int st = keel__http_field_apply(&p->fields, req, p->lim, h);
	return st != 0 ? fail(p, st) : KEEL_OK;
}

/*
 * Field lines up to the empty line.  Each line may use what is left of
 * max_head, but never more than max_field; both overruns are 431.  The
 * head length is returned as an int, so limits that add up to more than
 * INT_MAX are clipped there.
 */
static int parse_fields(struct parse *p, size_t pos)
{
	const keel_http_limits_t *lim = p->lim;
	size_t head_start = pos;
	for (;;) {
		keel_str_t line;
		size_t next = 0;
		size_t budget = lim->max_head - (pos - head_start);
		if (budget > lim->max_field)
			budget = lim->max_field;
		int rc = next_line(p, pos, budget, 431, &line, &next);
		if (rc != KEEL_OK)
			return rc;
		pos = next;
		if (line.len == 0)
			break;
		rc = add_field(p, line);
		if (rc != KEEL_OK)
			return rc;
	}
	int st = keel__http_fields_finish(&p->fields, p->req);
	if (st != 0)
		return fail(p, st);
	return pos <= INT_MAX ? (int)pos : fail(p, 431);
}

int keel_http_parse_request(const char *buf, size_t len,
                            const keel_http_limits_t *lim,
                            keel_http_request_t *req, keel_http_header_t *hdrs,
                            size_t hdr_cap, int *status)
{
	struct parse p = {.buf = buf, .len = len, .req = req};
	p.lim = lim != NULL ? lim : &default_limits;
	p.cap = hdr_cap < p.lim->max_fields ? hdr_cap : p.lim->max_fields;
	*req = (keel_http_request_t){.headers = hdrs};
	*status = 0;
	size_t pos = 0;
	int rc = parse_start(&p, &pos);
	if (rc == KEEL_OK)
		rc = parse_fields(&p, pos);
	if (rc == KEEL_EINVAL)
		*status = p.status;
	return rc;
}

int keel_http_header_get(const keel_http_request_t *req, keel_str_t name,
                         keel_str_t *value)
{
	for (size_t i = 0; i < req->header_count; i++) {
		if (keel_str_eq_nocase(req->headers[i].name, name)) {
			*value = req->headers[i].value;
			return KEEL_OK;
		}
	}
	return KEEL_ENOENT;
}
