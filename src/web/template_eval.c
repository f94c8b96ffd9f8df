/*
 * Evaluating template expressions against a jansson context.  Values
 * borrow: strings point into the context or the template's pool, nothing
 * is allocated, and "upper"/"lower" are a flag applied when printing or
 * comparing.  A missing key, an index out of range or a step into a
 * scalar gives "undefined", which prints as nothing and is false; only
 * operations that cannot mean anything (ordering a string against a
 * number, the length of a boolean) are render errors.
 */
#include <stdio.h>
#include <string.h>

#include "template_int.h"

static const tpl_val_t undef = {.kind = TV_UNDEF};

static tpl_val_t int_val(int64_t i)
{
	return (tpl_val_t){.kind = TV_INT, .u.i = i};
}

static tpl_val_t bool_val(bool b)
{
	return (tpl_val_t){.kind = TV_BOOL, .u.b = b};
}

tpl_val_t keel__tpl_from_json(const json_t *j)
{
	tpl_val_t v = {.kind = TV_UNDEF, .json = j};
	if (j == NULL)
		return v;
	switch (json_typeof(j)) {
	case JSON_OBJECT: v.kind = TV_OBJECT; break;
	case JSON_ARRAY: v.kind = TV_ARRAY; break;
	case JSON_STRING:
		v.kind = TV_STR;
		v.u.s = (keel_str_t){json_string_value(j),
		                     json_string_length(j)};
		break;
	case JSON_INTEGER:
		v.kind = TV_INT;
		v.u.i = json_integer_value(j);
		break;
	case JSON_REAL:
		v.kind = TV_REAL;
		v.u.r = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v.kind = TV_BOOL;
		v.u.b = json_is_true(j);
		break;
	default: v.kind = TV_NULL; break;
	}
	return v;
}

const char *keel__tpl_kind_name(const tpl_val_t *v)
{
	static const char *const names[] = {[TV_UNDEF] = "undefined value",
	                                    [TV_NULL] = "null",
	                                    [TV_BOOL] = "boolean",
	                                    [TV_INT] = "number",
	                                    [TV_REAL] = "number",
	                                    [TV_STR] = "string",
	                                    [TV_ARRAY] = "array",
	                                    [TV_OBJECT] = "object",
	                                    [TV_LOOP] = "loop"};
	return names[v->kind];
}

bool keel__tpl_truthy(const tpl_val_t *v)
{
	switch (v->kind) {
	case TV_BOOL: return v->u.b;
	case TV_INT: return v->u.i != 0;
	case TV_REAL: return v->u.r != 0.0;
	case TV_STR: return v->u.s.len != 0;
	case TV_ARRAY: return json_array_size(v->json) != 0;
	case TV_OBJECT: return json_object_size(v->json) != 0;
	case TV_LOOP: return true;
	default: return false;
	}
}

/* ----------------------------------------------------------------- paths */

/* Loop variables shadow the context, innermost first; "loop" is the
 * innermost running loop. */
static tpl_val_t lookup_root(const tpl_render_t *r, const char *name)
{
	for (const tpl_scope_t *s = r->scope; s != NULL; s = s->up) {
		if (strcmp(name, s->val_name) == 0)
			return s->val;
		if (s->key_name != NULL && strcmp(name, s->key_name) == 0)
			return s->key;
	}
	if (r->scope != NULL && strcmp(name, "loop") == 0)
		return (tpl_val_t){.kind = TV_LOOP, .u.loop = r->scope};
	if (r->ctx != NULL && json_is_object(r->ctx))
		return keel__tpl_from_json(json_object_get(r->ctx, name));
	return undef;
}

static tpl_val_t loop_prop(const tpl_scope_t *s, const char *name)
{
	int64_t i = (int64_t)s->index, n = (int64_t)s->length;
	if (strcmp(name, "index") == 0)
		return int_val(i + 1);
	if (strcmp(name, "index0") == 0)
		return int_val(i);
	if (strcmp(name, "first") == 0)
		return bool_val(i == 0);
	if (strcmp(name, "last") == 0)
		return bool_val(i + 1 == n);
	if (strcmp(name, "length") == 0)
		return int_val(n);
	if (strcmp(name, "revindex") == 0)
		return int_val(n - i);
	return undef;
}

static tpl_val_t step(const tpl_t *t, const tpl_seg_t *seg, tpl_val_t v)
{
	if (v.kind == TV_LOOP)
		return seg->name == TPL_NONE
		               ? undef
		               : loop_prop(v.u.loop, t->pool + seg->name);
	if (seg->name != TPL_NONE)
		return v.kind != TV_OBJECT
		               ? undef
		               : keel__tpl_from_json(json_object_getn(
		                         v.json, t->pool + seg->name,
		                         seg->len));
	if (v.kind != TV_ARRAY)
		return undef;
	int64_t n = (int64_t)json_array_size(v.json), i = seg->index;
	if (i < 0 && i >= -n)
		i += n;
	if (i < 0 || i >= n)
		return undef;
	return keel__tpl_from_json(json_array_get(v.json, (size_t)i));
}

static tpl_val_t eval_path(const tpl_render_t *r, const tpl_t *t,
                           const tpl_expr_t *e)
{
	const tpl_seg_t *seg = &t->segs[e->a];
	tpl_val_t v = lookup_root(r, t->pool + seg->name);
	for (uint32_t i = 1; i < e->b && v.kind != TV_UNDEF; i++)
		v = step(t, &seg[i], v);
	return v;
}

void keel__tpl_expr_text(const tpl_t *t, uint32_t expr, char *buf, size_t size)
{
	const tpl_expr_t *e = &t->exprs[expr];
	snprintf(buf, size, "value");
	if (e->kind != TX_PATH)
		return;
	size_t at = 0;
	for (uint32_t i = 0; i < e->b && at < size; i++) {
		const tpl_seg_t *s = &t->segs[e->a + i];
		int n = s->name == TPL_NONE
		                ? snprintf(buf + at, size - at, "[%lld]",
		                           (long long)s->index)
		                : snprintf(buf + at, size - at, "%s%s",
		                           i == 0 ? "" : ".",
		                           t->pool + s->name);
		at += n > 0 ? (size_t)n : 0;
	}
}

/* ----------------------------------------------------------- comparison */

static bool is_num(const tpl_val_t *v)
{
	return v->kind == TV_INT || v->kind == TV_REAL;
}

static int cmp_num(const tpl_val_t *a, const tpl_val_t *b)
{
	if (a->kind == TV_INT && b->kind == TV_INT)
		return (a->u.i > b->u.i) - (a->u.i < b->u.i);
	double x = a->kind == TV_INT ? (double)a->u.i : a->u.r;
	double y = b->kind == TV_INT ? (double)b->u.i : b->u.r;
	return (x > y) - (x < y);
}

/* Bytewise, each side seen through its case flag. */
static int cmp_str(const tpl_val_t *a, const tpl_val_t *b)
{
	size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	for (size_t i = 0; i < n; i++) {
		unsigned char x =
		        (unsigned char)keel__tpl_fold(a->u.s.ptr[i], a->fold);
		unsigned char y =
		        (unsigned char)keel__tpl_fold(b->u.s.ptr[i], b->fold);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
}

static bool equal(const tpl_val_t *a, const tpl_val_t *b)
{
	if (is_num(a) && is_num(b))
		return cmp_num(a, b) == 0;
	if (a->kind <= TV_NULL && b->kind <= TV_NULL)
		return true;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TV_STR: return cmp_str(a, b) == 0;
	case TV_BOOL: return a->u.b == b->u.b;
	case TV_LOOP: return a->u.loop == b->u.loop;
	default: return json_equal(a->json, b->json) != 0;
	}
}

static int compare(tpl_render_t *r, uint8_t op, const tpl_val_t *a,
                   const tpl_val_t *b, tpl_val_t *out)
{
	int c;
	if (op == TX_EQ || op == TX_NE) {
		*out = bool_val(equal(a, b) == (op == TX_EQ));
		return 0;
	}
	if (is_num(a) && is_num(b))
		c = cmp_num(a, b);
	else if (a->kind == TV_STR && b->kind == TV_STR)
		c = cmp_str(a, b);
	else
		return keel__tpl_fail(r->err, KEEL_EINVAL, r->cur, r->pos,
		                      "cannot order a %s against a %s",
		                      keel__tpl_kind_name(a),
		                      keel__tpl_kind_name(b));
	*out = bool_val(op == TX_LT   ? c < 0
	                : op == TX_LE ? c <= 0
	                : op == TX_GT ? c > 0
	                              : c >= 0);
	return 0;
}

/* ---------------------------------------------------------------- filters */

/* Characters, not bytes: UTF-8 continuation bytes are not counted. */
static int64_t utf8_length(keel_str_t s)
{
	int64_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += ((unsigned char)s.ptr[i] & 0xc0) != 0x80;
	return n;
}

static int apply_filter(tpl_render_t *r, const tpl_t *t, const tpl_expr_t *e,
                        tpl_val_t *v)
{
	switch (e->filter) {
	case TF_LENGTH:
		if (v->kind == TV_STR)
			*v = int_val(utf8_length(v->u.s));
		else if (v->kind == TV_ARRAY)
			*v = int_val((int64_t)json_array_size(v->json));
		else if (v->kind == TV_OBJECT)
			*v = int_val((int64_t)json_object_size(v->json));
		else if (v->kind <= TV_NULL)
			*v = int_val(0);
		else
			return keel__tpl_fail(r->err, KEEL_EINVAL, r->cur,
			                      r->pos, "| length of a %s",
			                      keel__tpl_kind_name(v));
		return 0;
	case TF_UPPER:
	case TF_LOWER:
		if (v->kind == TV_STR)
			v->fold = e->filter == TF_UPPER ? TPL_FOLD_UPPER
			                                : TPL_FOLD_LOWER;
		return 0;
	default: /* TF_DEFAULT */
		if (v->kind <= TV_NULL ||
		    (v->kind == TV_STR && v->u.s.len == 0))
			return keel__tpl_eval(r, t, e->b, v);
		return 0;
	}
}

int keel__tpl_eval(tpl_render_t *r, const tpl_t *t, uint32_t i, tpl_val_t *out)
{
	const tpl_expr_t *e = &t->exprs[i];
	tpl_val_t b;
	int rc = 0;
	switch (e->kind) {
	case TX_PATH: *out = eval_path(r, t, e); return 0;
	case TX_STR:
		*out = (tpl_val_t){.kind = TV_STR,
		                   .u.s = {t->pool + e->a, e->b}};
		return 0;
	case TX_INT: *out = int_val(e->num); return 0;
	case TX_TRUE:
	case TX_FALSE: *out = bool_val(e->kind == TX_TRUE); return 0;
	case TX_NULL: *out = (tpl_val_t){.kind = TV_NULL}; return 0;
	case TX_NOT:
		rc = keel__tpl_eval(r, t, e->a, out);
		*out = bool_val(!keel__tpl_truthy(out));
		return rc;
	case TX_AND:
	case TX_OR:
		rc = keel__tpl_eval(r, t, e->a, out);
		if (rc != 0 || keel__tpl_truthy(out) == (e->kind == TX_OR))
			return rc;
		return keel__tpl_eval(r, t, e->b, out);
	case TX_FILTER:
		rc = keel__tpl_eval(r, t, e->a, out);
		return rc != 0 ? rc : apply_filter(r, t, e, out);
	default:
		rc = keel__tpl_eval(r, t, e->a, out);
		if (rc == 0)
			rc = keel__tpl_eval(r, t, e->b, &b);
		return rc != 0 ? rc : compare(r, e->kind, out, &b, out);
	}
}
