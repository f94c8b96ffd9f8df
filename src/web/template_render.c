/*
 * Rendering a compiled template: a walk over node ranges.  Loop scopes
 * live on the C stack and link to their parent, so rendering allocates
 * nothing of its own; depth (every nested body, block and include) and
 * the number of loop rounds are capped, because a handler's coroutine
 * has a small stack and a template must not spin forever on bad data.
 * A failed render cuts the output back to where it started.
 */
#include <stdio.h>
#include <string.h>

#include "keel/log.h"
#include "template_int.h"

static int render_range(tpl_render_t *r, const tpl_t *t, uint32_t from,
                        uint32_t to);

static int render_out(tpl_render_t *r, const tpl_t *t, const tpl_node_t *n)
{
	tpl_val_t v;
	int rc = keel__tpl_eval(r, t, n->u.out.expr, &v);
	if (rc != 0)
		return rc;
	if (v.kind == TV_UNDEF && r->set->opts.strict) {
		char path[96];
		keel__tpl_expr_text(t, n->u.out.expr, path, sizeof path);
		return keel__tpl_fail(r->err, KEEL_EINVAL, t, n->pos,
		                      "'%s' is undefined", path);
	}
	return keel__tpl_write(r, &v, n->flags, n->esc);
}

static int render_if(tpl_render_t *r, const tpl_t *t, uint32_t i)
{
	for (;;) {
		const tpl_node_t *n = &t->nodes[i];
		uint32_t next = n->u.cond.next;
		bool take = n->kind == TN_ELSE;
		if (!take) {
			tpl_val_t v;
			int rc = keel__tpl_eval(r, t, n->u.cond.expr, &v);
			if (rc != 0)
				return rc;
			take = keel__tpl_truthy(&v);
		}
		if (take)
			return render_range(r, t, i + 1, next);
		if (next == n->end)
			return 0;
		i = next;
		r->pos = t->nodes[i].pos;
	}
}

/* One round of a loop body, once the scope's variables are set. */
static int loop_round(tpl_render_t *r, const tpl_t *t, uint32_t i)
{
	const tpl_node_t *n = &t->nodes[i];
	if (++r->iterations > r->set->opts.max_iterations)
		return keel__tpl_fail(
		        r->err, KEEL_ELIMIT, t, n->pos,
		        "more than %llu loop rounds",
		        (unsigned long long)r->set->opts.max_iterations);
	return render_range(r, t, i + 1, n->u.loop.empty);
}

static int loop_array(tpl_render_t *r, const tpl_t *t, uint32_t i,
                      tpl_scope_t *s, const json_t *arr)
{
	int rc = 0;
	for (size_t k = 0; k < s->length && rc == 0; k++) {
		s->index = k;
		s->val = keel__tpl_from_json(json_array_get(arr, k));
		s->key = (tpl_val_t){.kind = TV_INT, .u.i = (int64_t)k};
		rc = loop_round(r, t, i);
	}
	return rc;
}

/* Keys in stored order; with one variable, the keys are the items. */
static int loop_object(tpl_render_t *r, const tpl_t *t, uint32_t i,
                       tpl_scope_t *s, const json_t *obj)
{
	int rc = 0;
	size_t k = 0;
	/* jansson's iterator takes a non-const object; it does not write. */
	for (void *it = json_object_iter((json_t *)obj); it != NULL && rc == 0;
	     it = json_object_iter_next((json_t *)obj, it), k++) {
		tpl_val_t key = {.kind = TV_STR};
		key.u.s = (keel_str_t){json_object_iter_key(it),
		                       json_object_iter_key_len(it)};
		s->index = k;
		s->key = key;
		s->val = s->key_name != NULL
		                 ? keel__tpl_from_json(
		                           json_object_iter_value(it))
		                 : key;
		rc = loop_round(r, t, i);
	}
	return rc;
}

static int render_for(tpl_render_t *r, const tpl_t *t, uint32_t i)
{
	const tpl_node_t *n = &t->nodes[i];
	tpl_val_t c;
	int rc = keel__tpl_eval(r, t, n->u.loop.expr, &c);
	if (rc != 0)
		return rc;
	if (c.kind != TV_ARRAY && c.kind != TV_OBJECT && c.kind > TV_NULL)
		return keel__tpl_fail(r->err, KEEL_EINVAL, t, n->pos,
		                      "cannot loop over a %s",
		                      keel__tpl_kind_name(&c));
	tpl_scope_t s = {.up = r->scope, .val_name = t->pool + n->u.loop.val};
	if (n->u.loop.key != TPL_NONE)
		s.key_name = t->pool + n->u.loop.key;
	s.length = c.kind == TV_ARRAY    ? json_array_size(c.json)
	           : c.kind == TV_OBJECT ? json_object_size(c.json)
	                                 : 0;
	if (s.length == 0)
		return n->u.loop.empty == n->end
		               ? 0
		               : render_range(r, t, n->u.loop.empty + 1,
		                              n->end);
	r->scope = &s;
	rc = c.kind == TV_ARRAY ? loop_array(r, t, i, &s, c.json)
	                        : loop_object(r, t, i, &s, c.json);
	r->scope = s.up;
	return rc;
}

/* The definition the rendered template's chain picked for this block
 * (compile fills a slot for every block a rendering can reach). */
static int render_block(tpl_render_t *r, const tpl_t *t, uint32_t i)
{
	const tpl_slot_t *slot = &r->table->slots[t->nodes[i].u.block.id];
	if (slot->tpl == TPL_NONE)
		return render_range(r, t, i + 1, t->nodes[i].end);
	const tpl_t *def = r->set->tpls[slot->tpl];
	return render_range(r, def, slot->node + 1, def->nodes[slot->node].end);
}

static int render_include(tpl_render_t *r, const tpl_node_t *n)
{
	return keel__tpl_render_tpl(r, r->set->tpls[n->u.incl.target]);
}

static int render_node(tpl_render_t *r, const tpl_t *t, uint32_t i)
{
	const tpl_node_t *n = &t->nodes[i];
	switch (n->kind) {
	case TN_TEXT:
		return keel__tpl_put(r, t->src + n->u.text.off, n->u.text.len);
	case TN_OUT: return render_out(r, t, n);
	case TN_IF: return render_if(r, t, i);
	case TN_FOR: return render_for(r, t, i);
	case TN_BLOCK: return render_block(r, t, i);
	case TN_INCLUDE: return render_include(r, n);
	default: return 0;
	}
}

static int render_range(tpl_render_t *r, const tpl_t *t, uint32_t from,
                        uint32_t to)
{
	const tpl_t *cur = r->cur;
	uint32_t pos = r->pos;
	if (++r->depth > r->set->opts.max_depth)
		return keel__tpl_fail(r->err, KEEL_ELIMIT, cur, pos,
		                      "templates nested deeper than %u levels "
		                      "(recursive include?)",
		                      r->set->opts.max_depth);
	int rc = 0;
	for (uint32_t i = from; i < to && rc == 0;) {
		const tpl_node_t *n = &t->nodes[i];
		r->cur = t;
		r->pos = n->pos;
		rc = render_node(r, t, i);
		i = n->kind >= TN_IF && n->kind <= TN_BLOCK ? n->end : i + 1;
	}
	r->depth--;
	r->cur = cur;
	r->pos = pos;
	return rc;
}

/* A template renders its chain's root with its own block table. */
int keel__tpl_render_tpl(tpl_render_t *r, const tpl_t *t)
{
	const tpl_t *table = r->table;
	const tpl_t *root = r->set->tpls[t->root];
	r->table = t;
	int rc = render_range(r, root, 0, root->n_nodes);
	r->table = table;
	return rc;
}

int keel_tpl_render(const keel_tpl_set_t *set, const char *name,
                    const json_t *ctx, keel_buf_t *out, keel_tpl_error_t *err)
{
	if (set == NULL || name == NULL || out == NULL)
		return keel__tpl_fail(err, KEEL_EINVAL, NULL, TPL_NONE,
		                      "missing argument");
	if (!set->compiled)
		return keel__tpl_fail(err, KEEL_ESTATE, NULL, TPL_NONE,
		                      "template set is not compiled");
	uint32_t idx = keel__tpl_names_get(&set->by_name, name);
	if (idx == TPL_NONE) {
		int rc = keel__tpl_fail(err, KEEL_ENOENT, NULL, TPL_NONE,
		                        "no template named '%s'", name);
		if (err != NULL)
			snprintf(err->name, sizeof err->name, "%s", name);
		return rc;
	}
	tpl_render_t r = {.set = set, .ctx = ctx, .out = out, .err = err};
	size_t mark = out->len;
	int rc = keel__tpl_render_tpl(&r, set->tpls[idx]);
	if (rc != 0 && out->len > mark) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	if (rc == 0)
		keel__tpl_fail(err, 0, NULL, TPL_NONE, "%s", "");
	return rc;
}

/* Details stay in the log: a template error is the server's fault and
 * says nothing useful (or safe) to the client. */
int keel_tpl_respond(const keel_tpl_set_t *set, keel_res_t *res,
                     const char *name, const json_t *ctx)
{
	keel_tpl_error_t err;
	int rc = keel_res_body(res, NULL, 0);
	if (rc == 0)
		rc = keel_tpl_render(set, name, ctx, keel_res_buf(res), &err);
	else
		keel__tpl_fail(&err, rc, NULL, TPL_NONE, "out of memory");
	if (rc == 0) {
		keel_res_header_remove(res, "Content-Type");
		rc = keel_res_header(res, "Content-Type",
		                     "text/html; charset=utf-8");
		if (rc != 0)
			keel__tpl_fail(&err, rc, NULL, TPL_NONE,
			               "cannot set Content-Type");
	}
	if (rc != 0) {
		KEEL_LOG_ERROR("template %s:%u:%u: %s", err.name, err.line,
		               err.col, err.msg);
		return keel_res_error(res, 500, "internal server error");
	}
	keel_res_status(res, 200);
	return 200;
}
