/*
 * Template expressions: a recursive-descent parser for
 *   or  := and ("or" and)*        and := not ("and" not)*
 *   not := "not" not | cmp        cmp := post (op post)?
 *   post := primary ("|" filter)*
 *   primary := path | "str" | int | true | false | null | "(" or ")"
 * into nodes of the template's expression array.  Recursion (parentheses,
 * "not", filter arguments) is capped at TPL_MAX_EXPR, and so is the
 * height of the resulting tree, because the renderer walks it
 * recursively on a coroutine's small stack.
 */
#include <string.h>

#include "keel/str.h"
#include "template_int.h"

static int parse_or(tpl_parser_t *p, unsigned depth, uint32_t *out);

static int fail_at(tpl_parser_t *p, int code, const char *msg)
{
	return keel__tpl_fail(p->err, code, p->t, p->tok.off, "%s", msg);
}

static uint8_t height(const tpl_t *t, uint32_t e)
{
	return e == TPL_NONE ? 0 : t->exprs[e].height;
}

/* Append an expression node, keeping the tree's height bounded. */
static int add(tpl_parser_t *p, uint8_t kind, uint32_t a, uint32_t b,
               uint32_t *out)
{
	tpl_t *t = p->t;
	unsigned h = 1;
	*out = TPL_NONE;
	if (kind >= TX_NOT) {
		uint8_t ha = height(t, a), hb = height(t, b);
		h = 1u + (ha > hb ? ha : hb);
		if (h > TPL_MAX_EXPR)
			return fail_at(p, KEEL_ELIMIT,
			               "expression nested too deeply");
	}
	if (keel__tpl_grow(&t->exprs, &t->cap_exprs, sizeof *t->exprs,
	                   t->n_exprs + 1) != 0)
		return fail_at(p, KEEL_ENOMEM, "out of memory");
	*out = t->n_exprs++;
	t->exprs[*out] = (tpl_expr_t){
	        .kind = kind, .height = (uint8_t)h, .a = a, .b = b};
	return 0;
}

static int expect(tpl_parser_t *p, uint8_t kind, const char *msg)
{
	if (p->tok.kind != kind) {
		if (p->tok.kind == TT_END)
			return fail_at(p, KEEL_EINVAL, msg);
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
		                      "%s, found '%.*s'", msg, (int)p->tok.len,
		                      p->t->src + p->tok.off);
	}
	return keel__tpl_tok_next(p);
}

static int add_seg(tpl_parser_t *p, uint32_t name, uint32_t len, int64_t index)
{
	tpl_t *t = p->t;
	if (keel__tpl_grow(&t->segs, &t->cap_segs, sizeof *t->segs,
	                   t->n_segs + 1) != 0)
		return fail_at(p, KEEL_ENOMEM, "out of memory");
	t->segs[t->n_segs++] = (tpl_seg_t){name, len, index};
	return 0;
}

/* The current token as a key (identifier) or index (integer). */
static int take_step(tpl_parser_t *p, bool allow_str)
{
	tpl_t *t = p->t;
	if (p->tok.kind == TT_INT) {
		int64_t v;
		keel_str_t s = {t->src + p->tok.off, p->tok.len};
		if (keel_str_to_i64(s, &v) != 0)
			return fail_at(p, KEEL_EINVAL, "index out of range");
		return add_seg(p, TPL_NONE, 0, v);
	}
	uint32_t off, len = p->tok.len;
	if (p->tok.kind == TT_IDENT && !allow_str) {
		off = keel__tpl_pool_add(t, t->src + p->tok.off, len);
		if (off == TPL_NONE)
			return fail_at(p, KEEL_ENOMEM, "out of memory");
	} else if (p->tok.kind == TT_STR && allow_str) {
		int rc = keel__tpl_tok_string(p, &off, &len);
		if (rc != 0)
			return rc;
	} else {
		return fail_at(p, KEEL_EINVAL,
		               allow_str ? "expected an index or a quoted key"
		                         : "expected a name or an index");
	}
	return add_seg(p, off, len, 0);
}

/* name ( "." (name | int) | "[" (int | "str") "]" )* */
static int parse_path(tpl_parser_t *p, uint32_t *out)
{
	tpl_t *t = p->t;
	uint32_t first = t->n_segs;
	int rc = take_step(p, false);
	while (rc == 0) {
		rc = keel__tpl_tok_next(p);
		if (rc != 0 ||
		    (p->tok.kind != TT_DOT && p->tok.kind != TT_LBRACK))
			break;
		bool bracket = p->tok.kind == TT_LBRACK;
		rc = keel__tpl_tok_next(p);
		if (rc == 0)
			rc = take_step(p, bracket);
		if (rc == 0 && bracket) {
			rc = keel__tpl_tok_next(p);
			if (rc == 0 && p->tok.kind != TT_RBRACK)
				rc = fail_at(p, KEEL_EINVAL, "expected ']'");
		}
	}
	if (rc != 0)
		return rc;
	return add(p, TX_PATH, first, t->n_segs - first, out);
}

static int parse_literal(tpl_parser_t *p, uint32_t *out)
{
	tpl_t *t = p->t;
	int rc;
	if (p->tok.kind == TT_STR) {
		uint32_t off, len;
		rc = keel__tpl_tok_string(p, &off, &len);
		if (rc == 0)
			rc = add(p, TX_STR, off, len, out);
	} else {
		int64_t v;
		keel_str_t s = {t->src + p->tok.off, p->tok.len};
		if (keel_str_to_i64(s, &v) != 0)
			return fail_at(p, KEEL_EINVAL, "number out of range");
		rc = add(p, TX_INT, 0, 0, out);
		if (rc == 0)
			t->exprs[*out].num = v;
	}
	return rc != 0 ? rc : keel__tpl_tok_next(p);
}

static int parse_primary(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	static const char *const consts[] = {"true", "false", "null"};
	static const uint8_t kinds[] = {TX_TRUE, TX_FALSE, TX_NULL};
	if (p->tok.kind == TT_STR || p->tok.kind == TT_INT)
		return parse_literal(p, out);
	if (p->tok.kind == TT_LPAREN) {
		if (depth >= TPL_MAX_EXPR)
			return fail_at(p, KEEL_ELIMIT,
			               "expression nested too deeply");
		int rc = keel__tpl_tok_next(p);
		if (rc == 0)
			rc = parse_or(p, depth + 1, out);
		return rc != 0 ? rc : expect(p, TT_RPAREN, "expected ')'");
	}
	for (size_t i = 0; i < KEEL_COUNTOF(consts); i++) {
		if (keel__tpl_tok_is(p, consts[i])) {
			int rc = add(p, kinds[i], TPL_NONE, TPL_NONE, out);
			return rc != 0 ? rc : keel__tpl_tok_next(p);
		}
	}
	if (p->tok.kind == TT_IDENT && !keel__tpl_tok_is(p, "and") &&
	    !keel__tpl_tok_is(p, "or") && !keel__tpl_tok_is(p, "not") &&
	    !keel__tpl_tok_is(p, "in"))
		return parse_path(p, out);
	if (p->tok.kind == TT_END)
		return fail_at(p, KEEL_EINVAL, "expected a value");
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
	                      "expected a value, found '%.*s'", (int)p->tok.len,
	                      p->t->src + p->tok.off);
}

static int parse_filter(tpl_parser_t *p, unsigned depth, uint32_t *val)
{
	static const char *const names[] = {[TF_LENGTH] = "length",
	                                    [TF_UPPER] = "upper",
	                                    [TF_LOWER] = "lower",
	                                    [TF_DEFAULT] = "default"};
	for (uint8_t f = 0; f < KEEL_COUNTOF(names); f++) {
		if (!keel__tpl_tok_is(p, names[f]))
			continue;
		uint32_t arg = TPL_NONE;
		int rc = keel__tpl_tok_next(p);
		if (rc == 0 && f == TF_DEFAULT) {
			rc = expect(p, TT_LPAREN, "expected '(' after default");
			if (rc == 0 && depth >= TPL_MAX_EXPR)
				rc = fail_at(p, KEEL_ELIMIT,
				             "expression nested too deeply");
			if (rc == 0)
				rc = parse_or(p, depth + 1, &arg);
			if (rc == 0)
				rc = expect(p, TT_RPAREN, "expected ')'");
		}
		if (rc == 0)
			rc = add(p, TX_FILTER, *val, arg, val);
		if (rc == 0)
			p->t->exprs[*val].filter = f;
		return rc;
	}
	if (p->tok.kind != TT_IDENT)
		return expect(p, TT_IDENT, "expected a filter name");
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
	                      "unknown filter '%.*s'", (int)p->tok.len,
	                      p->t->src + p->tok.off);
}

/*
 * Filters bind to the value before them.  raw and json are output modes,
 * not filters: the loop stops in front of them (restoring the lexer) and
 * lets the output tag take them, so {{ a or b | raw }} is raw as a whole.
 */
static int parse_postfix(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	int rc = parse_primary(p, depth, out);
	while (rc == 0 && p->tok.kind == TT_PIPE) {
		uint32_t at = p->at;
		tpl_tok_t pipe = p->tok;
		rc = keel__tpl_tok_next(p);
		if (rc == 0 && (keel__tpl_tok_is(p, "raw") ||
		                keel__tpl_tok_is(p, "json"))) {
			p->at = at;
			p->tok = pipe;
			break;
		}
		if (rc == 0)
			rc = parse_filter(p, depth, out);
	}
	return rc;
}

static int parse_cmp(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	int rc = parse_postfix(p, depth, out);
	if (rc != 0 || p->tok.kind < TT_EQ || p->tok.kind > TT_GE)
		return rc;
	uint8_t kind = (uint8_t)(TX_EQ + (p->tok.kind - TT_EQ));
	uint32_t right;
	rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = parse_postfix(p, depth, &right);
	return rc != 0 ? rc : add(p, kind, *out, right, out);
}

static int parse_not(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	if (!keel__tpl_tok_is(p, "not"))
		return parse_cmp(p, depth, out);
	if (depth >= TPL_MAX_EXPR)
		return fail_at(p, KEEL_ELIMIT, "expression nested too deeply");
	uint32_t a;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = parse_not(p, depth + 1, &a);
	return rc != 0 ? rc : add(p, TX_NOT, a, TPL_NONE, out);
}

/* Left-associative chains of one operator word over `sub`. */
static int parse_chain(tpl_parser_t *p, unsigned depth, uint32_t *out,
                       const char *word, uint8_t kind,
                       int (*sub)(tpl_parser_t *, unsigned, uint32_t *))
{
	int rc = sub(p, depth, out);
	while (rc == 0 && keel__tpl_tok_is(p, word)) {
		uint32_t right;
		rc = keel__tpl_tok_next(p);
		if (rc == 0)
			rc = sub(p, depth, &right);
		if (rc == 0)
			rc = add(p, kind, *out, right, out);
	}
	return rc;
}

static int parse_and(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	return parse_chain(p, depth, out, "and", TX_AND, parse_not);
}

static int parse_or(tpl_parser_t *p, unsigned depth, uint32_t *out)
{
	return parse_chain(p, depth, out, "or", TX_OR, parse_and);
}

int keel__tpl_parse_expr(tpl_parser_t *p, uint32_t *out)
{
	*out = TPL_NONE;
	return parse_or(p, 0, out);
}
