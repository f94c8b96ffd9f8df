/*
 * Validating path, query and header parameters (keel_validate_params_from):
 * each declared parameter is looked up through a getter, parsed strictly
 * from text into its C type, checked like a body field and stored in the
 * handler's params struct.  The getter keeps this file free of the
 * request: tests and other transports can feed parameters from anywhere.
 */
#include <string.h>

#include "validate_int.h"

/* One parameter: absent (required, default), then the value. */
static void check_param(keel__vctx_t *c, const keel_param_t *p,
                        keel_param_get_fn *get, void *ctx, void *out)
{
	const keel_field_t *f = &p->field;
	size_t old = keel__vpath_key(c, f->name, strlen(f->name));
	keel_str_t text = {"", 0};
	int rc = get(ctx, p->in, f->name, &text, c->arena);
	if (rc == KEEL_ENOENT && f->required)
		keel__verror(c, "can't be blank");
	else if (rc == KEEL_ENOENT && f->def)
		keel__vtext(c, f, keel_str_from_cstr(f->def),
		            (char *)out + f->offset);
	else if (rc < 0 && rc != KEEL_ENOENT)
		c->rc = rc;
	else if (rc == 0) {
		keel__vpresence(f, out, KEEL_SET);
		keel__vtext(c, f, text, (char *)out + f->offset);
	}
	keel__vpath_pop(c, old);
}

int keel_validate_params_from(const keel_route_spec_t *spec,
                              keel_param_get_fn *get, void *ctx, void *out,
                              keel_arena_t *arena, keel_verrors_t *errs)
{
	keel__vctx_t c;
	size_t before = errs->count;
	keel__vctx_init(&c, arena, errs);
	if (spec->n_params && !out)
		return KEEL_EINVAL;
	if (out)
		memset(out, 0, spec->params_size);
	for (size_t i = 0; i < spec->n_params && !keel__vstop(&c); i++)
		check_param(&c, &spec->params[i], get, ctx, out);
	if (c.rc < 0)
		return c.rc;
	return errs->count > before || errs->truncated ? KEEL_EINVAL : 0;
}
