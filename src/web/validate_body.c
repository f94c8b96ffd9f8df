/*
 * Validating a JSON body (keel_validate_body): walk the spec's field table
 * over the parsed jansson tree, check each value, and write it into the
 * handler's struct at the field's offset.  The walk follows the spec, not
 * the input, so its depth is the spec's and keys nobody asked for cost
 * one lookup each (or an error, when the spec rejects unknown keys).
 */
#include <string.h>

#include "validate_int.h"

static void check_object(keel__vctx_t *c, const keel_body_spec_t *spec,
                         const json_t *obj, void *out);

/* Array length limits are item counts, reported in the string wording. */
static bool count_ok(keel__vctx_t *c, const keel_field_t *f, size_t n)
{
	if (n < f->min_len)
		keel__verror(c, "is too short (minimum is %zu item%s)",
		             f->min_len, f->min_len == 1 ? "" : "s");
	else if (f->max_len && n > f->max_len)
		keel__verror(c, "is too long (maximum is %zu item%s)",
		             f->max_len, f->max_len == 1 ? "" : "s");
	else
		return true;
	return false;
}

static void check_value(keel__vctx_t *c, const keel_field_t *f, const json_t *v,
                        void *slot);

/*
 * Elements go to one zeroed arena array sized from the element type; the
 * count is checked against max_len before anything is allocated, so a
 * huge array costs nothing when the spec bounds it.
 */
static void check_array(keel__vctx_t *c, const keel_field_t *f,
                        const json_t *arr, void *slot)
{
	size_t n = json_array_size(arr);
	size_t size = f->items ? keel__vslot_size(f->items) : 0;
	if (size == 0) {
		c->rc = KEEL_ESTATE;
		return;
	}
	if (!count_ok(c, f, n))
		return;
	keel_array_t a = {n ? keel_arena_calloc(c->arena, n, size) : NULL, n};
	if (n && !a.items) {
		c->rc = KEEL_ENOMEM;
		return;
	}
	for (size_t i = 0; i < n && !keel__vstop(c); i++) {
		size_t old = keel__vpath_index(c, i);
		const json_t *item = json_array_get(arr, i);
		if (!json_is_null(item))
			check_value(c, f->items, item,
			            (char *)a.items + i * size);
		else if (!f->items->nullable)
			keel__verror(c, "can't be null");
		keel__vpath_pop(c, old);
	}
	memcpy(slot, &a, sizeof(a));
}

/* Objects and arrays count towards the depth bound; only a spec that
 * refers to itself can nest without limit. */
static void check_nested(keel__vctx_t *c, const keel_field_t *f,
                         const json_t *v, void *slot)
{
	if (++c->depth > KEEL__VDEPTH_MAX)
		keel__verror(c, "is nested too deeply");
	else if (f->type == KEEL_T_ARRAY)
		check_array(c, f, v, slot);
	else if (f->object)
		check_object(c, f->object, v, slot);
	else
		c->rc = KEEL_ESTATE;
	c->depth--;
}

/* A non-null JSON value against its field's type, then its rules. */
static void check_value(keel__vctx_t *c, const keel_field_t *f, const json_t *v,
                        void *slot)
{
	switch (f->type) {
	case KEEL_T_STRING:
	case KEEL_T_ENUM:
		if (!json_is_string(v))
			break;
		keel__vstring(c, f, json_string_value(v), json_string_length(v),
		              slot);
		return;
	case KEEL_T_INT:
		if (!json_is_integer(v))
			break;
		keel__vint(c, f, (int64_t)json_integer_value(v), slot);
		return;
	case KEEL_T_NUMBER:
		if (!json_is_number(v))
			break;
		keel__vnumber(c, f, json_number_value(v), slot);
		return;
	case KEEL_T_BOOL:
		if (!json_is_boolean(v))
			break;
		*(bool *)slot = json_is_true(v);
		return;
	case KEEL_T_OBJECT:
	case KEEL_T_ARRAY:
		if (!(f->type == KEEL_T_OBJECT ? json_is_object(v)
		                               : json_is_array(v)))
			break;
		check_nested(c, f, v, slot);
		return;
	}
	keel__verror(c, "must be %s", keel__vtype_noun(f->type));
}

/* One field of an object: absent and null first, then the value. */
static void check_field(keel__vctx_t *c, const keel_field_t *f,
                        const json_t *obj, void *out)
{
	size_t old = keel__vpath_key(c, f->name, strlen(f->name));
	const json_t *v = json_object_get(obj, f->name);
	void *slot = (char *)out + f->offset;
	if (!v && f->required)
		keel__verror(c, "can't be blank");
	else if (!v && f->def)
		keel__vtext(c, f, keel_str_from_cstr(f->def), slot);
	else if (v && json_is_null(v) && f->nullable)
		keel__vpresence(f, out, KEEL_NULL);
	else if (v && json_is_null(v))
		keel__verror(c,
		             f->required ? "can't be blank" : "can't be null");
	else if (v) {
		keel__vpresence(f, out, KEEL_SET);
		check_value(c, f, v, slot);
	}
	keel__vpath_pop(c, old);
}

static bool is_known(const keel_body_spec_t *spec, const char *key)
{
	for (size_t i = 0; i < spec->n; i++)
		if (strcmp(spec->fields[i].name, key) == 0)
			return true;
	return false;
}

/* Keys of `obj` outside `spec` (and other than `except`), one error each. */
static void reject_unknown(keel__vctx_t *c, const keel_body_spec_t *spec,
                           const json_t *obj, const char *except)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (keel__vstop(c))
			return;
		if ((except && strcmp(key, except) == 0) ||
		    (spec && is_known(spec, key)))
			continue;
		size_t old = keel__vpath_key(c, key, strlen(key));
		keel__verror(c, "is not allowed");
		keel__vpath_pop(c, old);
	}
}

static void check_object(keel__vctx_t *c, const keel_body_spec_t *spec,
                         const json_t *obj, void *out)
{
	for (size_t i = 0; i < spec->n && !keel__vstop(c); i++)
		check_field(c, &spec->fields[i], obj, out);
	if (spec->unknown == KEEL_UNKNOWN_REJECT)
		reject_unknown(c, spec, obj, NULL);
}

static const json_t *not_object(keel__vctx_t *c, const char *name,
                                const json_t *v)
{
	size_t old = keel__vpath_key(c, name, strlen(name));
	keel__verror(c, v ? "must be an object" : "can't be blank");
	keel__vpath_pop(c, old);
	return NULL;
}

/* The object the fields live in: the root, or the value of the wrapper
 * key; NULL (with the error recorded) when it is not an object. */
static const json_t *unwrap(keel__vctx_t *c, const keel_body_spec_t *spec,
                            const json_t *root)
{
	if (!json_is_object(root))
		return not_object(c, "body", root);
	if (!spec->wrapper)
		return root;
	if (spec->unknown == KEEL_UNKNOWN_REJECT)
		reject_unknown(c, NULL, root, spec->wrapper);
	const json_t *obj = json_object_get(root, spec->wrapper);
	return json_is_object(obj) ? obj : not_object(c, spec->wrapper, obj);
}

int keel_validate_body(const keel_body_spec_t *spec, const json_t *root,
                       void *out, keel_arena_t *arena, keel_verrors_t *errs)
{
	keel__vctx_t c;
	size_t before = errs->count;
	keel__vctx_init(&c, arena, errs);
	memset(out, 0, spec->struct_size);
	const json_t *obj = unwrap(&c, spec, root);
	if (obj)
		check_object(&c, spec, obj, out);
	if (c.rc < 0)
		return c.rc;
	return errs->count > before || errs->truncated ? KEEL_EINVAL : 0;
}
