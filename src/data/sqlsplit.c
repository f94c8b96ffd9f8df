/*
 * Splitting a migration file into statements: a small lexer that skips
 * everything able to hold a ';' that does not end a statement (see
 * data/sqlsplit.h for the list).  Dialect-neutral on purpose: one file may
 * be run on SQLite and on PostgreSQL, so only constructs both read the same
 * way, or that only one of them has, are recognised.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "data/sqlsplit.h"

typedef enum tok {
	TOK_SPACE, /* blanks and comments */
	TOK_WORD,  /* identifier or keyword */
	TOK_SEMI,
	TOK_OTHER, /* literal, quoted identifier, operator, digit */
	TOK_ERROR,
} tok_t;

/* Lexer position plus what a failed token was. */
typedef struct lex {
	const char *s;
	size_t n, i;
	keel_str_t word;
	const char *why;
} lex_t;

/* What the statement so far says about BEGIN ... END bodies. */
typedef struct body {
	bool started; /* a token of the statement was seen */
	bool prefix;  /* after CREATE, only modifiers so far */
	bool blocks;  /* CREATE TRIGGER / FUNCTION / PROCEDURE */
	size_t depth; /* open BEGIN or CASE */
} body_t;

static bool is_word_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

static bool is_word_char(unsigned char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool word_is(keel_str_t w, const char *kw)
{
	return keel_str_eq_nocase(w, keel_str_from_cstr(kw));
}

/*
 * A quoted run that ends at the next unpaired `q`: a doubled quote stands
 * for itself in every SQL dialect, and with `backslash` (E'...' strings) a
 * backslash also escapes the byte after it.
 */
static tok_t lex_quoted(lex_t *lx, char q, bool backslash, const char *why)
{
	size_t i = lx->i + 1;
	while (i < lx->n) {
		char c = lx->s[i];
		if (backslash && c == '\\') {
			i += 2;
		} else if (c != q) {
			i++;
		} else if (i + 1 < lx->n && lx->s[i + 1] == q) {
			i += 2;
		} else {
			lx->i = i + 1;
			return TOK_OTHER;
		}
	}
	lx->why = why;
	return TOK_ERROR;
}

/* Length of a dollar-quote tag ($$ or $name$) at the position, else 0. */
static size_t dollar_tag(const lex_t *lx)
{
	size_t i = lx->i + 1;
	if (i < lx->n && is_word_start((unsigned char)lx->s[i])) {
		while (i < lx->n && is_word_char((unsigned char)lx->s[i]) &&
		       lx->s[i] != '$')
			i++;
	}
	return i < lx->n && lx->s[i] == '$' ? i + 1 - lx->i : 0;
}

/* PostgreSQL's $tag$ ... $tag$: the body ends at the same tag, nothing else. */
static tok_t lex_dollar(lex_t *lx, size_t tag)
{
	const char *open = lx->s + lx->i;
	size_t from = lx->i + tag;
	const char *end = memmem(lx->s + from, lx->n - from, open, tag);
	if (!end) {
		lx->why = "unterminated dollar-quoted string";
		return TOK_ERROR;
	}
	lx->i = (size_t)(end - lx->s) + tag;
	return TOK_OTHER;
}

static tok_t lex_comment(lex_t *lx)
{
	const char *at = lx->s + lx->i;
	if (at[0] == '-') {
		const char *nl = memchr(at, '\n', lx->n - lx->i);
		lx->i = nl ? (size_t)(nl - lx->s) + 1 : lx->n;
		return TOK_SPACE;
	}
	const char *end = memmem(at + 2, lx->n - lx->i - 2, "*/", 2);
	if (!end) {
		lx->why = "unterminated /* comment";
		return TOK_ERROR;
	}
	lx->i = (size_t)(end - lx->s) + 2;
	return TOK_SPACE;
}

/* A word, or the E of an E'...' string (then the string is the token). */
static tok_t lex_word(lex_t *lx)
{
	size_t from = lx->i;
	while (lx->i < lx->n && is_word_char((unsigned char)lx->s[lx->i]))
		lx->i++;
	lx->word = (keel_str_t){lx->s + from, lx->i - from};
	if (word_is(lx->word, "e") && lx->i < lx->n && lx->s[lx->i] == '\'')
		return lex_quoted(lx, '\'', true, "unterminated string");
	return TOK_WORD;
}

/* One token at lx->i, which moves past it. */
static tok_t lex_next(lex_t *lx)
{
	unsigned char c = (unsigned char)lx->s[lx->i];
	bool two = lx->i + 1 < lx->n;
	size_t tag;
	if (is_space(c)) {
		while (lx->i < lx->n && is_space((unsigned char)lx->s[lx->i]))
			lx->i++;
		return TOK_SPACE;
	}
	if (two && ((c == '-' && lx->s[lx->i + 1] == '-') ||
	            (c == '/' && lx->s[lx->i + 1] == '*')))
		return lex_comment(lx);
	if (c == '\'')
		return lex_quoted(lx, '\'', false, "unterminated string");
	if (c == '"' || c == '`')
		return lex_quoted(lx, (char)c, false,
		                  "unterminated quoted identifier");
	if (c == '$' && (tag = dollar_tag(lx)) > 0)
		return lex_dollar(lx, tag);
	if (is_word_start(c))
		return lex_word(lx);
	lx->i++;
	return c == ';' ? TOK_SEMI : TOK_OTHER;
}

/*
 * Track BEGIN ... END bodies: only a statement that starts CREATE [OR
 * REPLACE] [TEMP|TEMPORARY|CONSTRAINT] TRIGGER / FUNCTION / PROCEDURE has
 * them, so a column called "end" elsewhere changes nothing.  CASE ... END
 * nests inside a body and must be counted, or its END would close it.
 */
static void body_word(body_t *b, keel_str_t w)
{
	if (!b->started) {
		b->prefix = word_is(w, "create");
	} else if (b->prefix) {
		b->blocks = word_is(w, "trigger") || word_is(w, "function") ||
		            word_is(w, "procedure");
		b->prefix = !b->blocks &&
		            (word_is(w, "or") || word_is(w, "replace") ||
		             word_is(w, "temp") || word_is(w, "temporary") ||
		             word_is(w, "constraint"));
	} else if (b->blocks) {
		if (word_is(w, "begin") || word_is(w, "case"))
			b->depth++;
		else if (word_is(w, "end") && b->depth > 0)
			b->depth--;
	}
}

static keel_str_t trim_right(const char *p, size_t len)
{
	while (len > 0 && is_space((unsigned char)p[len - 1]))
		len--;
	return (keel_str_t){p, len};
}

/* The statement ended at `end`; hand it out and move past `next`. */
static int emit(keel_str_t *rest, keel_str_t *stmt, size_t start, size_t end,
                size_t next)
{
	*stmt = trim_right(rest->ptr + start, end - start);
	rest->ptr += next;
	rest->len -= next;
	return 1;
}

int keel__sqlsplit_next(keel_str_t *rest, keel_str_t *stmt, const char **why)
{
	lex_t lx = {.s = rest->ptr, .n = rest->len};
	body_t b = {0};
	size_t start = SIZE_MAX;
	while (lx.i < lx.n) {
		size_t at = lx.i;
		tok_t t = lex_next(&lx);
		if (t == TOK_ERROR) {
			*why = lx.why;
			*stmt = (keel_str_t){lx.s + at, lx.n - at};
			return KEEL_EINVAL;
		}
		if (t == TOK_SPACE || (t == TOK_SEMI && start == SIZE_MAX))
			continue;
		if (t == TOK_SEMI && b.depth == 0)
			return emit(rest, stmt, start, at, lx.i);
		if (start == SIZE_MAX)
			start = at;
		if (t == TOK_WORD)
			body_word(&b, lx.word);
		b.started = true;
	}
	if (start == SIZE_MAX) {
		rest->ptr += lx.n;
		rest->len = 0;
		return 0;
	}
	if (b.depth > 0) {
		*why = "BEGIN without END";
		*stmt = (keel_str_t){lx.s + start, lx.n - start};
		return KEEL_EINVAL;
	}
	return emit(rest, stmt, start, lx.n, lx.n);
}
