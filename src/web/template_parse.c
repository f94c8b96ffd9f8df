/*
 * Template parsing: pieces from the lexer become a flat node list.  Open
 * statements sit on a small stack; closing one writes the `end` (and
 * branch links) into its nodes, so the renderer can jump over a whole
 * construct or walk one body without any further bookkeeping.
 */
#include <string.h>

#include "template_int.h"

static const char *const open_names[] = {
        [TN_IF] = "if", [TN_FOR] = "for", [TN_BLOCK] = "block"};

static int oom(tpl_parser_t *p, uint32_t pos)
{
	return keel__tpl_fail(p->err, KEEL_ENOMEM, p->t, pos, "out of memory");
}

static int syntax(tpl_parser_t *p, const char *what)
{
	if (p->tok.kind == TT_END)
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
		                      "%s, found the end of the tag", what);
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
	                      "%s, found '%.*s'", what, (int)p->tok.len,
	                      p->t->src + p->tok.off);
}

/* Append a node; its index in *out. */
static int add_node(tpl_parser_t *p, uint8_t kind, uint32_t pos, uint32_t *out)
{
	tpl_t *t = p->t;
	*out = TPL_NONE;
	if (keel__tpl_grow(&t->nodes, &t->cap_nodes, sizeof *t->nodes,
	                   t->n_nodes + 1) != 0)
		return oom(p, pos);
	*out = t->n_nodes++;
	t->nodes[*out] =
	        (tpl_node_t){.kind = kind, .pos = pos, .end = TPL_NONE};
	return 0;
}

static int push_open(tpl_parser_t *p, uint8_t kind, uint32_t node,
                     uint32_t branch)
{
	if (p->depth == TPL_MAX_NEST)
		return keel__tpl_fail(
		        p->err, KEEL_ELIMIT, p->t, p->t->nodes[node].pos,
		        "statements nested deeper than %d", TPL_MAX_NEST);
	p->open[p->depth++] = (tpl_open_t){kind, node, branch};
	if (kind != TN_BLOCK)
		p->conds++;
	return 0;
}

/* The innermost open statement when it is of `kind`, else NULL. */
static tpl_open_t *top(tpl_parser_t *p, uint8_t kind)
{
	if (p->depth == 0 || p->open[p->depth - 1].kind != kind)
		return NULL;
	return &p->open[p->depth - 1];
}

static void pop_open(tpl_parser_t *p)
{
	if (p->open[--p->depth].kind != TN_BLOCK)
		p->conds--;
}

static bool is_keyword(const tpl_parser_t *p)
{
	static const char *const words[] = {"and",  "or",    "not", "in",
	                                    "true", "false", "null"};
	for (size_t i = 0; i < KEEL_COUNTOF(words); i++)
		if (keel__tpl_tok_is(p, words[i]))
			return true;
	return false;
}

/* A variable or block name: an identifier that is not a keyword. */
static int take_name(tpl_parser_t *p, const char *what, uint32_t *pool)
{
	*pool = TPL_NONE;
	if (p->tok.kind != TT_IDENT || is_keyword(p))
		return syntax(p, what);
	*pool = keel__tpl_pool_add(p->t, p->t->src + p->tok.off, p->tok.len);
	if (*pool == TPL_NONE)
		return oom(p, p->tok.off);
	return keel__tpl_tok_next(p);
}

static int take_string(tpl_parser_t *p, const char *what, uint32_t *pool)
{
	uint32_t len;
	*pool = TPL_NONE;
	if (p->tok.kind != TT_STR)
		return syntax(p, what);
	int rc = keel__tpl_tok_string(p, pool, &len);
	return rc != 0 ? rc : keel__tpl_tok_next(p);
}

/* ------------------------------------------------------------ statements */

static int st_if(tpl_parser_t *p, uint32_t pos)
{
	uint32_t expr, node;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = keel__tpl_parse_expr(p, &expr);
	if (rc == 0)
		rc = add_node(p, TN_IF, pos, &node);
	if (rc != 0)
		return rc;
	p->t->nodes[node].u.cond.expr = expr;
	p->t->nodes[node].u.cond.next = TPL_NONE;
	return push_open(p, TN_IF, node, node);
}

/* elif and else: a new branch linked from the previous one. */
static int st_branch(tpl_parser_t *p, uint32_t pos, bool is_else)
{
	tpl_open_t *o = top(p, TN_IF);
	const char *word = is_else ? "else" : "elif";
	if (o == NULL || p->t->nodes[o->branch].kind == TN_ELSE)
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
		                      o == NULL
		                              ? "{%% %s %%} outside {%% if %%}"
		                              : "{%% %s %%} after {%% else %%}",
		                      word);
	uint32_t expr = TPL_NONE, node;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0 && !is_else)
		rc = keel__tpl_parse_expr(p, &expr);
	if (rc == 0)
		rc = add_node(p, is_else ? TN_ELSE : TN_ELIF, pos, &node);
	if (rc != 0)
		return rc;
	p->t->nodes[node].u.cond.expr = expr;
	p->t->nodes[node].u.cond.next = TPL_NONE;
	p->t->nodes[o->branch].u.cond.next = node;
	o->branch = node;
	return 0;
}

static int st_elif(tpl_parser_t *p, uint32_t pos)
{
	return st_branch(p, pos, false);
}

static int st_else(tpl_parser_t *p, uint32_t pos)
{
	return st_branch(p, pos, true);
}

/* Every branch learns where the whole if ends; the last one's `next`
 * is that end too, which is how the renderer knows the chain is over. */
static int st_endif(tpl_parser_t *p, uint32_t pos)
{
	tpl_open_t *o = top(p, TN_IF);
	if (o == NULL)
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
		                      "{%% endif %%} without {%% if %%}");
	tpl_node_t *nodes = p->t->nodes;
	uint32_t end = p->t->n_nodes;
	nodes[o->branch].u.cond.next = end;
	for (uint32_t i = o->node; i != end; i = nodes[i].u.cond.next)
		nodes[i].end = end;
	pop_open(p);
	return keel__tpl_tok_next(p);
}

/* for NAME in EXPR, or for KEY, VALUE in EXPR */
static int st_for(tpl_parser_t *p, uint32_t pos)
{
	uint32_t a, b = TPL_NONE, expr, node;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = take_name(p, "expected a loop variable", &a);
	if (rc == 0 && p->tok.kind == TT_COMMA) {
		rc = keel__tpl_tok_next(p);
		if (rc == 0)
			rc = take_name(p, "expected a second loop variable",
			               &b);
	}
	if (rc == 0 && !keel__tpl_tok_is(p, "in"))
		rc = syntax(p, "expected 'in'");
	if (rc == 0)
		rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = keel__tpl_parse_expr(p, &expr);
	if (rc == 0)
		rc = add_node(p, TN_FOR, pos, &node);
	if (rc != 0)
		return rc;
	tpl_node_t *n = &p->t->nodes[node];
	n->u.loop.expr = expr;
	n->u.loop.key = b == TPL_NONE ? TPL_NONE : a;
	n->u.loop.val = b == TPL_NONE ? a : b;
	n->u.loop.empty = TPL_NONE;
	return push_open(p, TN_FOR, node, TPL_NONE);
}

static int st_empty(tpl_parser_t *p, uint32_t pos)
{
	tpl_open_t *o = top(p, TN_FOR);
	if (o == NULL || o->branch != TPL_NONE)
		return keel__tpl_fail(
		        p->err, KEEL_EINVAL, p->t, pos,
		        o == NULL ? "{%% empty %%} outside {%% for %%}"
		                  : "second {%% empty %%}");
	uint32_t node;
	int rc = add_node(p, TN_EMPTY, pos, &node);
	if (rc != 0)
		return rc;
	o->branch = node;
	p->t->nodes[o->node].u.loop.empty = node;
	return keel__tpl_tok_next(p);
}

static int st_endfor(tpl_parser_t *p, uint32_t pos)
{
	tpl_open_t *o = top(p, TN_FOR);
	if (o == NULL)
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
		                      "{%% endfor %%} without {%% for %%}");
	tpl_node_t *nodes = p->t->nodes;
	uint32_t end = p->t->n_nodes;
	nodes[o->node].end = end;
	if (o->branch == TPL_NONE)
		nodes[o->node].u.loop.empty = end;
	else
		nodes[o->branch].end = end;
	pop_open(p);
	return keel__tpl_tok_next(p);
}

static bool block_defined(const tpl_t *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].kind == TN_BLOCK &&
		    strcmp(t->pool + t->nodes[i].u.block.name, name) == 0)
			return true;
	return false;
}

static int st_block(tpl_parser_t *p, uint32_t pos)
{
	uint32_t name, node;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = take_name(p, "expected a block name", &name);
	if (rc != 0)
		return rc;
	if (block_defined(p->t, p->t->pool + name))
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
		                      "block '%s' is defined twice",
		                      p->t->pool + name);
	rc = add_node(p, TN_BLOCK, pos, &node);
	if (rc != 0)
		return rc;
	p->t->nodes[node].u.block.name = name;
	p->t->nodes[node].u.block.id = TPL_NONE;
	return push_open(p, TN_BLOCK, node, TPL_NONE);
}

static int st_endblock(tpl_parser_t *p, uint32_t pos)
{
	tpl_open_t *o = top(p, TN_BLOCK);
	if (o == NULL)
		return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
		                      "{%% endblock %%} without {%% block %%}");
	tpl_t *t = p->t;
	const char *name = t->pool + t->nodes[o->node].u.block.name;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0 && p->tok.kind == TT_IDENT &&
	    (p->tok.len != strlen(name) ||
	     memcmp(t->src + p->tok.off, name, p->tok.len) != 0))
		return syntax(p, "{% endblock %} names another block");
	if (rc == 0 && p->tok.kind == TT_IDENT)
		rc = keel__tpl_tok_next(p);
	t->nodes[o->node].end = t->n_nodes;
	pop_open(p);
	return rc;
}

static int st_include(tpl_parser_t *p, uint32_t pos)
{
	uint32_t name, node;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = take_string(p, "expected a template name in quotes",
		                 &name);
	if (rc == 0)
		rc = add_node(p, TN_INCLUDE, pos, &node);
	if (rc != 0)
		return rc;
	tpl_node_t *n = &p->t->nodes[node];
	n->flags = p->conds == 0 ? TPL_INC_ALWAYS : 0;
	n->u.incl.name = name;
	n->u.incl.target = TPL_NONE;
	return 0;
}

/* Only blank text may come first; it is dropped, since nothing outside
 * the blocks of an extending template is ever rendered. */
static int st_extends(tpl_parser_t *p, uint32_t pos)
{
	tpl_t *t = p->t;
	if (t->extends != TPL_NONE || p->content)
		return keel__tpl_fail(
		        p->err, KEEL_EINVAL, t, pos,
		        t->extends != TPL_NONE
		                ? "second {%% extends %%}"
		                : "{%% extends %%} must come first");
	uint32_t name;
	int rc = keel__tpl_tok_next(p);
	if (rc == 0)
		rc = take_string(p, "expected a template name in quotes",
		                 &name);
	if (rc != 0)
		return rc;
	t->extends = name;
	t->extends_pos = pos;
	t->n_nodes = 0;
	return 0;
}

static const struct {
	const char *word;
	int (*fn)(tpl_parser_t *p, uint32_t pos);
	bool top_ok; /* allowed at the top of an extending template */
} stmts[] = {
        {"if", st_if, false},
        {"elif", st_elif, false},
        {"else", st_else, false},
        {"endif", st_endif, false},
        {"for", st_for, false},
        {"empty", st_empty, false},
        {"endfor", st_endfor, false},
        {"block", st_block, true},
        {"endblock", st_endblock, true},
        {"include", st_include, false},
        {"extends", st_extends, true},
};

/* ---------------------------------------------------------------- pieces */

static int begin_tag(tpl_parser_t *p, const tpl_piece_t *piece)
{
	p->at = piece->off;
	p->tag_end = piece->off + piece->len;
	return keel__tpl_tok_next(p);
}

static int only_blocks(tpl_parser_t *p, uint32_t pos)
{
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, pos,
	                      "only {%% block %%} may follow {%% extends %%}");
}

static int on_stmt(tpl_parser_t *p, const tpl_piece_t *piece)
{
	int rc = begin_tag(p, piece);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < KEEL_COUNTOF(stmts); i++) {
		if (!keel__tpl_tok_is(p, stmts[i].word))
			continue;
		if (p->t->extends != TPL_NONE && p->depth == 0 &&
		    !stmts[i].top_ok)
			return only_blocks(p, piece->pos);
		rc = stmts[i].fn(p, piece->pos);
		p->content = true;
		if (rc == 0 && p->tok.kind != TT_END)
			rc = syntax(p, "expected the end of the tag");
		return rc;
	}
	if (p->tok.kind != TT_IDENT)
		return syntax(p, "expected a tag name");
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t, p->tok.off,
	                      "unknown tag '%.*s'", (int)p->tok.len,
	                      p->t->src + p->tok.off);
}

/* {{ expr [| raw] [| json] }}: the output modes come after the filters,
 * which stop at them (see parse_postfix). */
static int on_out(tpl_parser_t *p, const tpl_piece_t *piece)
{
	uint32_t expr, node;
	uint8_t flags = 0;
	if (p->t->extends != TPL_NONE && p->depth == 0)
		return only_blocks(p, piece->pos);
	p->content = true;
	int rc = begin_tag(p, piece);
	if (rc == 0)
		rc = keel__tpl_parse_expr(p, &expr);
	while (rc == 0 && p->tok.kind == TT_PIPE) {
		rc = keel__tpl_tok_next(p);
		if (rc == 0 && keel__tpl_tok_is(p, "raw"))
			flags |= TPL_OUT_RAW;
		else if (rc == 0 && keel__tpl_tok_is(p, "json"))
			flags |= TPL_OUT_JSON;
		else if (rc == 0)
			return syntax(p, "'raw' and 'json' must be the last "
			                 "filters");
		if (rc == 0)
			rc = keel__tpl_tok_next(p);
	}
	if (rc == 0 && p->tok.kind != TT_END)
		rc = syntax(p, "expected '}}'");
	if (rc == 0)
		rc = add_node(p, TN_OUT, piece->pos, &node);
	if (rc != 0)
		return rc;
	p->t->nodes[node].flags = flags;
	p->t->nodes[node].u.out.expr = expr;
	return 0;
}

static bool is_blank(const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
			return false;
	return true;
}

static int on_text(tpl_parser_t *p, const tpl_piece_t *piece)
{
	tpl_t *t = p->t;
	bool blank = is_blank(t->src + piece->off, piece->len);
	if (t->extends != TPL_NONE && p->depth == 0) {
		if (blank)
			return 0;
		uint32_t at = piece->off;
		while (is_blank(t->src + at, 1))
			at++;
		return keel__tpl_fail(
		        p->err, KEEL_EINVAL, t, at,
		        "text outside {%% block %%} in a template "
		        "that extends another is never shown");
	}
	if (!blank)
		p->content = true;
	uint32_t node;
	int rc = add_node(p, TN_TEXT, piece->pos, &node);
	if (rc == 0) {
		t->nodes[node].u.text.off = piece->off;
		t->nodes[node].u.text.len = piece->len;
	}
	return rc;
}

static int finish(tpl_parser_t *p)
{
	if (p->depth == 0)
		return 0;
	const tpl_open_t *o = &p->open[p->depth - 1];
	const char *what = open_names[o->kind];
	return keel__tpl_fail(p->err, KEEL_EINVAL, p->t,
	                      p->t->nodes[o->node].pos,
	                      "{%% %s %%} is never closed (missing "
	                      "{%% end%s %%})",
	                      what, what);
}

int keel__tpl_parse(tpl_t *t, keel_tpl_error_t *err)
{
	tpl_parser_t p = {.t = t, .err = err, .lx = {.t = t}};
	for (;;) {
		tpl_piece_t piece;
		int rc = keel__tpl_lex_next(&p.lx, &piece, err);
		if (rc != 0)
			return rc;
		switch (piece.kind) {
		case TP_TEXT: rc = on_text(&p, &piece); break;
		case TP_OUT: rc = on_out(&p, &piece); break;
		case TP_STMT: rc = on_stmt(&p, &piece); break;
		default: return finish(&p);
		}
		if (rc != 0)
			return rc;
	}
}
