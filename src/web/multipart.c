/*
 * multipart/form-data: the incremental parser of keel/multipart.h, its
 * part-header and Content-Type parameter readers, the whole-body wrapper
 * for requests, and the file-name sanitiser.
 *
 * The boundary search relies on one property of the delimiter
 * CRLF "--" boundary: boundaries cannot contain CR, so the delimiter holds
 * exactly one CR, at its start.  Bytes that matched a prefix of it and
 * then diverged can therefore never hold the start of another match - only
 * the diverging byte can - so matching needs no failure table, and the
 * held-back bytes never need storing: they are the delimiter's own prefix.
 */
#include <string.h>

#include "keel/multipart.h"
#include "keel/req.h"
#include "keel/utf8.h"

enum {
	S_PREAMBLE, /* before the first delimiter: bytes are dropped */
	S_DATA,     /* in a part's data */
	S_AFTER,    /* delimiter just matched */
	S_CLOSE,    /* "--boundary-" read: one more '-' closes the body */
	S_PADDING,  /* spaces or tabs after the delimiter */
	S_LF,       /* CR after the delimiter line: LF next */
	S_HEADERS,  /* a part's header section */
	S_DONE,     /* closing delimiter read; the epilogue is ignored */
	S_FAILED,   /* mp->rc and mp->status hold the verdict */
};

#define FOUND 1 /* scan_data: a whole delimiter was matched */

static const keel_multipart_limits_t defaults = {
        .max_parts = 100,
        .max_header_bytes = 8192,
        .max_field_bytes = 64 * 1024,
        .max_file_bytes = 16 * 1024 * 1024,
        .max_total = 32 * 1024 * 1024,
};

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 2046 bchars: the only bytes a boundary may hold. */
static bool is_bchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("'()+_,-./:=? ", c));
}

static bool valid_boundary(keel_str_t b)
{
	if (b.len == 0 || b.len > KEEL_MULTIPART_BOUNDARY_MAX ||
	    b.ptr[b.len - 1] == ' ')
		return false;
	for (size_t i = 0; i < b.len; i++)
		if (!is_bchar((unsigned char)b.ptr[i]))
			return false;
	return true;
}

static size_t skip_ows(keel_str_t s, size_t i)
{
	while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
		i++;
	return i;
}

static size_t skip_token(keel_str_t s, size_t i)
{
	while (i < s.len && is_tchar((unsigned char)s.ptr[i]))
		i++;
	return i;
}

/*
 * One `; key=value` parameter from s at *pos, value a token or a quoted
 * string taken raw up to the next quote.  0, KEEL_ENOENT at the end
 * (a trailing ';' is tolerated), KEEL_EINVAL for anything else.
 */
static int next_param(keel_str_t s, size_t *pos, keel_str_t *key,
                      keel_str_t *value)
{
	size_t i = skip_ows(s, *pos);
	if (i == s.len)
		return KEEL_ENOENT;
	if (s.ptr[i] != ';')
		return KEEL_EINVAL;
	i = skip_ows(s, i + 1);
	if (i == s.len)
		return KEEL_ENOENT;
	size_t k = i;
	i = skip_token(s, i);
	*key = keel_str_sub(s, k, i - k);
	i = skip_ows(s, i);
	if (key->len == 0 || i == s.len || s.ptr[i] != '=')
		return KEEL_EINVAL;
	i = skip_ows(s, i + 1);
	size_t v = i;
	if (i < s.len && s.ptr[i] == '"') {
		const char *q = memchr(s.ptr + i + 1, '"', s.len - i - 1);
		if (!q)
			return KEEL_EINVAL;
		*value = keel_str_sub(s, i + 1, (size_t)(q - s.ptr) - i - 1);
		*pos = (size_t)(q - s.ptr) + 1;
		return KEEL_OK;
	}
	i = skip_token(s, i);
	if (i == v)
		return KEEL_EINVAL;
	*value = keel_str_sub(s, v, i - v);
	*pos = i;
	return KEEL_OK;
}

/* Set *slot from a parameter seen for the first time; twice is malformed. */
static int take_once(keel_str_t *slot, bool *seen, keel_str_t value)
{
	if (*seen)
		return KEEL_EINVAL;
	*seen = true;
	*slot = value;
	return KEEL_OK;
}

int keel_multipart_boundary(keel_str_t content_type, keel_str_t *boundary)
{
	size_t pos = skip_token(content_type, 0);
	if (pos < content_type.len && content_type.ptr[pos] == '/')
		pos = skip_token(content_type, pos + 1);
	if (!keel_str_eq_nocase(keel_str_sub(content_type, 0, pos),
	                        KEEL_STR("multipart/form-data")))
		return KEEL_ENOENT;
	keel_str_t key, value, found = {0};
	bool seen = false;
	int rc;
	while ((rc = next_param(content_type, &pos, &key, &value)) == 0)
		if (keel_str_eq_nocase(key, KEEL_STR("boundary")) &&
		    take_once(&found, &seen, value) != KEEL_OK)
			return KEEL_EINVAL;
	if (rc != KEEL_ENOENT || !seen || !valid_boundary(found))
		return KEEL_EINVAL;
	*boundary = found;
	return KEEL_OK;
}

/*
 * Content-Disposition: form-data; name="..."[; filename="..."].  Other
 * parameters (filename*, which RFC 7578 forbids here) are ignored.
 */
static int parse_disposition(keel_str_t v, keel_multipart_part_t *part)
{
	size_t pos = skip_token(v, 0);
	if (!keel_str_eq_nocase(keel_str_sub(v, 0, pos), KEEL_STR("form-data")))
		return KEEL_EINVAL;
	keel_str_t key, value;
	bool named = false;
	int rc;
	while ((rc = next_param(v, &pos, &key, &value)) == KEEL_OK) {
		if (keel_str_eq_nocase(key, KEEL_STR("name")))
			rc = take_once(&part->name, &named, value);
		else if (keel_str_eq_nocase(key, KEEL_STR("filename")))
			rc = take_once(&part->filename, &part->is_file, value);
		if (rc != KEEL_OK)
			return rc;
	}
	return rc == KEEL_ENOENT && named ? KEEL_OK : KEEL_EINVAL;
}

/* One "Name: value" line: a token name, visible bytes or tabs after. */
static int split_header(keel_str_t line, keel_str_t *name, keel_str_t *value)
{
	size_t colon = skip_token(line, 0);
	if (colon == 0 || colon == line.len || line.ptr[colon] != ':')
		return KEEL_EINVAL;
	for (size_t i = colon + 1; i < line.len; i++) {
		unsigned char c = (unsigned char)line.ptr[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return KEEL_EINVAL;
	}
	*name = keel_str_sub(line, 0, colon);
	*value = keel_str_trim(keel_str_sub(line, colon + 1, line.len));
	return KEEL_OK;
}

static int apply_header(keel_multipart_part_t *part, keel_str_t name,
                        keel_str_t value, bool *disp, bool *type)
{
	if (keel_str_eq_nocase(name, KEEL_STR("Content-Disposition"))) {
		if (*disp)
			return KEEL_EINVAL;
		*disp = true;
		return parse_disposition(value, part);
	}
	if (keel_str_eq_nocase(name, KEEL_STR("Content-Type"))) {
		if (value.len == 0)
			return KEEL_EINVAL;
		return take_once(&part->content_type, type, value);
	}
	return KEEL_OK;
}

/*
 * The buffered section is "line CRLF ... CRLF CRLF", or just CRLF for a
 * part without headers.  A bare CR or LF inside a line is refused, which
 * split_header does by refusing controls.
 */
static int parse_headers(keel_multipart_t *mp)
{
	keel_multipart_part_t *part = &mp->part;
	keel_str_t rest = {mp->hdr.data, mp->hdr.len - 2};
	bool disp = false, type = false;
	*part = (keel_multipart_part_t){.index = mp->parts - 1};
	part->headers = (keel_str_t){mp->hdr.data, mp->hdr.len};
	part->content_type = KEEL_STR("text/plain");
	while (rest.len > 0) {
		const char *end = memmem(rest.ptr, rest.len, "\r\n", 2);
		keel_str_t line = keel_str_sub(
		        rest, 0, end ? (size_t)(end - rest.ptr) : rest.len);
		rest = keel_str_sub(rest, line.len + 2, rest.len);
		keel_str_t name, value;
		int rc = split_header(line, &name, &value);
		if (rc == KEEL_OK)
			rc = apply_header(part, name, value, &disp, &type);
		if (rc != KEEL_OK)
			return rc;
	}
	return disp ? KEEL_OK : KEEL_EINVAL;
}

static void fail_with(keel_multipart_t *mp, int rc, int status)
{
	mp->state = S_FAILED;
	mp->rc = rc;
	mp->status = status;
}

static int fail(keel_multipart_t *mp, int rc)
{
	fail_with(mp, rc,
	          rc == KEEL_EINVAL   ? 400
	          : rc == KEEL_ELIMIT ? 413
	                              : 500);
	return rc;
}

/* A callback's verdict: 0 goes on, anything else stops the parser. */
static int callback_result(keel_multipart_t *mp, int r)
{
	if (r == 0)
		return KEEL_OK;
	fail_with(mp, KEEL_ESTATE, r >= 400 && r <= 599 ? r : 500);
	return KEEL_ESTATE;
}

/*
 * Deliver confirmed data, clipped at the part's limit so the bytes handed
 * out before a 413 are exactly the limit, however the body was split.
 */
static int emit(keel_multipart_t *mp, const char *p, size_t n)
{
	if (mp->state == S_PREAMBLE || n == 0)
		return KEEL_OK;
	keel_multipart_part_t *part = &mp->part;
	uint64_t max = part->is_file ? mp->lim.max_file_bytes
	                             : mp->lim.max_field_bytes;
	bool over = n > max - part->size;
	size_t take = over ? (size_t)(max - part->size) : n;
	if (take > 0) {
		part->size += take;
		if (mp->cb.part_data &&
		    callback_result(mp, mp->cb.part_data(mp->ud, part, p,
		                                         take)) != KEEL_OK)
			return KEEL_ESTATE;
	}
	return over ? fail(mp, KEEL_ELIMIT) : KEEL_OK;
}

/*
 * Data (or preamble) bytes up to a delimiter.  [start, i) is the pending
 * run of this chunk known to be data; `carried` delimiter bytes were held
 * back from an earlier chunk.  Returns FOUND with *used just past the
 * delimiter, 0 with the whole chunk used, or a failure.
 */
static int scan_data(keel_multipart_t *mp, const char *p, size_t len,
                     size_t *used)
{
	size_t carried = mp->match, i = 0;
	while (i < len) {
		if (mp->match == 0) {
			const char *cr = memchr(p + i, '\r', len - i);
			i = cr ? (size_t)(cr - p) + 1 : len;
			mp->match = cr ? 1 : 0;
		} else if (p[i] == mp->delim[mp->match]) {
			i++;
			if (++mp->match < mp->delim_len)
				continue;
			mp->match = 0;
			*used = i;
			int rc = emit(mp, p, i + carried - mp->delim_len);
			return rc == KEEL_OK ? FOUND : rc;
		} else {
			/* diverged: held bytes are data; p[i] is looked at
			 * again, as it may start a new match */
			int rc = emit(mp, mp->delim, carried);
			if (rc != KEEL_OK)
				return rc;
			carried = 0;
			mp->match = 0;
		}
	}
	*used = len;
	return emit(mp, p, len - (mp->match - carried));
}

static int end_part(keel_multipart_t *mp)
{
	if (!mp->in_part)
		return KEEL_OK;
	mp->in_part = false;
	if (mp->cb.part_end)
		return callback_result(mp, mp->cb.part_end(mp->ud, &mp->part));
	return KEEL_OK;
}

/* CRLF after a delimiter: the previous part is over, a new one starts. */
static int start_headers(keel_multipart_t *mp)
{
	int rc = end_part(mp);
	if (rc != KEEL_OK)
		return rc;
	if (++mp->parts > mp->lim.max_parts)
		return fail(mp, KEEL_ELIMIT);
	keel_buf_reset(&mp->hdr);
	mp->hmatch = 2; /* the delimiter line's CRLF counts as the first */
	mp->state = S_HEADERS;
	return KEEL_OK;
}

/* One byte of the delimiter line's tail: "--", padding, CRLF. */
static int step_tail(keel_multipart_t *mp, char c)
{
	int s = mp->state;
	if (s == S_AFTER && c == '-')
		mp->state = S_CLOSE;
	else if (s == S_CLOSE && c == '-')
		mp->state = S_DONE;
	else if ((s == S_AFTER || s == S_PADDING) && (c == ' ' || c == '\t'))
		mp->state = S_PADDING;
	else if ((s == S_AFTER || s == S_PADDING) && c == '\r')
		mp->state = S_LF;
	else if (s == S_LF && c == '\n')
		return start_headers(mp);
	else
		return fail(mp, KEEL_EINVAL);
	return mp->state == S_DONE ? end_part(mp) : KEEL_OK;
}

/*
 * Header bytes up to and including the blank line; the section is
 * buffered (its limit is the buffer's) and parsed once complete.
 */
static int scan_headers(keel_multipart_t *mp, const char *p, size_t len,
                        size_t *used)
{
	static const char end[] = "\r\n\r\n";
	size_t i = 0;
	while (i < len && mp->hmatch < 4) {
		char c = p[i++];
		mp->hmatch = c == end[mp->hmatch] ? mp->hmatch + 1 : c == '\r';
	}
	*used = i;
	int rc = keel_buf_append(&mp->hdr, p, i);
	if (rc != KEEL_OK)
		return fail(mp, rc);
	if (mp->hmatch < 4)
		return KEEL_OK;
	if ((rc = parse_headers(mp)) != KEEL_OK)
		return fail(mp, rc);
	mp->state = S_DATA;
	mp->in_part = true;
	if (mp->cb.part_begin)
		return callback_result(mp,
		                       mp->cb.part_begin(mp->ud, &mp->part));
	return KEEL_OK;
}

/* Run the state machine over p[0..len) until used up, done or failed. */
static int run(keel_multipart_t *mp, const char *p, size_t len)
{
	size_t off = 0;
	while (off < len && mp->state != S_DONE && mp->state != S_FAILED) {
		size_t used = 1;
		int rc;
		if (mp->state == S_PREAMBLE || mp->state == S_DATA) {
			rc = scan_data(mp, p + off, len - off, &used);
			if (rc == FOUND) {
				mp->state = S_AFTER;
				rc = KEEL_OK;
			}
		} else if (mp->state == S_HEADERS) {
			rc = scan_headers(mp, p + off, len - off, &used);
		} else {
			rc = step_tail(mp, p[off]);
		}
		if (rc != KEEL_OK)
			return rc;
		off += used;
		mp->total += used;
	}
	return KEEL_OK;
}

int keel_multipart_init(keel_multipart_t *mp, keel_str_t boundary,
                        const keel_multipart_limits_t *lim,
                        const keel_multipart_callbacks_t *cb, void *ud)
{
	memset(mp, 0, sizeof(*mp));
	keel_buf_init(&mp->hdr, defaults.max_header_bytes);
	if (!valid_boundary(boundary))
		return KEEL_EINVAL;
	mp->lim = lim ? *lim : defaults;
	keel_multipart_limits_t *l = &mp->lim;
	l->max_parts = l->max_parts ? l->max_parts : defaults.max_parts;
	l->max_header_bytes = l->max_header_bytes ? l->max_header_bytes
	                                          : defaults.max_header_bytes;
	l->max_field_bytes = l->max_field_bytes ? l->max_field_bytes
	                                        : defaults.max_field_bytes;
	l->max_file_bytes =
	        l->max_file_bytes ? l->max_file_bytes : defaults.max_file_bytes;
	l->max_total = l->max_total ? l->max_total : defaults.max_total;
	keel_buf_init(&mp->hdr, l->max_header_bytes);
	if (cb)
		mp->cb = *cb;
	mp->ud = ud;
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary.ptr, boundary.len);
	mp->delim_len = 4 + boundary.len;
	mp->match = 2; /* the body's start acts as the CRLF before "--" */
	mp->state = S_PREAMBLE;
	return KEEL_OK;
}

void keel_multipart_deinit(keel_multipart_t *mp)
{
	keel_buf_deinit(&mp->hdr);
}

/*
 * Bytes past max_total are not parsed at all; the limit only bites when
 * the closing delimiter is not within it, so the epilogue never counts.
 */
int keel_multipart_feed(keel_multipart_t *mp, const char *data, size_t len)
{
	if (mp->state == S_FAILED)
		return mp->rc;
	if (mp->state == S_DONE)
		return KEEL_OK;
	uint64_t room = mp->lim.max_total - mp->total;
	size_t take = len > room ? (size_t)room : len;
	int rc = run(mp, data, take);
	if (rc != KEEL_OK)
		return rc;
	if (mp->state == S_DONE)
		return KEEL_OK;
	return take < len ? fail(mp, KEEL_ELIMIT) : KEEL_AGAIN;
}

int keel_multipart_finish(keel_multipart_t *mp)
{
	if (mp->state == S_FAILED)
		return mp->rc;
	if (mp->state == S_DONE)
		return KEEL_OK;
	return fail(mp, KEEL_EINVAL);
}

int keel_multipart_status(const keel_multipart_t *mp)
{
	return mp->status;
}

int keel_req_multipart(keel_req_t *req, const keel_multipart_limits_t *lim,
                       const keel_multipart_callbacks_t *cb, void *ud)
{
	keel_str_t ct, boundary;
	if (keel_req_header(req, "Content-Type", &ct) != KEEL_OK)
		return 415;
	int rc = keel_multipart_boundary(ct, &boundary);
	if (rc != KEEL_OK)
		return rc == KEEL_ENOENT ? 415 : 400;
	keel_multipart_t mp;
	keel_multipart_init(&mp, boundary, lim, cb, ud);
	keel_str_t body = keel_req_body(req);
	rc = keel_multipart_feed(&mp, body.ptr, body.len);
	if (rc == KEEL_AGAIN)
		keel_multipart_finish(&mp);
	int status = keel_multipart_status(&mp);
	keel_multipart_deinit(&mp);
	return status;
}

/* C1 controls and the bidirectional overrides, which can make
 * "cod.exe" display as "exe.doc". */
static bool is_invisible(const unsigned char *s, size_t n)
{
	if (n == 2)
		return s[0] == 0xc2 && s[1] < 0xa0;
	if (n != 3 || s[0] != 0xe2)
		return false;
	return (s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae) ||
	       (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9);
}

/* Copy the base name, dropping what is unsafe; returns the length. */
static size_t filter_name(keel_str_t raw, char *out)
{
	const unsigned char *s = (const unsigned char *)raw.ptr;
	size_t from = raw.len, w = 0;
	while (from > 0 && s[from - 1] != '/' && s[from - 1] != '\\')
		from--;
	for (size_t i = from; i < raw.len;) {
		size_t n = keel_utf8_seq(s + i, raw.len - i);
		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f ||
		    is_invisible(s + i, n)) {
			i += n ? n : 1;
			continue;
		}
		if (w + n > 255)
			break;
		if (n == 1 && strchr("<>:\"|?*", s[i])) {
			out[w++] = '_';
		} else {
			memcpy(out + w, s + i, n);
			w += n;
		}
		i += n;
	}
	return w;
}

/*
 * A client chooses the file name, so it may say "../../etc/passwd",
 * "C:\\boot.ini", ".bashrc" or carry terminal escapes; what is left here
 * can be joined to an upload directory without leaving it.
 */
int keel_multipart_safe_filename(keel_str_t raw, char *out, size_t cap,
                                 size_t *out_len)
{
	if (cap < raw.len + 1)
		return KEEL_ENOMEM;
	size_t w = filter_name(raw, out);
	size_t a = 0;
	while (a < w && (out[a] == '.' || out[a] == ' '))
		a++;
	while (w > a && (out[w - 1] == '.' || out[w - 1] == ' '))
		w--;
	memmove(out, out + a, w - a);
	w -= a;
	out[w] = '\0';
	if (out_len)
		*out_len = w;
	return w > 0 ? KEEL_OK : KEEL_EINVAL;
}
