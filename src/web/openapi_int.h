/*
 * src/web/openapi_int.h - internal: the state of one OpenAPI generation
 * (components being collected, the first error) and the schema builders
 * the document code calls.  Not installed.
 */
#ifndef KEEL_WEB_OPENAPI_INT_H
#define KEEL_WEB_OPENAPI_INT_H

#include "keel/openapi.h"

/** Deepest nesting of unnamed specs before giving up (a self-reference). */
#define KEEL__OA_DEPTH_MAX 32

/** A named spec already published under components/schemas. */
typedef struct keel__oa_named {
	const char *name;
	const keel_body_spec_t *spec;
} keel__oa_named_t;

/** One generation: components collected so far and the first error. */
typedef struct keel__oa {
	json_t *schemas; /* components/schemas, filled as names are met */
	keel__oa_named_t *named;
	size_t n_named, cap_named;
	int depth;
	int err; /* first failure (KEEL_E*), 0 while all is well */
} keel__oa_t;

/** Record `err` unless an earlier failure is already recorded; NULL. */
json_t *keel__oa_fail(keel__oa_t *g, int err);
/** Schema of a field's value: type, rules, nullable, annotations. */
json_t *keel__oa_field(keel__oa_t *g, const keel_field_t *f);
/** Schema of a whole body: wrapped under spec->wrapper when it has one. */
json_t *keel__oa_body(keel__oa_t *g, const keel_body_spec_t *spec);
/** `text` (a default or an example) as the JSON value field f would hold. */
json_t *keel__oa_text_value(keel__oa_t *g, const keel_field_t *f,
                            const char *text);
/** Set obj[key] = v, taking v's reference; a NULL v records KEEL_ENOMEM
 * unless an error is already recorded. */
void keel__oa_set(keel__oa_t *g, json_t *obj, const char *key, json_t *v);

#endif
