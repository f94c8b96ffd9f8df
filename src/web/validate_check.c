/*
 * Start-up checks of a route spec (keel_validate_check): the mistakes a C
 * compiler lets through in a designated-initializer table - a forgotten
 * type, an array without item shape, an offset outside the struct, a
 * default that does not parse, a pattern that does not compile - found
 * once at registration instead of as a 500 on the first request.
 */
#include <stdio.h>
#include <string.h>

#include "validate_int.h"

/* Nesting of specs inside specs; a cycle is allowed through a named
 * spec (OpenAPI refers to it by name), but not without one. */
#define CHECK_DEPTH 16

typedef struct check {
	char *why;
	size_t why_len;
	const keel_body_spec_t *stack[CHECK_DEPTH];
	int depth;
} check_t;

static int fail(check_t *k, const char *where, const char *what)
{
	if (k->why_len)
		snprintf(k->why, k->why_len, "%s: %s", where ? where : "?",
		         what);
	return KEEL_EINVAL;
}

static int check_spec(check_t *k, const keel_body_spec_t *spec, bool layout);

/* A default must be something the field itself would accept. */
static int check_default(check_t *k, const keel_field_t *f)
{
	keel_arena_t arena;
	keel_verrors_t errs;
	keel__vctx_t c;
	union {
		keel_str_t s;
		int64_t i;
		double d;
		bool b;
		int e;
	} slot;
	keel_arena_init(&arena, 0, 0);
	keel_verrors_init(&errs, &arena);
	keel__vctx_init(&c, &arena, &errs);
	keel__vtext(&c, f, keel_str_from_cstr(f->def), &slot);
	int rc = c.rc ? c.rc : errs.count ? KEEL_EINVAL : 0;
	keel_arena_deinit(&arena);
	return rc == 0 ? 0 : fail(k, f->name, "default is not a valid value");
}

static bool fits(size_t offset, size_t size, size_t struct_size)
{
	return offset <= struct_size && size <= struct_size - offset;
}

/* The rules that do not depend on where the value is stored. */
static int check_rules(check_t *k, const keel_field_t *f)
{
	const char *n = f->name;
	if (f->type < KEEL_T_STRING || f->type > KEEL_T_ARRAY)
		return fail(k, n, "missing or unknown type");
	if (f->type == KEEL_T_ENUM && (!f->enum_values || !f->enum_values[0]))
		return fail(k, n, "enum without values");
	if (f->type == KEEL_T_OBJECT && !f->object)
		return fail(k, n, "object without a spec");
	if (f->type == KEEL_T_ARRAY && !f->items)
		return fail(k, n, "array without an item shape");
	if (f->has_min && f->has_max && f->min > f->max)
		return fail(k, n, "min is above max");
	if (f->max_len && f->min_len > f->max_len)
		return fail(k, n, "min_len is above max_len");
	if (f->pattern && keel__pattern_match(f->pattern, "") == KEEL_ESTATE)
		return fail(k, n, "pattern does not compile");
	if (f->def && (f->type == KEEL_T_OBJECT || f->type == KEEL_T_ARRAY))
		return fail(k, n, "defaults are for scalars only");
	if (f->def)
		return check_default(k, f);
	return 0;
}

static int check_field(check_t *k, const keel_field_t *f, size_t struct_size,
                       bool layout)
{
	if (!f->name)
		return fail(k, NULL, "field without a name");
	int rc = check_rules(k, f);
	if (rc == 0 && f->type == KEEL_T_OBJECT)
		rc = check_spec(k, f->object, layout);
	if (rc == 0 && f->type == KEEL_T_ARRAY) {
		if (f->items->type == KEEL_T_OBJECT && !f->items->object)
			return fail(k, f->name, "items: object without a spec");
		keel_field_t item = *f->items;
		item.name = f->name;
		item.offset = item.presence = 0;
		rc = check_field(k, &item, keel__vslot_size(&item), layout);
	}
	if (rc == 0 && layout &&
	    !fits(f->offset, keel__vslot_size(f), struct_size))
		return fail(k, f->name, "offset outside the struct");
	if (rc == 0 && layout && f->presence &&
	    !fits(f->presence - 1, sizeof(keel_presence_t), struct_size))
		return fail(k, f->name, "presence outside the struct");
	return rc;
}

/* Re-entering a spec already on the stack is a cycle: fine when some
 * spec on it has a name to refer to, endless otherwise. */
static int enter(check_t *k, const keel_body_spec_t *spec, bool *seen)
{
	*seen = false;
	for (int i = 0; i < k->depth; i++) {
		if (k->stack[i] != spec)
			continue;
		*seen = true;
		for (int j = i; j < k->depth; j++)
			if (k->stack[j]->name)
				return 0;
		return fail(k, "spec", "recursive spec without a name");
	}
	if (k->depth == CHECK_DEPTH)
		return fail(k, spec->name, "specs nested too deeply");
	k->stack[k->depth++] = spec;
	return 0;
}

static int check_spec(check_t *k, const keel_body_spec_t *spec, bool layout)
{
	bool seen;
	int rc = enter(k, spec, &seen);
	if (rc < 0 || seen)
		return rc;
	if (spec->n && !spec->fields)
		rc = fail(k, spec->name, "fields missing");
	else if (layout && spec->struct_size == 0)
		rc = fail(k, spec->name, "struct_size is 0");
	for (size_t i = 0; rc == 0 && i < spec->n; i++)
		rc = check_field(k, &spec->fields[i], spec->struct_size,
		                 layout);
	k->depth--;
	return rc;
}

static int check_params(check_t *k, const keel_route_spec_t *spec)
{
	if (spec->n_params && (!spec->params || !spec->params_size))
		return fail(k, "params", "params or params_size missing");
	for (size_t i = 0; i < spec->n_params; i++) {
		const keel_param_t *p = &spec->params[i];
		const char *n = p->field.name;
		if (p->in < KEEL_IN_PATH || p->in > KEEL_IN_HEADER)
			return fail(k, n, "unknown parameter location");
		if (p->field.type == KEEL_T_OBJECT ||
		    p->field.type == KEEL_T_ARRAY)
			return fail(k, n, "parameters must be scalars");
		int rc = check_field(k, &p->field, spec->params_size, true);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int keel_validate_check(const keel_route_spec_t *spec, char *why,
                        size_t why_len)
{
	check_t k = {.why = why, .why_len = why_len};
	if (why_len)
		why[0] = '\0';
	int rc = check_params(&k, spec);
	if (rc == 0 && spec->body)
		rc = check_spec(&k, spec->body, true);
	for (size_t i = 0; rc == 0 && i < spec->n_responses; i++)
		if (spec->responses[i].schema)
			rc = check_spec(&k, spec->responses[i].schema, false);
	if (rc == 0 && spec->n_responses && !spec->responses)
		rc = fail(&k, "responses", "responses missing");
	return rc;
}
