/*
 * Template lexing: the source is cut into literal text and tags ({{ }},
 * {% %}, comments are dropped here), then the inside of one tag into
 * tokens.  Positions stay byte offsets into the source; a line and column
 * are computed only when an error is reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template_int.h"

/* Columns count characters, not bytes: UTF-8 continuation bytes are
 * skipped, so an editor's column and ours agree on non-ASCII text. */
static void position(const tpl_t *t, uint32_t pos, unsigned *line,
                     unsigned *col)
{
	unsigned l = 1, c = 1;
	if (pos > t->len)
		pos = t->len;
	for (uint32_t i = 0; i < pos; i++) {
		unsigned char ch = (unsigned char)t->src[i];
		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int keel__tpl_fail(keel_tpl_error_t *err, int code, const tpl_t *t,
                   uint32_t pos, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->line = err->col = 0;
	err->name[0] = '\0';
	if (t != NULL) {
		snprintf(err->name, sizeof err->name, "%s", t->name);
		if (pos != TPL_NONE)
			position(t, pos, &err->line, &err->col);
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Offset of the next "{{", "{%" or "{#" at or after `from`, or t->len. */
static uint32_t next_open(const tpl_t *t, uint32_t from)
{
	const char *s = t->src;
	while (from + 1 < t->len) {
		const char *p = memchr(s + from, '{', t->len - from - 1);
		if (p == NULL)
			break;
		uint32_t i = (uint32_t)(p - s);
		if (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#')
			return i;
		from = i + 1;
	}
	return t->len;
}

/*
 * The closing "}}" or "%}" of a tag, skipping string literals so that
 * {{ "}}" }} works; TPL_NONE when the tag never closes.
 */
static uint32_t find_close(const tpl_t *t, uint32_t i, char close)
{
	char quote = 0;
	for (; i < t->len; i++) {
		char c = t->src[i];
		if (quote != 0) {
			if (c == '\\')
				i++;
			else if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == close && i + 1 < t->len &&
		           t->src[i + 1] == '}') {
			return i;
		}
	}
	return TPL_NONE;
}

static uint32_t find_comment_end(const tpl_t *t, uint32_t i)
{
	for (; i + 1 < t->len; i++)
		if (t->src[i] == '#' && t->src[i + 1] == '}')
			return i;
	return TPL_NONE;
}

/*
 * Literal text up to the next tag, trimmed on either side when a '-'
 * whitespace marker asks for it.  False when nothing is left of it.
 */
static bool take_text(tpl_lex_t *lx, tpl_piece_t *p)
{
	const tpl_t *t = lx->t;
	uint32_t start = lx->at, stop = next_open(t, start);
	lx->at = stop;
	if (lx->trim_next)
		while (start < stop && is_space(t->src[start]))
			start++;
	lx->trim_next = false;
	if (stop + 2 < t->len && t->src[stop + 2] == '-')
		while (stop > start && is_space(t->src[stop - 1]))
			stop--;
	p->kind = TP_TEXT;
	p->pos = p->off = start;
	p->len = stop - start;
	return p->len != 0;
}

/* One tag starting at lx->at; comments are consumed and reported as
 * an empty text piece (p->len == 0). */
static int take_tag(tpl_lex_t *lx, tpl_piece_t *p, keel_tpl_error_t *err)
{
	const tpl_t *t = lx->t;
	uint32_t pos = lx->at, body = pos + 2;
	char kind = t->src[pos + 1];
	if (body < t->len && t->src[body] == '-')
		body++;
	uint32_t close = kind == '#'
	                         ? find_comment_end(t, body)
	                         : find_close(t, body, kind == '{' ? '}' : '%');
	if (close == TPL_NONE)
		return keel__tpl_fail(err, KEEL_EINVAL, t, pos,
		                      kind == '#'   ? "comment is never closed"
		                      : kind == '{' ? "'{{' is never closed"
		                                    : "'{%%' is never closed");
	uint32_t stop = close;
	if (stop > body && t->src[stop - 1] == '-') {
		stop--;
		lx->trim_next = true;
	}
	lx->at = close + 2;
	p->kind = kind == '{' ? TP_OUT : kind == '%' ? TP_STMT : TP_TEXT;
	p->pos = pos;
	p->off = body;
	p->len = kind == '#' ? 0 : stop - body;
	return 0;
}

int keel__tpl_lex_next(tpl_lex_t *lx, tpl_piece_t *p, keel_tpl_error_t *err)
{
	for (;;) {
		if (lx->at >= lx->t->len) {
			p->kind = TP_EOF;
			p->pos = p->off = lx->t->len;
			p->len = 0;
			return 0;
		}
		if (next_open(lx->t, lx->at) != lx->at) {
			if (take_text(lx, p))
				return 0;
			continue;
		}
		int rc = take_tag(lx, p, err);
		if (rc != 0 || p->kind != TP_TEXT)
			return rc;
	}
}

/* ---------------------------------------------------------------- tokens */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A quoted literal, quotes included; the closing quote is guaranteed by
 * find_close, but a tag cut short by the end of its inside is checked. */
static int scan_string(tpl_parser_t *p, uint32_t i)
{
	const char *s = p->t->src;
	char quote = s[i];
	for (uint32_t j = i + 1; j < p->tag_end; j++) {
		if (s[j] == '\\') {
			j++;
		} else if (s[j] == quote) {
			p->tok = (tpl_tok_t){TT_STR, i, j + 1 - i};
			p->at = j + 1;
			return 0;
		}
	}
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, i,
	                      "string literal is never closed");
}

/* Operators and punctuation of one or two bytes; 0 when `c` is none. */
static uint8_t punct(char c, char next, uint32_t *len)
{
	*len = 1;
	switch (c) {
	case '.': return TT_DOT;
	case '[': return TT_LBRACK;
	case ']': return TT_RBRACK;
	case '(': return TT_LPAREN;
	case ')': return TT_RPAREN;
	case '|': return TT_PIPE;
	case ',': return TT_COMMA;
	default: break;
	}
	*len = 2;
	if (c == '=' && next == '=')
		return TT_EQ;
	if (c == '!' && next == '=')
		return TT_NE;
	if (c == '<' || c == '>') {
		*len = next == '=' ? 2 : 1;
		if (c == '<')
			return next == '=' ? TT_LE : TT_LT;
		return next == '=' ? TT_GE : TT_GT;
	}
	return 0;
}

int keel__tpl_tok_next(tpl_parser_t *p)
{
	const char *s = p->t->src;
	uint32_t i = p->at, end = p->tag_end;
	while (i < end && is_space(s[i]))
		i++;
	if (i >= end) {
		p->tok = (tpl_tok_t){TT_END, end, 0};
		p->at = end;
		return 0;
	}
	uint32_t j = i + 1;
	char next = j < end ? s[j] : '\0';
	if (is_alpha(s[i]) || is_digit(s[i]) ||
	    (s[i] == '-' && is_digit(next))) {
		bool word = is_alpha(s[i]);
		while (j < end && (word ? is_alpha(s[j]) || is_digit(s[j])
		                        : is_digit(s[j])))
			j++;
		p->tok = (tpl_tok_t){word ? TT_IDENT : TT_INT, i, j - i};
		p->at = j;
		return 0;
	}
	if (s[i] == '"' || s[i] == '\'')
		return scan_string(p, i);
	uint32_t len;
	uint8_t kind = punct(s[i], next, &len);
	if (kind == 0) {
		unsigned char c = (unsigned char)s[i];
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, i,
		                      c > 0x20 && c < 0x7f
		                              ? "unexpected character '%c'"
		                              : "unexpected byte 0x%02x",
		                      c);
	}
	p->tok = (tpl_tok_t){kind, i, len};
	p->at = i + len;
	return 0;
}

bool keel__tpl_tok_is(const tpl_parser_t *p, const char *word)
{
	size_t n = strlen(word);
	return p->tok.kind == TT_IDENT && p->tok.len == n &&
	       memcmp(p->t->src + p->tok.off, word, n) == 0;
}

/* The value of the current string token, unescaped into the pool.
 * Escapes: \\ \" \' \n \t; anything else is refused so a typo shows. */
int keel__tpl_tok_string(tpl_parser_t *p, uint32_t *off, uint32_t *len)
{
	const char *s = p->t->src + p->tok.off + 1;
	uint32_t n = p->tok.len - 2, out = 0;
	*off = TPL_NONE;
	*len = 0;
	char tmp[256] = "", *buf = n <= sizeof tmp ? tmp : malloc(n);
	if (buf == NULL)
		return keel__tpl_fail(p->err, KEEL_ENOMEM, p->t, p->tok.off,
		                      "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\') {
			c = s[++i];
			if (c == 'n' || c == 't')
				c = c == 'n' ? '\n' : '\t';
			else if (c != '\\' && c != '"' && c != '\'') {
				if (buf != tmp)
					free(buf);
				return keel__tpl_fail(
				        p->err, KEEL_EINVAL, p->t,
				        p->tok.off + i, "unknown escape '\\%c'",
				        c > 0x20 && c < 0x7f ? c : '?');
			}
		}
		buf[out++] = c;
	}
	*off = keel__tpl_pool_add(p->t, buf, out);
	*len = out;
	if (buf != tmp)
		free(buf);
	if (*off == TPL_NONE)
		return keel__tpl_fail(p->err, KEEL_ENOMEM, p->t, p->tok.off,
		                      "out of memory");
	return 0;
}
