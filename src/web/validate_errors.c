/*
 * Validation error lists (keel_verrors_*): collecting field-level messages
 * in the request's arena and rendering them as the 422 body, in the
 * default RealWorld format or through a caller's formatter.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/res.h"
#include "keel/validate.h"
#include "validate_int.h"

void keel_verrors_init(keel_verrors_t *errs, keel_arena_t *arena)
{
	*errs = (keel_verrors_t){.arena = arena};
}

/* Arena memory cannot be given back, so the list doubles: a request with
 * k errors wastes at most k entries. */
static int grow(keel_verrors_t *errs)
{
	size_t cap = errs->cap ? errs->cap * 2 : 8;
	keel_verror_t *items =
	        keel_arena_alloc(errs->arena, cap * sizeof(*items));
	if (!items)
		return KEEL_ENOMEM;
	if (errs->count)
		memcpy(items, errs->items, errs->count * sizeof(*items));
	errs->items = items;
	errs->cap = cap;
	return 0;
}

/*
 * The cap keeps a hostile body (a million bad array items) from turning
 * into a million messages: the first ones say enough about what is wrong.
 */
int keel_verrors_add(keel_verrors_t *errs, const char *path,
                     const char *message)
{
	if (errs->count >= KEEL_VERRORS_MAX) {
		errs->truncated = true;
		return KEEL_ELIMIT;
	}
	if (errs->count == errs->cap && grow(errs) < 0)
		return KEEL_ENOMEM;
	char *p = keel_arena_strndup(errs->arena, keel_str_from_cstr(path));
	char *m = keel_arena_strndup(errs->arena, keel_str_from_cstr(message));
	if (!p || !m)
		return KEEL_ENOMEM;
	errs->items[errs->count++] = (keel_verror_t){p, m};
	return 0;
}

/* Messages of one path share one array, created when the path is first
 * seen; jansson keeps keys in insertion order. */
static int group(json_t *by_path, const keel_verror_t *e)
{
	json_t *list = json_object_get(by_path, e->path);
	if (!list) {
		list = json_array();
		if (json_object_set_new(by_path, e->path, list) < 0)
			return KEEL_EINVAL;
	}
	json_t *msg = json_string(e->message);
	if (!msg)
		return KEEL_EINVAL;
	return json_array_append_new(list, msg) < 0 ? KEEL_ENOMEM : 0;
}

/*
 * jansson does the escaping and refuses invalid UTF-8 (a path or message
 * a handler added from raw bytes): the body is always valid JSON or not
 * written at all.  It is built whole and appended in one step, so `out`
 * is unchanged on failure.
 */
int keel_verrors_write_json(const keel_verrors_t *errs, keel_buf_t *out)
{
	json_t *by_path = json_object();
	json_t *root = json_pack("{so}", "errors", by_path);
	int rc = root ? 0 : KEEL_ENOMEM;
	for (size_t i = 0; rc == 0 && i < errs->count; i++)
		rc = group(by_path, &errs->items[i]);
	char *text = rc == 0 ? json_dumps(root, JSON_COMPACT) : NULL;
	if (rc == 0)
		rc = text ? keel_buf_append(out, text, strlen(text))
		          : KEEL_ENOMEM;
	free(text);
	json_decref(root);
	return rc;
}

/* Set once at start-up, before workers fork; read-only while serving. */
static keel_verrors_format_fn *default_fmt;
static void *default_ud;

void keel_verrors_set_format(keel_verrors_format_fn *fmt, void *ud)
{
	default_fmt = fmt;
	default_ud = fmt ? ud : NULL;
}

bool keel__verrors_format_chosen(void)
{
	return default_fmt != NULL;
}

static int write_default(const keel_verrors_t *errs, keel_buf_t *out, void *ud)
{
	(void)ud;
	return keel_verrors_write_json(errs, out);
}

int keel_verrors_respond(keel_res_t *res, const keel_verrors_t *errs,
                         keel_verrors_format_fn *fmt, void *ud)
{
	if (!fmt) {
		fmt = default_fmt ? default_fmt : write_default;
		ud = default_ud;
	}
	int rc = keel_res_body(res, "", 0);
	if (rc == 0)
		rc = fmt(errs, keel_res_buf(res), ud);
	if (rc < 0)
		return keel_res_error(res, 500, "Internal Server Error");
	keel_res_header_remove(res, "Content-Type");
	if (keel_res_header(res, "Content-Type", "application/json") < 0)
		return keel_res_error(res, 500, "Internal Server Error");
	keel_res_status(res, 422);
	return 422;
}
