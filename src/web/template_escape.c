/*
 * Printing values at output tags: text formatting of scalars, HTML entity
 * escaping, JSON (through jansson's streaming dump) escaped for where it
 * lands, and the scheme check for values that start a URL attribute.
 * Everything appends straight to the output buffer; the only allocation
 * is a temporary jansson value when a literal or a case-changed string
 * must be printed as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template_int.h"

static const char *const safe_schemes[] = {"http", "https", "mailto", "tel"};

int keel__tpl_put(tpl_render_t *r, const char *s, size_t n)
{
	int rc = keel_buf_append(r->out, s, n);
	if (rc == KEEL_ELIMIT)
		return keel__tpl_fail(
		        r->err, rc, r->cur, r->pos,
		        "output passes the buffer's %zu-byte limit",
		        r->out->max);
	if (rc != 0)
		return keel__tpl_fail(r->err, rc, r->cur, r->pos,
		                      "out of memory");
	return 0;
}

static const char *html_entity(unsigned char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	case '\0': return "\xef\xbf\xbd"; /* U+FFFD, as browsers would */
	default: return NULL;
	}
}

/* Runs of harmless bytes are appended in one call. */
static int put_html(tpl_render_t *r, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *ent = html_entity((unsigned char)s[i]);
		if (ent == NULL)
			continue;
		int rc = keel__tpl_put(r, s + start, i - start);
		if (rc == 0)
			rc = keel__tpl_put(r, ent, strlen(ent));
		if (rc != 0)
			return rc;
		start = i + 1;
	}
	return keel__tpl_put(r, s + start, n - start);
}

/* Text with its case flag applied, escaped unless `html` is false. */
static int put_text(tpl_render_t *r, const char *s, size_t n, unsigned fold,
                    bool html)
{
	if (fold == 0)
		return html ? put_html(r, s, n) : keel__tpl_put(r, s, n);
	char tmp[256];
	while (n != 0) {
		size_t k = n < sizeof tmp ? n : sizeof tmp;
		for (size_t i = 0; i < k; i++)
			tmp[i] = keel__tpl_fold(s[i], fold);
		int rc = html ? put_html(r, tmp, k) : keel__tpl_put(r, tmp, k);
		if (rc != 0)
			return rc;
		s += k;
		n -= k;
	}
	return 0;
}

/*
 * Browsers skip leading spaces and controls and drop tabs and newlines
 * anywhere in a URL; what is left before the first ':' is the scheme only
 * if that ':' comes before any '/', '?' or '#'.  So: no such ':' (a
 * relative URL) or a scheme on the list.
 */
static bool url_ok(const char *s, size_t n)
{
	char scheme[8];
	size_t len = 0, i = 0;
	while (i < n && (unsigned char)s[i] <= ' ')
		i++;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '/' || c == '?' || c == '#')
			return true;
		if (c == ':')
			break;
		if (len < sizeof scheme)
			scheme[len] = keel__tpl_fold(c, TPL_FOLD_LOWER);
		len++;
	}
	if (i == n)
		return true;
	for (size_t k = 0; k < KEEL_COUNTOF(safe_schemes); k++)
		if (strlen(safe_schemes[k]) == len &&
		    memcmp(scheme, safe_schemes[k], len) == 0)
			return true;
	return false;
}

/* Shortest text that reads back as the same double, always with a '.' or
 * an exponent so that it still looks like a real. */
static size_t format_real(double d, char *buf, size_t size)
{
	int n = 0;
	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (strpbrk(buf, ".en") == NULL && (size_t)n + 2 < size) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

/* The text of a scalar; KEEL_EINVAL for arrays, objects and loops. */
static int format(tpl_render_t *r, const tpl_val_t *v, char *buf, size_t size,
                  keel_str_t *out)
{
	switch (v->kind) {
	case TV_STR: *out = v->u.s; return 0;
	case TV_INT:
		*out = (keel_str_t){buf, (size_t)snprintf(buf, size, "%lld",
		                                          (long long)v->u.i)};
		return 0;
	case TV_REAL:
		*out = (keel_str_t){buf, format_real(v->u.r, buf, size)};
		return 0;
	case TV_BOOL:
		*out = v->u.b ? KEEL_STR("true") : KEEL_STR("false");
		return 0;
	case TV_UNDEF:
	case TV_NULL: *out = KEEL_STR(""); return 0;
	default:
		return keel__tpl_fail(
		        r->err, KEEL_EINVAL, r->cur, r->pos,
		        "cannot print a %s; use | json or | length",
		        keel__tpl_kind_name(v));
	}
}

/* ------------------------------------------------------------------ JSON */

typedef struct sink {
	tpl_render_t *r;
	unsigned esc;
	int rc;
} sink_t;

/* In a JSON data block '<' '>' '&' occur only inside strings, where the
 * \u forms mean the same; that keeps "</script>" and "<!--" out. */
static int put_script(tpl_render_t *r, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '<'   ? "\\u003c"
		                  : s[i] == '>' ? "\\u003e"
		                  : s[i] == '&' ? "\\u0026"
		                                : NULL;
		if (rep == NULL)
			continue;
		int rc = keel__tpl_put(r, s + start, i - start);
		if (rc == 0)
			rc = keel__tpl_put(r, rep, 6);
		if (rc != 0)
			return rc;
		start = i + 1;
	}
	return keel__tpl_put(r, s + start, n - start);
}

static int json_sink(const char *buf, size_t size, void *data)
{
	sink_t *s = data;
	s->rc = s->esc == TPL_ESC_SCRIPT ? put_script(s->r, buf, size)
	        : s->esc == TPL_ESC_NONE ? keel__tpl_put(s->r, buf, size)
	                                 : put_html(s->r, buf, size);
	return s->rc == 0 ? 0 : -1;
}

/* A jansson value for what came from a literal, a filter or a loop. */
static json_t *temp_json(const tpl_val_t *v)
{
	switch (v->kind) {
	case TV_STR: {
		char *copy = malloc(v->u.s.len + 1);
		if (copy == NULL)
			return NULL;
		for (size_t i = 0; i < v->u.s.len; i++)
			copy[i] = keel__tpl_fold(v->u.s.ptr[i], v->fold);
		json_t *j = json_stringn(copy, v->u.s.len);
		free(copy);
		return j;
	}
	case TV_INT: return json_integer(v->u.i);
	case TV_REAL: return json_real(v->u.r);
	case TV_BOOL: return json_boolean(v->u.b);
	default: return json_null();
	}
}

static int write_json(tpl_render_t *r, const tpl_val_t *v, unsigned esc)
{
	if (v->kind == TV_LOOP)
		return keel__tpl_fail(r->err, KEEL_EINVAL, r->cur, r->pos,
		                      "cannot print a loop as JSON");
	json_t *tmp = NULL;
	const json_t *j = v->json;
	if (j == NULL || (v->kind == TV_STR && v->fold != 0)) {
		j = tmp = temp_json(v);
		if (tmp == NULL)
			return keel__tpl_fail(r->err, KEEL_ENOMEM, r->cur,
			                      r->pos, "out of memory");
	}
	sink_t s = {r, esc, 0};
	int rc = json_dump_callback(j, json_sink, &s,
	                            JSON_COMPACT | JSON_ENCODE_ANY |
	                                    JSON_ENSURE_ASCII);
	json_decref(tmp);
	if (rc != 0 && s.rc == 0)
		return keel__tpl_fail(r->err, KEEL_EINVAL, r->cur, r->pos,
		                      "value cannot be written as JSON");
	return s.rc;
}

int keel__tpl_write(tpl_render_t *r, const tpl_val_t *v, unsigned flags,
                    unsigned esc)
{
	if (flags & TPL_OUT_JSON)
		return write_json(r, v, esc);
	char buf[40];
	keel_str_t text = KEEL_STR("");
	int rc = format(r, v, buf, sizeof buf, &text);
	if (rc != 0)
		return rc;
	if (esc == TPL_ESC_URL && !url_ok(text.ptr, text.len))
		return keel__tpl_put(r, TPL_BLOCKED_URL,
		                     sizeof TPL_BLOCKED_URL - 1);
	return put_text(r, text.ptr, text.len, v->fold, esc != TPL_ESC_NONE);
}
