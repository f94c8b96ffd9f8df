/*
 * OpenAPI generation: a small RealWorld-like route set is documented,
 * parsed back with jansson and checked path by path - parameters from
 * patterns and specs, request body schemas, components, responses,
 * security - plus the errors the generator reports.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "keel/app.h"
#include "keel/openapi.h"

typedef struct oa_new_user {
	keel_str_t username, email, password;
} oa_new_user_t;

static const keel_field_t oa_new_user_fields[] = {
        {.name = "username",
         .type = KEEL_T_STRING,
         .required = true,
         .max_len = 32,
         .pattern = "^[A-Za-z0-9_]+$",
         .description = "public name",
         .example = "jake",
         .offset = offsetof(oa_new_user_t, username)},
        {.name = "email",
         .type = KEEL_T_STRING,
         .required = true,
         .format = KEEL_FMT_EMAIL,
         .offset = offsetof(oa_new_user_t, email)},
        {.name = "password",
         .type = KEEL_T_STRING,
         .required = true,
         .min_len = 8,
         .not_blank = true,
         .offset = offsetof(oa_new_user_t, password)},
};

static const keel_body_spec_t oa_new_user = {
        KEEL_FIELDS(oa_new_user_fields),
        .struct_size = sizeof(oa_new_user_t),
        .wrapper = "user",
        .name = "NewUser",
};

typedef struct oa_update {
	keel_str_t image, email;
	keel_presence_t image_state;
	int kind;
	KEEL_ARRAY(keel_str_t) tags;
	double weight;
	struct oa_pos {
		int64_t x, y;
	} pos;
} oa_update_t;

static const char *const oa_kinds[] = {"a", "b", NULL};
static const keel_field_t oa_tag = {.type = KEEL_T_STRING, .max_len = 10};
static const keel_field_t oa_pos_fields[] = {
        {.name = "x",
         .type = KEEL_T_INT,
         .required = true,
         KEEL_MIN(0),
         .offset = offsetof(struct oa_pos, x)},
        {.name = "y", .type = KEEL_T_INT, .offset = offsetof(struct oa_pos, y)},
};
static const keel_body_spec_t oa_pos = {
        KEEL_FIELDS(oa_pos_fields),
        .struct_size = sizeof(struct oa_pos),
};

static const keel_field_t oa_update_fields[] = {
        {.name = "image",
         .type = KEEL_T_STRING,
         .nullable = true,
         .format = KEEL_FMT_URI,
         .presence = KEEL_PRESENCE(oa_update_t, image_state),
         .offset = offsetof(oa_update_t, image)},
        {.name = "email",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_EMAIL,
         .offset = offsetof(oa_update_t, email)},
        {.name = "kind",
         .type = KEEL_T_ENUM,
         .enum_values = oa_kinds,
         .nullable = true,
         .offset = offsetof(oa_update_t, kind)},
        {.name = "tags",
         .type = KEEL_T_ARRAY,
         .items = &oa_tag,
         .min_len = 1,
         .max_len = 5,
         .example = "[\"x\", \"y\"]",
         .offset = offsetof(oa_update_t, tags)},
        {.name = "weight",
         .type = KEEL_T_NUMBER,
         KEEL_RANGE(0.5, 2.5),
         .offset = offsetof(oa_update_t, weight)},
        {.name = "pos",
         .type = KEEL_T_OBJECT,
         .object = &oa_pos,
         .offset = offsetof(oa_update_t, pos)},
};

static const keel_body_spec_t oa_update = {
        KEEL_FIELDS(oa_update_fields),
        .struct_size = sizeof(oa_update_t),
        .wrapper = "user",
        .unknown = KEEL_UNKNOWN_REJECT,
};

typedef struct oa_list_params {
	int64_t limit;
	keel_str_t tag, slug, lang;
} oa_list_params_t;

static const keel_param_t oa_list_param_table[] = {
        {KEEL_IN_QUERY,
         {.name = "limit",
          .type = KEEL_T_INT,
          KEEL_RANGE(1, 100),
          .def = "20",
          .offset = offsetof(oa_list_params_t, limit)}},
        {KEEL_IN_QUERY,
         {.name = "tag",
          .type = KEEL_T_STRING,
          .description = "filter",
          .offset = offsetof(oa_list_params_t, tag)}},
        {KEEL_IN_PATH,
         {.name = "slug",
          .type = KEEL_T_STRING,
          .min_len = 1,
          .description = "article slug",
          .offset = offsetof(oa_list_params_t, slug)}},
        {KEEL_IN_HEADER,
         {.name = "Accept-Language",
          .type = KEEL_T_STRING,
          .required = true,
          .offset = offsetof(oa_list_params_t, lang)}},
};

static const char *const oa_article_tags[] = {"Articles", NULL};

static const keel_response_spec_t oa_user_responses[] = {
        {201, "Created", &oa_new_user},
        {409, NULL, NULL},
};

static const keel_route_spec_t oa_register = {
        .summary = "Register",
        .description = "Create an account.",
        .tags = (const char *const[]){"User and Authentication", NULL},
        .body = &oa_new_user,
        .responses = oa_user_responses,
        .n_responses = KEEL_COUNTOF(oa_user_responses),
};

static const keel_route_spec_t oa_update_user = {
        .summary = "Update current user",
        .body = &oa_update,
        .security = KEEL_SEC_REQUIRED,
};

static const keel_route_spec_t oa_comments = {
        .summary = "Comments",
        .tags = oa_article_tags,
        .params = oa_list_param_table,
        .n_params = KEEL_COUNTOF(oa_list_param_table),
        .params_size = sizeof(oa_list_params_t),
        .security = KEEL_SEC_OPTIONAL,
        .deprecated = true,
};

static const keel_openapi_route_t oa_routes[] = {
        {KEEL_HTTP_POST, "/api/users", "register", &oa_register},
        {KEEL_HTTP_PUT, "/api/user", "update_user", &oa_update_user},
        {KEEL_HTTP_GET, "/api/profiles/{username}", "get_profile", NULL},
        {KEEL_HTTP_GET, "/api/articles/{slug}/comments/{id:int}", "get_comment",
         &oa_comments},
        {KEEL_HTTP_DELETE, "/api/articles/{slug}/comments/{id:int}",
         "get_comment", NULL},
        {KEEL_HTTP_GET, "/files/{rest:path}", "-", NULL},
};

static const keel_openapi_info_t oa_info = {
        .title = "Conduit API",
        .version = "1.0.0",
        .description = "RealWorld",
        .server_url = "/api",
        .auth_description = "Token <jwt>",
};

static json_t *oa_doc;

static void oa_setup(void)
{
	int err = -99;
	oa_doc = keel_openapi_build(&oa_info, oa_routes,
	                            KEEL_COUNTOF(oa_routes), &err);
	cr_assert_not_null(oa_doc, "build failed: %d", err);
	cr_assert_eq(err, 0);
}

static void oa_teardown(void)
{
	json_decref(oa_doc);
}

TestSuite(openapi, .init = oa_setup, .fini = oa_teardown);

/* The value at a '/'-separated path of keys (numbers index arrays). */
static json_t *oa_at(json_t *v, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, "/", &save); v && k;
	     k = strtok_r(NULL, "/", &save)) {
		/* "~1" stands for '/' inside a key, as in a JSON pointer */
		for (char *t; (t = strstr(k, "~1")) != NULL;)
			t[0] = '/', memmove(t + 1, t + 2, strlen(t + 2) + 1);
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(k, NULL, 10));
		else
			v = json_object_get(v, k);
	}
	return v;
}

static const char *oa_str(const char *path)
{
	json_t *v = oa_at(oa_doc, path);
	cr_assert(json_is_string(v), "no string at %s", path);
	return json_string_value(v);
}

static json_int_t oa_int(const char *path)
{
	json_t *v = oa_at(oa_doc, path);
	cr_assert(json_is_integer(v), "no integer at %s", path);
	return json_integer_value(v);
}

static void oa_json_eq(const char *path, const char *expect)
{
	json_t *want = json_loads(expect, JSON_DECODE_ANY, NULL);
	cr_assert_not_null(want, "bad expectation %s", expect);
	json_t *got = oa_at(oa_doc, path);
	char *text =
	        got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	cr_assert(json_equal(got, want), "%s: got %s, want %s", path,
	          text ? text : "(nothing)", expect);
	free(text);
	json_decref(want);
}

#define OA_COMMENT "paths/~1api~1articles~1{slug}~1comments~1{id}/get"

Test(openapi, document_header)
{
	cr_assert_str_eq(oa_str("openapi"), "3.1.0");
	cr_assert_str_eq(oa_str("info/title"), "Conduit API");
	cr_assert_str_eq(oa_str("info/version"), "1.0.0");
	cr_assert_str_eq(oa_str("info/description"), "RealWorld");
	cr_assert_str_eq(oa_str("servers/0/url"), "/api");
}

Test(openapi, every_route_has_its_path_and_method)
{
	json_t *paths = oa_at(oa_doc, "paths");
	cr_assert_eq(json_object_size(paths), 5);
	const char *keys[] = {
	        "/api/users", "/api/user", "/api/profiles/{username}",
	        "/api/articles/{slug}/comments/{id}", "/files/{rest}"};
	for (size_t i = 0; i < KEEL_COUNTOF(keys); i++)
		cr_assert_not_null(json_object_get(paths, keys[i]), "%s",
		                   keys[i]);
	json_t *item =
	        json_object_get(paths, "/api/articles/{slug}/comments/{id}");
	cr_assert_eq(json_object_size(item), 2);
	cr_assert_not_null(json_object_get(item, "get"));
	cr_assert_not_null(json_object_get(item, "delete"));
	cr_assert_not_null(oa_at(paths, "~1api~1users/post"));
	cr_assert_not_null(oa_at(paths, "~1api~1user/put"));
}

Test(openapi, operation_ids_are_handler_names_made_unique)
{
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/operationId"),
	                 "register");
	cr_assert_str_eq(oa_str(OA_COMMENT "/operationId"), "get_comment");
	cr_assert_str_eq(oa_str("paths/~1api~1articles~1{slug}~1comments~1{id}"
	                        "/delete/operationId"),
	                 "get_comment_2");
	cr_assert_null(oa_at(oa_doc, "paths/~1files~1{rest}/get/operationId"));
}

Test(openapi, path_parameters_come_from_the_pattern)
{
	oa_json_eq("paths/~1api~1profiles~1{username}/get/parameters",
	           "[{\"name\":\"username\",\"in\":\"path\",\"required\":true,"
	           "\"schema\":{\"type\":\"string\"}}]");
	oa_json_eq("paths/~1files~1{rest}/get/parameters/0/schema",
	           "{\"type\":\"string\"}");
	/* spec-declared path param wins; {id:int} is an int64 */
	oa_json_eq(OA_COMMENT "/parameters/0",
	           "{\"name\":\"slug\",\"in\":\"path\",\"required\":true,"
	           "\"description\":\"article slug\","
	           "\"schema\":{\"type\":\"string\",\"minLength\":1,"
	           "\"description\":\"article slug\"}}");
	oa_json_eq(OA_COMMENT "/parameters/1",
	           "{\"name\":\"id\",\"in\":\"path\",\"required\":true,"
	           "\"schema\":{\"type\":\"integer\",\"format\":\"int64\"}}");
}

Test(openapi, query_and_header_parameters_come_from_the_spec)
{
	json_t *params = oa_at(oa_doc, OA_COMMENT "/parameters");
	cr_assert_eq(json_array_size(params), 5);
	oa_json_eq(OA_COMMENT "/parameters/2",
	           "{\"name\":\"limit\",\"in\":\"query\",\"required\":false,"
	           "\"schema\":{\"type\":\"integer\",\"format\":\"int64\","
	           "\"minimum\":1,\"maximum\":100,\"default\":20}}");
	cr_assert_str_eq(oa_str(OA_COMMENT "/parameters/3/description"),
	                 "filter");
	cr_assert_str_eq(oa_str(OA_COMMENT "/parameters/4/in"), "header");
	cr_assert_str_eq(oa_str(OA_COMMENT "/parameters/4/name"),
	                 "Accept-Language");
	cr_assert(json_is_true(
	        oa_at(oa_doc, OA_COMMENT "/parameters/4/required")));
}

Test(openapi, request_body_schema_with_wrapper_and_component)
{
	oa_json_eq("paths/~1api~1users/post/requestBody",
	           "{\"required\":true,\"content\":{\"application/json\":"
	           "{\"schema\":{\"type\":\"object\",\"required\":[\"user\"],"
	           "\"properties\":{\"user\":{\"$ref\":"
	           "\"#/components/schemas/NewUser\"}}}}}}");
	oa_json_eq("components/schemas/NewUser",
	           "{\"type\":\"object\",\"properties\":{"
	           "\"username\":{\"type\":\"string\",\"maxLength\":32,"
	           "\"pattern\":\"^[A-Za-z0-9_]+$\",\"description\":\"public "
	           "name\",\"examples\":[\"jake\"]},"
	           "\"email\":{\"type\":\"string\",\"format\":\"email\"},"
	           "\"password\":{\"type\":\"string\",\"minLength\":8,"
	           "\"pattern\":\"\\\\S\"}},"
	           "\"required\":[\"username\",\"email\",\"password\"]}");
}

Test(openapi, inline_schema_rules_nullable_nested_arrays)
{
	const char *s = "paths/~1api~1user/put/requestBody/content/"
	                "application~1json/schema";
	char p[512];
	snprintf(p, sizeof(p), "%s/additionalProperties", s);
	cr_assert(json_is_false(oa_at(oa_doc, p)));
	snprintf(p, sizeof(p), "%s/properties/user/additionalProperties", s);
	cr_assert(json_is_false(oa_at(oa_doc, p)));
	snprintf(p, sizeof(p), "%s/properties/user/properties", s);
	json_t *props = oa_at(oa_doc, p);
	cr_assert_eq(json_object_size(props), 6);
	snprintf(p, sizeof(p), "%s/properties/user/properties/image", s);
	oa_json_eq(p, "{\"type\":[\"string\",\"null\"],\"format\":\"uri\"}");
	snprintf(p, sizeof(p), "%s/properties/user/properties/kind", s);
	oa_json_eq(p, "{\"type\":[\"string\",\"null\"],"
	              "\"enum\":[\"a\",\"b\",null]}");
	snprintf(p, sizeof(p), "%s/properties/user/properties/tags", s);
	oa_json_eq(p, "{\"type\":\"array\",\"items\":{\"type\":\"string\","
	              "\"maxLength\":10},\"minItems\":1,\"maxItems\":5,"
	              "\"examples\":[[\"x\",\"y\"]]}");
	snprintf(p, sizeof(p), "%s/properties/user/properties/weight", s);
	oa_json_eq(p, "{\"type\":\"number\",\"format\":\"double\","
	              "\"minimum\":0.5,\"maximum\":2.5}");
	snprintf(p, sizeof(p), "%s/properties/user/properties/pos", s);
	oa_json_eq(p, "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"
	              "\"integer\",\"format\":\"int64\",\"minimum\":0},"
	              "\"y\":{\"type\":\"integer\",\"format\":\"int64\"}},"
	              "\"required\":[\"x\"]}");
	snprintf(p, sizeof(p), "%s/properties/user/required", s);
	cr_assert_null(oa_at(oa_doc, p));
}

Test(openapi, responses_declared_and_automatic)
{
	oa_json_eq("paths/~1api~1users/post/responses/201",
	           "{\"description\":\"Created\",\"content\":{"
	           "\"application/json\":{\"schema\":{\"type\":\"object\","
	           "\"required\":[\"user\"],\"properties\":{\"user\":{\"$ref\":"
	           "\"#/components/schemas/NewUser\"}}}}}}");
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/responses/409/"
	                        "description"),
	                 "Conflict");
	/* a body or params means a 422 in the default error format */
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/responses/422/content/"
	                        "application~1json/schema/properties/errors/"
	                        "additionalProperties/items/type"),
	                 "string");
	cr_assert_not_null(oa_at(oa_doc, OA_COMMENT "/responses/422"));
	/* nothing declared: a default response */
	oa_json_eq("paths/~1api~1profiles~1{username}/get/responses",
	           "{\"default\":{\"description\":\"Response\"}}");
}

Test(openapi, security_per_operation_and_scheme)
{
	oa_json_eq("paths/~1api~1user/put/security", "[{\"Token\":[]}]");
	oa_json_eq(OA_COMMENT "/security", "[{},{\"Token\":[]}]");
	cr_assert_null(oa_at(oa_doc, "paths/~1api~1users/post/security"));
	oa_json_eq("components/securitySchemes",
	           "{\"Token\":{\"type\":\"apiKey\",\"in\":\"header\","
	           "\"name\":\"Authorization\",\"description\":\"Token "
	           "<jwt>\"}}");
}

Test(openapi, summary_tags_deprecated)
{
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/summary"), "Register");
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/description"),
	                 "Create an account.");
	cr_assert_str_eq(oa_str("paths/~1api~1users/post/tags/0"),
	                 "User and Authentication");
	cr_assert_str_eq(oa_str(OA_COMMENT "/tags/0"), "Articles");
	cr_assert(json_is_true(oa_at(oa_doc, OA_COMMENT "/deprecated")));
	cr_assert_null(oa_at(oa_doc, "paths/~1api~1users/post/deprecated"));
	cr_assert_eq(oa_int(OA_COMMENT "/parameters/2/schema/maximum"), 100);
}

Test(openapi, write_matches_build_and_respects_the_cap)
{
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_openapi_write(&out, &oa_info, oa_routes,
	                                KEEL_COUNTOF(oa_routes)),
	             0);
	json_t *back = json_loads(out.data, 0, NULL);
	cr_assert_not_null(back);
	cr_assert(json_equal(back, oa_doc));
	json_decref(back);
	cr_assert_null(strchr(out.data, '\n'));
	keel_buf_deinit(&out);

	keel_buf_t tiny;
	keel_buf_init(&tiny, 64);
	cr_assert_eq(keel_openapi_write(&tiny, &oa_info, oa_routes,
	                                KEEL_COUNTOF(oa_routes)),
	             KEEL_ELIMIT);
	cr_assert_eq(tiny.len, 0);
	keel_buf_deinit(&tiny);
}

Test(openapi, no_security_no_components)
{
	static const keel_openapi_route_t r[] = {
	        {KEEL_HTTP_GET, "/", "index", NULL},
	};
	int err;
	json_t *d = keel_openapi_build(NULL, r, 1, &err);
	cr_assert_not_null(d);
	cr_assert_null(json_object_get(d, "components"));
	cr_assert_str_eq(json_string_value(oa_at(d, "info/title")), "API");
	cr_assert_str_eq(json_string_value(oa_at(d, "info/version")), "0.0.0");
	json_decref(d);
}

static int oa_build_err(const keel_openapi_route_t *r, size_t n)
{
	int err = 0;
	json_t *d = keel_openapi_build(&oa_info, r, n, &err);
	cr_assert_null(d);
	return err;
}

static const keel_body_spec_t oa_other_new_user = {
        .fields = oa_pos_fields,
        .n = 1,
        .struct_size = sizeof(struct oa_pos),
        .name = "NewUser",
};
static const keel_route_spec_t oa_clash = {.body = &oa_other_new_user};

static const keel_body_spec_t oa_loop;
static const keel_field_t oa_loop_fields[] = {
        {.name = "next", .type = KEEL_T_OBJECT, .object = &oa_loop},
};
static const keel_body_spec_t oa_loop = {KEEL_FIELDS(oa_loop_fields)};
static const keel_route_spec_t oa_loop_route = {.body = &oa_loop};

static const keel_field_t oa_bad_example_field[] = {
        {.name = "n", .type = KEEL_T_INT, .example = "twelve"},
};
static const keel_body_spec_t oa_bad_example = {
        KEEL_FIELDS(oa_bad_example_field)};
static const keel_route_spec_t oa_bad_example_route = {.body = &oa_bad_example};

static const keel_body_spec_t oa_bad_name = {.name = "a/b"};
static const keel_route_spec_t oa_bad_name_route = {.body = &oa_bad_name};

Test(openapi, errors_are_reported)
{
	keel_openapi_route_t r[2] = {
	        {KEEL_HTTP_GET, "/a/{id", "x", NULL},
	};
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0].pattern = "/a/id}";
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0].pattern = "/a/{}";
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0].pattern = "/a/{a{b}";
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0].pattern = NULL;
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0] = (keel_openapi_route_t){KEEL_HTTP_TRACE, "/", "t", NULL};
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0] = (keel_openapi_route_t){KEEL_HTTP_GET, "/x", "a", NULL};
	r[1] = (keel_openapi_route_t){KEEL_HTTP_GET, "/x", "b", NULL};
	cr_assert_eq(oa_build_err(r, 2), KEEL_EEXIST);
	r[0] = (keel_openapi_route_t){KEEL_HTTP_POST, "/u", "a", &oa_register};
	r[1] = (keel_openapi_route_t){KEEL_HTTP_POST, "/v", "b", &oa_clash};
	cr_assert_eq(oa_build_err(r, 2), KEEL_EEXIST);
	r[0] = (keel_openapi_route_t){KEEL_HTTP_POST, "/l", "l",
	                              &oa_loop_route};
	cr_assert_eq(oa_build_err(r, 1), KEEL_ELIMIT);
	r[0].spec = &oa_bad_example_route;
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	r[0].spec = &oa_bad_name_route;
	cr_assert_eq(oa_build_err(r, 1), KEEL_EINVAL);
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_openapi_write(&out, NULL, r, 1), KEEL_EINVAL);
	cr_assert_eq(out.len, 0);
	keel_buf_deinit(&out);
}

typedef struct oa_node {
	keel_str_t name;
	KEEL_ARRAY(struct oa_node) kids;
} oa_node_t;

static const keel_body_spec_t oa_node;
static const keel_field_t oa_node_item = {
        .type = KEEL_T_OBJECT, .object = &oa_node, .nullable = true};
static const keel_field_t oa_node_fields[] = {
        {.name = "name",
         .type = KEEL_T_STRING,
         .offset = offsetof(oa_node_t, name)},
        {.name = "kids",
         .type = KEEL_T_ARRAY,
         .items = &oa_node_item,
         .offset = offsetof(oa_node_t, kids)},
};
static const keel_body_spec_t oa_node = {
        KEEL_FIELDS(oa_node_fields),
        .struct_size = sizeof(oa_node_t),
        .name = "Node",
        .description = "a tree",
};
static const keel_route_spec_t oa_tree = {.body = &oa_node};

Test(openapi, named_spec_may_refer_to_itself)
{
	static const keel_openapi_route_t r[] = {
	        {KEEL_HTTP_POST, "/tree", "tree", &oa_tree},
	        {KEEL_HTTP_PUT, "/tree", "tree_put", &oa_tree},
	};
	int err;
	json_t *d = keel_openapi_build(NULL, r, 2, &err);
	cr_assert_not_null(d, "%d", err);
	json_t *want = json_loads(
	        "{\"type\":\"object\",\"description\":\"a tree\","
	        "\"properties\":{\"name\":{\"type\":\"string\"},\"kids\":{"
	        "\"type\":\"array\",\"items\":{\"anyOf\":[{\"$ref\":"
	        "\"#/components/schemas/Node\"},{\"type\":\"null\"}]}}}}",
	        0, NULL);
	cr_assert(json_equal(oa_at(d, "components/schemas/Node"), want));
	cr_assert_eq(json_object_size(oa_at(d, "components/schemas")), 1);
	cr_assert_str_eq(
	        json_string_value(oa_at(d, "paths/~1tree/put/requestBody/"
	                                   "content/application~1json/schema/"
	                                   "$ref")),
	        "#/components/schemas/Node");
	json_decref(want);
	json_decref(d);
}

static int oa_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req, (void)res, (void)ud;
	return 204;
}

static int oa_other_handler(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req, (void)res, (void)ud;
	return 204;
}

Test(openapi, whole_app_through_the_route_table)
{
	keel_app_t *app = keel_app_new();
	cr_assert_not_null(app);
	keel_group_t *api = keel_app_group(app, "/api");
	keel_route_t *r = KEEL_POST(api, "/users", oa_handler);
	cr_assert_not_null(r);
	cr_assert_eq(keel_route_spec(r, &oa_register), 0);
	cr_assert_not_null(KEEL_GET(api, "/articles/{slug}/comments/{id:int}",
	                            oa_other_handler));
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_openapi_write_app(&out, &oa_info, app), 0);
	json_t *d = json_loads(out.data, 0, NULL);
	cr_assert_not_null(d);
	cr_assert_str_eq(json_string_value(oa_at(d, "paths/~1api~1users/post/"
	                                            "operationId")),
	                 "oa_handler");
	cr_assert_str_eq(json_string_value(oa_at(
	                         d, "paths/~1api~1articles~1{slug}~1comments~1"
	                            "{id}/get/parameters/1/schema/type")),
	                 "integer");
	cr_assert_not_null(oa_at(d, "components/schemas/NewUser"));
	json_decref(d);
	keel_buf_deinit(&out);
	keel_app_free(app);
}
