/*
 * Fuzz declared validation: the input is parsed as JSON and validated
 * against a fixed spec covering every type and rule (wrapper, nested
 * object, arrays of scalars and objects, enum, pattern, formats, bounds);
 * then its first line is read as a query string for the parameter
 * validator.  Any crash, leak or sanitizer report fails, and so does a
 * result that contradicts itself: a success with errors, a failure
 * without any, a filled string that breaks its own length rule, or an
 * error body that is not valid JSON holding exactly the recorded errors.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"
#include "keel/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_item {
	keel_str_t sku;
	int64_t qty;
} fz_item_t;

typedef struct fz_body {
	keel_str_t name, email, site, when, code;
	keel_presence_t bio_state;
	keel_str_t bio;
	int64_t age;
	double score;
	bool flag;
	int kind;
	fz_item_t one;
	KEEL_ARRAY(keel_str_t) tags;
	KEEL_ARRAY(fz_item_t) items;
} fz_body_t;

static const char *const fz_kinds[] = {"a", "bb", "\xc3\xa9", NULL};

static const keel_field_t fz_item_fields[] = {
        {.name = "sku",
         .type = KEEL_T_STRING,
         .required = true,
         .max_len = 4,
         .offset = offsetof(fz_item_t, sku)},
        {.name = "qty",
         .type = KEEL_T_INT,
         KEEL_RANGE(-5, 5),
         .offset = offsetof(fz_item_t, qty)},
};
static const keel_body_spec_t fz_item_spec = {
        KEEL_FIELDS(fz_item_fields),
        .struct_size = sizeof(fz_item_t),
        .unknown = KEEL_UNKNOWN_REJECT,
};
static const keel_field_t fz_tag = {
        .type = KEEL_T_STRING, .min_len = 1, .max_len = 3, .nullable = true};
static const keel_field_t fz_item = {.type = KEEL_T_OBJECT,
                                     .object = &fz_item_spec};

#define FZ(m) .offset = offsetof(fz_body_t, m)
static const keel_field_t fz_fields[] = {
        {.name = "name",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .min_len = 2,
         .max_len = 6,
         FZ(name)},
        {.name = "email",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_EMAIL,
         FZ(email)},
        {.name = "site",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_URI,
         FZ(site)},
        {.name = "when",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_DATE_TIME,
         FZ(when)},
        {.name = "code",
         .type = KEEL_T_STRING,
         .pattern = "^[a-f0-9]{2,8}$",
         FZ(code)},
        {.name = "bio",
         .type = KEEL_T_STRING,
         .nullable = true,
         .presence = KEEL_PRESENCE(fz_body_t, bio_state),
         FZ(bio)},
        {.name = "age", .type = KEEL_T_INT, KEEL_RANGE(0, 150), FZ(age)},
        {.name = "score", .type = KEEL_T_NUMBER, KEEL_MAX(1e6), FZ(score)},
        {.name = "flag", .type = KEEL_T_BOOL, FZ(flag)},
        {.name = "kind",
         .type = KEEL_T_ENUM,
         .enum_values = fz_kinds,
         FZ(kind)},
        {.name = "one",
         .type = KEEL_T_OBJECT,
         .object = &fz_item_spec,
         FZ(one)},
        {.name = "tags",
         .type = KEEL_T_ARRAY,
         .items = &fz_tag,
         .max_len = 50,
         FZ(tags)},
        {.name = "items", .type = KEEL_T_ARRAY, .items = &fz_item, FZ(items)},
};
static const keel_body_spec_t fz_spec = {
        KEEL_FIELDS(fz_fields),
        .struct_size = sizeof(fz_body_t),
        .wrapper = "user",
};

typedef struct fz_params {
	int64_t limit;
	double ratio;
	bool full;
	int kind;
	keel_str_t q;
} fz_params_t;

static const keel_param_t fz_params[] = {
        {KEEL_IN_QUERY,
         {.name = "limit",
          .type = KEEL_T_INT,
          KEEL_RANGE(1, 100),
          .def = "20",
          .offset = offsetof(fz_params_t, limit)}},
        {KEEL_IN_QUERY,
         {.name = "ratio",
          .type = KEEL_T_NUMBER,
          .offset = offsetof(fz_params_t, ratio)}},
        {KEEL_IN_QUERY,
         {.name = "full",
          .type = KEEL_T_BOOL,
          .offset = offsetof(fz_params_t, full)}},
        {KEEL_IN_QUERY,
         {.name = "kind",
          .type = KEEL_T_ENUM,
          .enum_values = fz_kinds,
          .offset = offsetof(fz_params_t, kind)}},
        {KEEL_IN_QUERY,
         {.name = "q",
          .type = KEEL_T_STRING,
          .max_len = 5,
          .pattern = "^[a-z]*$",
          .offset = offsetof(fz_params_t, q)}},
};
static const keel_route_spec_t fz_route = {
        .params = fz_params,
        .n_params = KEEL_COUNTOF(fz_params),
        .params_size = sizeof(fz_params_t),
        .body = &fz_spec,
};

/* Code points of a string the validator accepted (it must be UTF-8). */
static size_t fz_count(keel_str_t s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
	return n;
}

/* The error body must parse and hold every recorded message once. */
static void fz_check_errors(const keel_verrors_t *errs)
{
	keel_buf_t out;
	keel_buf_init(&out, 0);
	if (keel_verrors_write_json(errs, &out) != 0)
		abort();
	json_t *doc = json_loads(out.data, 0, NULL);
	json_t *by_path = json_object_get(doc, "errors");
	size_t total = 0;
	const char *key;
	json_t *list;
	json_object_foreach(by_path, key, list) total += json_array_size(list);
	if (!json_is_object(by_path) || total != errs->count)
		abort();
	json_decref(doc);
	keel_buf_deinit(&out);
}

static void fz_check_body(int rc, const fz_body_t *b,
                          const keel_verrors_t *errs)
{
	if (rc == KEEL_ENOMEM)
		return;
	if ((rc == 0) != (errs->count == 0) || (rc != 0 && rc != KEEL_EINVAL))
		abort();
	if (rc != 0)
		return;
	size_t n = fz_count(b->name);
	if (n < 2 || n > 6 || b->name.ptr[b->name.len] != '\0' || b->age < 0 ||
	    b->age > 150 || b->tags.count > 50 || b->kind < 0 || b->kind > 2)
		abort();
	for (size_t i = 0; i < b->items.count; i++)
		if (b->items.items[i].sku.ptr == NULL ||
		    fz_count(b->items.items[i].sku) > 4)
			abort();
}

typedef struct fz_query {
	keel_str_t query;
} fz_query_t;

static int fz_get(void *ctx, keel_param_in_t in, const char *name,
                  keel_str_t *value, keel_arena_t *arena)
{
	fz_query_t *q = ctx;
	char *buf = keel_arena_alloc(arena, q->query.len + 1);
	keel_http_query_iter_t it;
	keel_str_t k, v;
	int rc;
	if (in != KEEL_IN_QUERY || !buf)
		return buf ? KEEL_ENOENT : KEEL_ENOMEM;
	keel_http_query_init(&it, q->query);
	while ((rc = keel_http_query_next(&it, buf, q->query.len + 1, &k,
	                                  &v)) != KEEL_ENOENT)
		if (rc == 0 && keel_str_eq(k, keel_str_from_cstr(name))) {
			*value = v;
			return 0;
		}
	return KEEL_ENOENT;
}

static void fz_params_run(const uint8_t *data, size_t size, keel_arena_t *arena)
{
	const uint8_t *nl = memchr(data, '\n', size);
	fz_query_t q = {{(const char *)data, nl ? (size_t)(nl - data) : size}};
	keel_verrors_t errs;
	fz_params_t p;
	keel_verrors_init(&errs, arena);
	int rc = keel_validate_params_from(&fz_route, fz_get, &q, &p, arena,
	                                   &errs);
	if (rc == KEEL_ENOMEM)
		return;
	if ((rc == 0) != (errs.count == 0) ||
	    (rc == 0 && (p.limit < 1 || p.limit > 100 || p.q.len > 5)))
		abort();
	fz_check_errors(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	keel_arena_t arena;
	keel_verrors_t errs;
	fz_body_t body;
	keel_arena_init(&arena, 0, 1 << 20);
	keel_verrors_init(&errs, &arena);
	json_t *root =
	        json_loadb((const char *)data, size,
	                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (root) {
		int rc = keel_validate_body(&fz_spec, root, &body, &arena,
		                            &errs);
		fz_check_body(rc, &body, &errs);
		if (rc != KEEL_ENOMEM)
			fz_check_errors(&errs);
		json_decref(root);
	}
	fz_params_run(data, size, &arena);
	keel_arena_deinit(&arena);
	return 0;
}
