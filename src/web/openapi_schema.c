/*
 * JSON Schema (2020-12, as OpenAPI 3.1 uses it) from validation specs:
 * each field rule maps to the keyword that states the same rule, so a
 * client generator sees what the validator enforces.  Named specs go to
 * components/schemas once and are referred to with $ref, which is also
 * what lets a spec contain itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_int.h"

json_t *keel__oa_fail(keel__oa_t *g, int err)
{
	if (g->err == 0)
		g->err = err;
	return NULL;
}

void keel__oa_set(keel__oa_t *g, json_t *obj, const char *key, json_t *v)
{
	if (json_object_set_new(obj, key, v) < 0)
		keel__oa_fail(g, KEEL_ENOMEM);
}

static json_t *text_number(keel__oa_t *g, const char *text)
{
	char *end;
	double d = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || !isfinite(d))
		return keel__oa_fail(g, KEEL_EINVAL);
	return json_real(d);
}

json_t *keel__oa_text_value(keel__oa_t *g, const keel_field_t *f,
                            const char *text)
{
	int64_t i;
	json_t *v;
	switch (f->type) {
	case KEEL_T_STRING:
	case KEEL_T_ENUM:
		if ((v = json_string(text)) == NULL)
			return keel__oa_fail(g, KEEL_EINVAL);
		return v;
	case KEEL_T_INT:
		if (keel_str_to_i64(keel_str_from_cstr(text), &i) < 0)
			return keel__oa_fail(g, KEEL_EINVAL);
		return json_integer((json_int_t)i);
	case KEEL_T_NUMBER: return text_number(g, text);
	case KEEL_T_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			return json_true();
		if (!strcmp(text, "false") || !strcmp(text, "0"))
			return json_false();
		return keel__oa_fail(g, KEEL_EINVAL);
	case KEEL_T_OBJECT:
	case KEEL_T_ARRAY: break;
	}
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : keel__oa_fail(g, KEEL_EINVAL);
}

static json_t *string_list(const char *const *values)
{
	json_t *list = json_array();
	for (size_t i = 0; list && values && values[i]; i++)
		if (json_array_append_new(list, json_string(values[i])) < 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

static const char *format_name(keel_format_t fmt)
{
	switch (fmt) {
	case KEEL_FMT_NONE: return NULL;
	case KEEL_FMT_EMAIL: return "email";
	case KEEL_FMT_URI: return "uri";
	case KEEL_FMT_DATE_TIME: return "date-time";
	}
	return NULL;
}

/* not_blank has no keyword of its own; "\S" (some non-space) says it,
 * unless the field's own pattern already takes the slot. */
static void string_rules(keel__oa_t *g, json_t *s, const keel_field_t *f)
{
	const char *pattern = f->pattern     ? f->pattern
	                      : f->not_blank ? "\\S"
	                                     : NULL;
	if (f->min_len)
		keel__oa_set(g, s, "minLength", json_integer(f->min_len));
	if (f->max_len)
		keel__oa_set(g, s, "maxLength", json_integer(f->max_len));
	if (pattern)
		keel__oa_set(g, s, "pattern", json_string(pattern));
	if (format_name(f->format))
		keel__oa_set(g, s, "format",
		             json_string(format_name(f->format)));
	if (f->enum_values)
		keel__oa_set(g, s, "enum", string_list(f->enum_values));
}

/* Integer bounds print as integers when they fit one (2^62 keeps the
 * conversion well defined); a fractional bound rounds inwards. */
static json_t *bound(double v, bool integral)
{
	if (integral && fabs(v) < 4611686018427387904.0)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static void number_rules(keel__oa_t *g, json_t *s, const keel_field_t *f)
{
	bool integral = f->type == KEEL_T_INT;
	keel__oa_set(g, s, "format",
	             json_string(integral ? "int64" : "double"));
	if (f->has_min)
		keel__oa_set(g, s, "minimum",
		             bound(integral ? ceil(f->min) : f->min, integral));
	if (f->has_max)
		keel__oa_set(
		        g, s, "maximum",
		        bound(integral ? floor(f->max) : f->max, integral));
}

static json_t *typed(keel__oa_t *g, const char *type)
{
	json_t *s = json_object();
	if (s)
		keel__oa_set(g, s, "type", json_string(type));
	return s ? s : keel__oa_fail(g, KEEL_ENOMEM);
}

static json_t *object_ref(keel__oa_t *g, const keel_body_spec_t *spec);

static json_t *array_schema(keel__oa_t *g, const keel_field_t *f)
{
	json_t *s = typed(g, "array");
	if (!s)
		return NULL;
	keel__oa_set(g, s, "items", keel__oa_field(g, f->items));
	if (f->min_len)
		keel__oa_set(g, s, "minItems", json_integer(f->min_len));
	if (f->max_len)
		keel__oa_set(g, s, "maxItems", json_integer(f->max_len));
	return s;
}

/* The value's own schema, before nullable and annotations. */
static json_t *value_schema(keel__oa_t *g, const keel_field_t *f)
{
	static const char *const names[] = {
	        [KEEL_T_STRING] = "string", [KEEL_T_INT] = "integer",
	        [KEEL_T_NUMBER] = "number", [KEEL_T_BOOL] = "boolean",
	        [KEEL_T_ENUM] = "string",
	};
	if (f->type == KEEL_T_OBJECT)
		return f->object ? object_ref(g, f->object)
		                 : keel__oa_fail(g, KEEL_EINVAL);
	if (f->type == KEEL_T_ARRAY)
		return f->items ? array_schema(g, f)
		                : keel__oa_fail(g, KEEL_EINVAL);
	if (f->type < KEEL_T_STRING || f->type > KEEL_T_ENUM)
		return keel__oa_fail(g, KEEL_EINVAL);
	json_t *s = typed(g, names[f->type]);
	if (s && (f->type == KEEL_T_STRING || f->type == KEEL_T_ENUM))
		string_rules(g, s, f);
	if (s && (f->type == KEEL_T_INT || f->type == KEEL_T_NUMBER))
		number_rules(g, s, f);
	return s;
}

/*
 * 3.1 dropped `nullable`: null joins the type list (and the enum, which
 * would otherwise still refuse it); a $ref cannot take a type list, so it
 * becomes "either the referenced schema or null".
 */
static json_t *make_nullable(keel__oa_t *g, json_t *s)
{
	json_t *type = json_object_get(s, "type");
	if (!type)
		return json_pack("{s:[o,{s:s}]}", "anyOf", s, "type", "null");
	keel__oa_set(g, s, "type", json_pack("[O,s]", type, "null"));
	json_t *values = json_object_get(s, "enum");
	if (values && json_array_append_new(values, json_null()) < 0)
		keel__oa_fail(g, KEEL_ENOMEM);
	return s;
}

json_t *keel__oa_field(keel__oa_t *g, const keel_field_t *f)
{
	json_t *s = value_schema(g, f);
	if (s && f->nullable)
		s = make_nullable(g, s);
	if (!s)
		return g->err ? NULL : keel__oa_fail(g, KEEL_ENOMEM);
	if (f->description)
		keel__oa_set(g, s, "description", json_string(f->description));
	if (f->def)
		keel__oa_set(g, s, "default",
		             keel__oa_text_value(g, f, f->def));
	if (f->example)
		keel__oa_set(g, s, "examples",
		             json_pack("[o]",
		                       keel__oa_text_value(g, f, f->example)));
	return s;
}

static json_t *object_schema(keel__oa_t *g, const keel_body_spec_t *spec)
{
	json_t *s = typed(g, "object"), *props = json_object();
	json_t *required = json_array();
	for (size_t i = 0; s && props && required && i < spec->n; i++) {
		const keel_field_t *f = &spec->fields[i];
		keel__oa_set(g, props, f->name, keel__oa_field(g, f));
		if (f->required &&
		    json_array_append_new(required, json_string(f->name)) < 0)
			keel__oa_fail(g, KEEL_ENOMEM);
	}
	if (!s || !props || !required) {
		json_decref(props), json_decref(required), json_decref(s);
		return keel__oa_fail(g, KEEL_ENOMEM);
	}
	if (spec->description)
		keel__oa_set(g, s, "description",
		             json_string(spec->description));
	keel__oa_set(g, s, "properties", props);
	if (json_array_size(required))
		keel__oa_set(g, s, "required", required);
	else
		json_decref(required);
	if (spec->unknown == KEEL_UNKNOWN_REJECT)
		keel__oa_set(g, s, "additionalProperties", json_false());
	return s;
}

/* Component names end up in a JSON pointer and in generated client code:
 * OpenAPI allows only these characters. */
static bool name_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-_", *p)))
			return false;
	return true;
}

/* 0 when `spec` must still be published, 1 when it already is, or an
 * error when another spec took its name. */
static int lookup_named(keel__oa_t *g, const keel_body_spec_t *spec)
{
	for (size_t i = 0; i < g->n_named; i++)
		if (strcmp(g->named[i].name, spec->name) == 0)
			return g->named[i].spec == spec ? 1 : KEEL_EEXIST;
	if (g->n_named == g->cap_named) {
		size_t cap = g->cap_named ? g->cap_named * 2 : 8;
		keel__oa_named_t *grown =
		        realloc(g->named, cap * sizeof(*grown));
		if (!grown)
			return KEEL_ENOMEM;
		g->named = grown;
		g->cap_named = cap;
	}
	g->named[g->n_named++] = (keel__oa_named_t){spec->name, spec};
	return 0;
}

/*
 * The slot under components/schemas is taken before the schema is built,
 * so a spec that contains itself finds its name there and refers to it
 * instead of recursing.
 */
static int publish(keel__oa_t *g, const keel_body_spec_t *spec)
{
	json_t *slot = json_object();
	if (!slot || json_object_set_new(g->schemas, spec->name, slot) < 0)
		return KEEL_ENOMEM;
	json_t *s = object_schema(g, spec);
	if (!s)
		return g->err;
	int rc = json_object_update(slot, s) < 0 ? KEEL_ENOMEM : 0;
	json_decref(s);
	return rc;
}

static json_t *object_ref(keel__oa_t *g, const keel_body_spec_t *spec)
{
	if (!spec->name) {
		if (g->depth >= KEEL__OA_DEPTH_MAX)
			return keel__oa_fail(g, KEEL_ELIMIT);
		g->depth++;
		json_t *s = object_schema(g, spec);
		g->depth--;
		return s;
	}
	if (!name_ok(spec->name))
		return keel__oa_fail(g, KEEL_EINVAL);
	int rc = lookup_named(g, spec);
	if (rc == 0)
		rc = publish(g, spec);
	if (rc < 0)
		return keel__oa_fail(g, rc);
	return json_pack("{s:s+}", "$ref", "#/components/schemas/", spec->name);
}

json_t *keel__oa_body(keel__oa_t *g, const keel_body_spec_t *spec)
{
	json_t *inner = object_ref(g, spec);
	if (!inner || !spec->wrapper)
		return inner;
	json_t *s =
	        json_pack("{s:s,s:[s],s:{s:o}}", "type", "object", "required",
	                  spec->wrapper, "properties", spec->wrapper, inner);
	if (s && spec->unknown == KEEL_UNKNOWN_REJECT)
		keel__oa_set(g, s, "additionalProperties", json_false());
	return s ? s : keel__oa_fail(g, KEEL_ENOMEM);
}
