/*
 * A route with an attached spec is validated by the app before its
 * handler runs (FastAPI's behaviour), through the whole stack.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "keel/keel.h"

typedef struct {
	keel_str_t name;
	int64_t age;
} person_t;

typedef struct {
	int64_t id;
} person_params_t;

static const keel_field_t person_fields[] = {
        {.name = "name",
         .type = KEEL_T_STRING,
         .required = true,
         .max_len = 8,
         .offset = offsetof(person_t, name)},
        {.name = "age",
         .type = KEEL_T_INT,
         .required = true,
         .min = 0,
         .max = 150,
         .has_min = true,
         .has_max = true,
         .offset = offsetof(person_t, age)},
};

static const keel_body_spec_t person_body = {
        KEEL_FIELDS(person_fields),
        .struct_size = sizeof(person_t),
        .wrapper = "person",
};

static const keel_param_t person_params[] = {
        {.in = KEEL_IN_PATH,
         .field = {.name = "id",
                   .type = KEEL_T_INT,
                   .required = true,
                   .offset = offsetof(person_params_t, id)}},
};

static const keel_route_spec_t person_spec = {
        .params = person_params,
        .n_params = 1,
        .params_size = sizeof(person_params_t),
        .body = &person_body,
};

static int calls;

static int put_person(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	calls++;
	const person_t *p = keel_req_valid_body(req);
	const person_params_t *pp = keel_req_valid_params(req);
	cr_assert_not_null(p);
	cr_assert_not_null(pp);
	keel_res_printf(res, "%lld %.*s %lld", (long long)pp->id,
	                KEEL_STR_FMT(p->name), (long long)p->age);
	return 200;
}

static keel_app_t *make_app(void)
{
	keel_app_t *app = keel_app_new();
	keel_route_t *r = keel_app_route(app, KEEL_HTTP_PUT, "/people/{id:int}",
	                                 put_person, "put_person");
	cr_assert_not_null(r);
	keel_route_spec(r, &person_spec);
	return app;
}

static void put(keel_test_t *t, const char *body, keel_test_result_t *r)
{
	cr_assert_eq(keel_test_request(t, "PUT", "/people/7",
	                               "Content-Type: application/json\n", body,
	                               strlen(body), r),
	             0);
}

Test(autovalidate, valid_body_reaches_the_handler_filled)
{
	keel_app_t *app = make_app();
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	calls = 0;
	put(t, "{\"person\":{\"name\":\"ann\",\"age\":41}}", &r);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(calls, 1);
	cr_assert_eq(r.body_len, strlen("7 ann 41"));
	cr_assert(memcmp(r.body, "7 ann 41", r.body_len) == 0);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}

Test(autovalidate, invalid_body_is_422_and_handler_never_runs)
{
	keel_app_t *app = make_app();
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	calls = 0;
	put(t, "{\"person\":{\"name\":\"far too long\",\"age\":-1}}", &r);
	cr_assert_eq(r.status, 422);
	cr_assert_eq(calls, 0);
	cr_assert_not_null(memmem(r.body, r.body_len, "\"name\"", 6));
	cr_assert_not_null(memmem(r.body, r.body_len, "\"age\"", 5));
	keel_test_result_free(&r);
	put(t, "not json", &r);
	cr_assert_eq(r.status, 400);
	cr_assert_eq(calls, 0);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}

static const keel_openapi_info_t info = {.title = "people", .version = "1"};

Test(autovalidate, openapi_document_is_served_from_the_same_specs)
{
	keel_app_t *app = make_app();
	cr_assert_not_null(keel_app_openapi(app, "/openapi.json", &info));
	keel_test_t *t = keel_test_new(app);
	keel_test_result_t r;
	cr_assert_eq(keel_test_get(t, "/openapi.json", &r), 0);
	cr_assert_eq(r.status, 200);
	json_error_t jerr;
	json_t *doc = json_loadb(r.body, r.body_len, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	json_t *op = json_object_get(
	        json_object_get(json_object_get(doc, "paths"), "/people/{id}"),
	        "put");
	cr_assert_not_null(op);
	json_t *param = json_array_get(json_object_get(op, "parameters"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(param, "name")),
	                 "id");
	cr_assert_not_null(json_object_get(op, "requestBody"));
	json_decref(doc);
	keel_test_result_free(&r);
	keel_test_free(t);
	keel_app_free(app);
}
