/*
 * Declared validation: every rule of keel_validate_body and
 * keel_validate_params_from, the filled structs, the error list and its
 * 422 rendering, the spec checker, and the request-level entry points on a
 * hand-built request.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "http/conn.h"
#include "keel/res.h"
#include "keel/validate.h"

/* ------------------------------------------------------------ the specs */

typedef struct vt_item {
	keel_str_t sku;
	int64_t qty;
} vt_item_t;

typedef struct vt_profile {
	keel_str_t bio;
	KEEL_ARRAY(keel_str_t) links;
} vt_profile_t;

typedef struct vt_user {
	keel_str_t username;
	keel_str_t email;
	keel_str_t handle;
	keel_str_t image;
	keel_presence_t image_state;
	keel_str_t site;
	keel_str_t born;
	keel_str_t note;
	int64_t age;
	keel_presence_t age_state;
	int64_t level;
	double score;
	bool admin;
	int role;
	vt_profile_t profile;
	KEEL_ARRAY(keel_str_t) tags;
	KEEL_ARRAY(vt_item_t) items;
	KEEL_ARRAY(int64_t) nums;
} vt_user_t;

static const char *const vt_roles[] = {"reader", "author", "admin", NULL};

static const keel_field_t vt_link = {.type = KEEL_T_STRING,
                                     .format = KEEL_FMT_URI};

static const keel_field_t vt_profile_fields[] = {
        {.name = "bio",
         .type = KEEL_T_STRING,
         .max_len = 5,
         .offset = offsetof(vt_profile_t, bio)},
        {.name = "links",
         .type = KEEL_T_ARRAY,
         .items = &vt_link,
         .offset = offsetof(vt_profile_t, links)},
};

static const keel_body_spec_t vt_profile_spec = {
        KEEL_FIELDS(vt_profile_fields),
        .struct_size = sizeof(vt_profile_t),
        .unknown = KEEL_UNKNOWN_REJECT,
};

static const keel_field_t vt_item_fields[] = {
        {.name = "sku",
         .type = KEEL_T_STRING,
         .required = true,
         .offset = offsetof(vt_item_t, sku)},
        {.name = "qty",
         .type = KEEL_T_INT,
         KEEL_MIN(1),
         .offset = offsetof(vt_item_t, qty)},
};

static const keel_body_spec_t vt_item_spec = {
        KEEL_FIELDS(vt_item_fields),
        .struct_size = sizeof(vt_item_t),
};

static const keel_field_t vt_tag = {.type = KEEL_T_STRING, .min_len = 1};
static const keel_field_t vt_item = {.type = KEEL_T_OBJECT,
                                     .object = &vt_item_spec};
static const keel_field_t vt_num = {.type = KEEL_T_INT, KEEL_RANGE(0, 9)};

#define VT_OFF(m) .offset = offsetof(vt_user_t, m)

static const keel_field_t vt_user_fields[] = {
        {.name = "username",
         .type = KEEL_T_STRING,
         .required = true,
         .not_blank = true,
         .min_len = 2,
         .max_len = 8,
         VT_OFF(username)},
        {.name = "email",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_EMAIL,
         VT_OFF(email)},
        {.name = "handle",
         .type = KEEL_T_STRING,
         .pattern = "^[a-z0-9_]+$",
         VT_OFF(handle)},
        {.name = "image",
         .type = KEEL_T_STRING,
         .nullable = true,
         .presence = KEEL_PRESENCE(vt_user_t, image_state),
         VT_OFF(image)},
        {.name = "site",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_URI,
         VT_OFF(site)},
        {.name = "born",
         .type = KEEL_T_STRING,
         .format = KEEL_FMT_DATE_TIME,
         VT_OFF(born)},
        {.name = "note", .type = KEEL_T_STRING, .def = "none", VT_OFF(note)},
        {.name = "age",
         .type = KEEL_T_INT,
         KEEL_RANGE(13, 130),
         .presence = KEEL_PRESENCE(vt_user_t, age_state),
         VT_OFF(age)},
        {.name = "level", .type = KEEL_T_INT, .def = "3", VT_OFF(level)},
        {.name = "score",
         .type = KEEL_T_NUMBER,
         KEEL_RANGE(0, 1),
         VT_OFF(score)},
        {.name = "admin", .type = KEEL_T_BOOL, VT_OFF(admin)},
        {.name = "role",
         .type = KEEL_T_ENUM,
         .enum_values = vt_roles,
         VT_OFF(role)},
        {.name = "profile",
         .type = KEEL_T_OBJECT,
         .object = &vt_profile_spec,
         VT_OFF(profile)},
        {.name = "tags",
         .type = KEEL_T_ARRAY,
         .items = &vt_tag,
         .max_len = 3,
         VT_OFF(tags)},
        {.name = "items",
         .type = KEEL_T_ARRAY,
         .items = &vt_item,
         VT_OFF(items)},
        {.name = "nums",
         .type = KEEL_T_ARRAY,
         .items = &vt_num,
         .min_len = 1,
         VT_OFF(nums)},
};

static const keel_body_spec_t vt_user_spec = {
        KEEL_FIELDS(vt_user_fields),
        .struct_size = sizeof(vt_user_t),
        .wrapper = "user",
};

static keel_body_spec_t vt_strict_spec(void)
{
	keel_body_spec_t s = vt_user_spec;
	s.unknown = KEEL_UNKNOWN_REJECT;
	return s;
}

/* ------------------------------------------------------------ harness */

static keel_arena_t vt_arena;
static keel_verrors_t vt_errs;
static vt_user_t vt_out;

static void vt_setup(void)
{
	keel_arena_init(&vt_arena, 0, 0);
	keel_verrors_init(&vt_errs, &vt_arena);
}

static void vt_teardown(void)
{
	keel_arena_deinit(&vt_arena);
	keel_validate_cache_clear();
}

TestSuite(validate, .init = vt_setup, .fini = vt_teardown);

static json_t *vt_json(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	cr_assert_not_null(v, "bad test JSON: %s: %s", text, e.text);
	return v;
}

/* Validate `user_members` (the inside of {"user": {...}}) plus the
 * required username, with `spec`. */
static int vt_run_spec(const keel_body_spec_t *spec, const char *members)
{
	char text[4096];
	snprintf(text, sizeof(text), "{\"user\": {\"username\": \"jake\"%s%s}}",
	         *members ? ", " : "", members);
	json_t *root = vt_json(text);
	int rc = keel_validate_body(spec, root, &vt_out, &vt_arena, &vt_errs);
	json_decref(root);
	return rc;
}

static int vt_run(const char *members)
{
	return vt_run_spec(&vt_user_spec, members);
}

/* The message recorded for `path`, or NULL. */
static const char *vt_msg(const char *path)
{
	for (size_t i = 0; i < vt_errs.count; i++)
		if (strcmp(vt_errs.items[i].path, path) == 0)
			return vt_errs.items[i].message;
	return NULL;
}

static void vt_expect(const char *members, const char *path, const char *msg)
{
	keel_verrors_init(&vt_errs, &vt_arena);
	int rc = vt_run(members);
	cr_assert_eq(rc, KEEL_EINVAL, "%s: rc %d", members, rc);
	cr_assert_str_eq(vt_msg(path) ? vt_msg(path) : "(none)", msg,
	                 "%s: at %s", members, path);
}

static void vt_accept(const char *members)
{
	keel_verrors_init(&vt_errs, &vt_arena);
	int rc = vt_run(members);
	cr_assert_eq(rc, 0, "%s: rc %d, first error %s: %s", members, rc,
	             vt_errs.count ? vt_errs.items[0].path : "-",
	             vt_errs.count ? vt_errs.items[0].message : "-");
}

static bool vt_str_is(keel_str_t s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0 &&
	       s.ptr[s.len] == '\0';
}

/* ------------------------------------------------------------ body */

Test(validate, filled_struct_holds_every_value)
{
	vt_accept(
	        "\"email\": \"jake@jake.jake\", \"handle\": \"jake_1\","
	        "\"image\": \"https://x.org/a.png\", \"age\": 30,"
	        "\"score\": 0.5, \"admin\": true, \"role\": \"admin\","
	        "\"profile\": {\"bio\": \"hi\", \"links\": [\"http://a.b\"]},"
	        "\"tags\": [\"a\", \"bc\"],"
	        "\"items\": [{\"sku\": \"k1\", \"qty\": 2}, {\"sku\": \"k2\"}],"
	        "\"nums\": [0, 9]");
	cr_assert(vt_str_is(vt_out.username, "jake"));
	cr_assert(vt_str_is(vt_out.email, "jake@jake.jake"));
	cr_assert(vt_str_is(vt_out.image, "https://x.org/a.png"));
	cr_assert_eq(vt_out.image_state, KEEL_SET);
	cr_assert_eq(vt_out.age, 30);
	cr_assert_eq(vt_out.age_state, KEEL_SET);
	cr_assert_float_eq(vt_out.score, 0.5, 1e-12);
	cr_assert(vt_out.admin);
	cr_assert_eq(vt_out.role, 2);
	cr_assert(vt_str_is(vt_out.profile.bio, "hi"));
	cr_assert_eq(vt_out.profile.links.count, 1);
	cr_assert(vt_str_is(vt_out.profile.links.items[0], "http://a.b"));
	cr_assert_eq(vt_out.tags.count, 2);
	cr_assert(vt_str_is(vt_out.tags.items[1], "bc"));
	cr_assert_eq(vt_out.items.count, 2);
	cr_assert(vt_str_is(vt_out.items.items[1].sku, "k2"));
	cr_assert_eq(vt_out.items.items[0].qty, 2);
	cr_assert_eq(vt_out.items.items[1].qty, 0);
	cr_assert_eq(vt_out.nums.count, 2);
	cr_assert_eq(vt_out.nums.items[1], 9);
	cr_assert_eq(vt_errs.count, 0);
}

Test(validate, absent_optional_fields_are_zero_or_default)
{
	memset(&vt_out, 0xAB, sizeof(vt_out));
	vt_accept("");
	cr_assert_eq(vt_out.email.ptr, NULL);
	cr_assert_eq(vt_out.email.len, 0);
	cr_assert_eq(vt_out.image_state, KEEL_ABSENT);
	cr_assert_eq(vt_out.age_state, KEEL_ABSENT);
	cr_assert_eq(vt_out.age, 0);
	cr_assert_eq(vt_out.admin, false);
	cr_assert_eq(vt_out.tags.count, 0);
	cr_assert_eq(vt_out.tags.items, NULL);
	cr_assert(vt_str_is(vt_out.note, "none"));
	cr_assert_eq(vt_out.level, 3);
	/* a sent value wins over the default */
	vt_accept("\"level\": 7, \"note\": \"n\"");
	cr_assert_eq(vt_out.level, 7);
	cr_assert(vt_str_is(vt_out.note, "n"));
}

Test(validate, required_field_missing_or_null_is_blank)
{
	json_t *root = vt_json("{\"user\": {\"email\": \"a@b.cd\"}}");
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_eq(vt_errs.count, 1);
	cr_assert_str_eq(vt_errs.items[0].path, "username");
	cr_assert_str_eq(vt_errs.items[0].message, "can't be blank");

	keel_verrors_init(&vt_errs, &vt_arena);
	root = vt_json("{\"user\": {\"username\": null}}");
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_str_eq(vt_msg("username"), "can't be blank");
}

Test(validate, wrong_type_for_each_type)
{
	vt_expect("\"email\": 5", "email", "must be a string");
	vt_expect("\"email\": [\"a@b.cd\"]", "email", "must be a string");
	vt_expect("\"age\": \"30\"", "age", "must be an integer");
	vt_expect("\"age\": 30.0", "age", "must be an integer");
	vt_expect("\"age\": true", "age", "must be an integer");
	vt_expect("\"score\": \"0.5\"", "score", "must be a number");
	vt_expect("\"admin\": 1", "admin", "must be a boolean");
	vt_expect("\"admin\": \"true\"", "admin", "must be a boolean");
	vt_expect("\"role\": 2", "role", "must be a string");
	vt_expect("\"profile\": []", "profile", "must be an object");
	vt_expect("\"profile\": \"x\"", "profile", "must be an object");
	vt_expect("\"tags\": {}", "tags", "must be an array");
	vt_expect("\"tags\": \"a\"", "tags", "must be an array");
	/* an integer is a fine number */
	vt_accept("\"score\": 1");
	cr_assert_float_eq(vt_out.score, 1.0, 0);
}

Test(validate, null_against_nullable)
{
	vt_accept("\"image\": null");
	cr_assert_eq(vt_out.image_state, KEEL_NULL);
	cr_assert_eq(vt_out.image.ptr, NULL);
	vt_expect("\"age\": null", "age", "can't be null");
	vt_expect("\"profile\": null", "profile", "can't be null");
	vt_expect("\"tags\": [\"a\", null]", "tags[1]", "can't be null");
}

Test(validate, number_bounds_are_inclusive)
{
	vt_expect("\"age\": 12", "age", "must be greater than or equal to 13");
	vt_accept("\"age\": 13");
	vt_accept("\"age\": 130");
	vt_expect("\"age\": 131", "age", "must be less than or equal to 130");
	vt_expect("\"age\": -9223372036854775807", "age",
	          "must be greater than or equal to 13");
	vt_accept("\"score\": 0");
	vt_accept("\"score\": 1.0");
	vt_expect("\"score\": 1.0000001", "score",
	          "must be less than or equal to 1");
	vt_expect("\"score\": -1e-300", "score",
	          "must be greater than or equal to 0");
}

Test(validate, string_length_counts_code_points)
{
	/* 8 code points, 16 bytes: at the limit */
	vt_accept("\"username\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"");
	cr_assert_eq(vt_out.username.len, 16);
	/* 4-byte emoji count once each */
	vt_accept("\"username\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"");
	vt_expect("\"username\": \"abcdefghi\"", "username",
	          "is too long (maximum is 8 characters)");
	vt_expect("\"username\": \"\xc3\xa9\"", "username",
	          "is too short (minimum is 2 characters)");
	vt_expect("\"username\": \"   \"", "username", "can't be blank");
	vt_expect("\"username\": \"\"", "username", "can't be blank");
	vt_expect("\"profile\": {\"bio\": \"123456\"}", "profile.bio",
	          "is too long (maximum is 5 characters)");
	vt_expect("\"tags\": [\"\"]", "tags[0]",
	          "is too short (minimum is 1 character)");
}

Test(validate, embedded_nul_is_invalid)
{
	json_t *root = vt_json("{\"user\": {}}");
	json_t *user = json_object_get(root, "user");
	json_object_set_new(user, "username", json_stringn("ja\0ke", 5));
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_str_eq(vt_msg("username"), "is invalid");
}

Test(validate, pattern_is_checked_and_cached)
{
	vt_accept("\"handle\": \"jake_99\"");
	vt_expect("\"handle\": \"Jake\"", "handle", "is invalid");
	vt_expect("\"handle\": \"ja ke\"", "handle", "is invalid");
	vt_accept("\"handle\": \"x\"");
	cr_assert(vt_str_is(vt_out.handle, "x"));
}

Test(validate, enum_gives_index)
{
	vt_accept("\"role\": \"reader\"");
	cr_assert_eq(vt_out.role, 0);
	vt_accept("\"role\": \"author\"");
	cr_assert_eq(vt_out.role, 1);
	vt_expect("\"role\": \"root\"", "role", "is not included in the list");
	vt_expect("\"role\": \"Reader\"", "role",
	          "is not included in the list");
	vt_expect("\"role\": \"reade\"", "role", "is not included in the list");
}

Test(validate, formats_email_uri_date_time)
{
	vt_accept("\"email\": \"a.b+c@example.org\"");
	vt_expect("\"email\": \"a@b\"", "email", "is invalid");
	vt_expect("\"email\": \"not an email\"", "email", "is invalid");
	vt_accept("\"site\": \"https://example.org/x?y=1\"");
	vt_accept("\"site\": \"mailto:a@b.cd\"");
	vt_expect("\"site\": \"example.org\"", "site", "is invalid");
	vt_expect("\"site\": \"http://a b\"", "site", "is invalid");
	vt_expect("\"site\": \"1http://x\"", "site", "is invalid");
	vt_expect("\"site\": \"http:\"", "site", "is invalid");
	vt_accept("\"born\": \"2024-02-29T13:05:00Z\"");
	vt_accept("\"born\": \"1999-12-31t23:59:60.123+01:30\"");
	vt_expect("\"born\": \"2023-02-29T13:05:00Z\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-13-01T00:00:00Z\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-01-01 00:00:00Z\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-01-01T00:00:00\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-01-01T00:00:00.Z\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-01-01T24:00:00Z\"", "born", "is invalid");
	vt_expect("\"born\": \"2024-01-01T00:00:00Zx\"", "born", "is invalid");
}

Test(validate, nested_errors_carry_paths)
{
	vt_expect("\"profile\": {\"links\": [\"http://a.b\", \"nope\"]}",
	          "profile.links[1]", "is invalid");
	vt_expect("\"items\": [{\"sku\": \"a\"}, {\"qty\": 1}]", "items[1].sku",
	          "can't be blank");
	vt_expect("\"items\": [{\"sku\": \"a\", \"qty\": 0}]", "items[0].qty",
	          "must be greater than or equal to 1");
	vt_expect("\"items\": [5]", "items[0]", "must be an object");
	vt_expect("\"nums\": [1, \"2\"]", "nums[1]", "must be an integer");
	vt_expect("\"nums\": [1, 10]", "nums[1]",
	          "must be less than or equal to 9");
}

Test(validate, array_length_limits)
{
	vt_expect("\"tags\": [\"a\", \"b\", \"c\", \"d\"]", "tags",
	          "is too long (maximum is 3 items)");
	vt_accept("\"tags\": [\"a\", \"b\", \"c\"]");
	vt_expect("\"nums\": []", "nums", "is too short (minimum is 1 item)");
	vt_accept("\"tags\": []");
	cr_assert_eq(vt_out.tags.count, 0);
}

Test(validate, every_error_is_collected)
{
	json_t *root = vt_json("{\"user\": {\"username\": \"x\", \"age\": 1,"
	                       "\"email\": \"bad\", \"tags\": [1, 2]}}");
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_eq(vt_errs.count, 5);
	cr_assert_str_eq(vt_errs.items[0].path, "username");
	cr_assert_str_eq(vt_errs.items[1].path, "email");
	cr_assert_str_eq(vt_errs.items[2].path, "age");
	cr_assert_str_eq(vt_errs.items[3].path, "tags[0]");
	cr_assert_str_eq(vt_errs.items[4].path, "tags[1]");
}

Test(validate, unknown_fields_policy)
{
	vt_accept("\"whatever\": 1, \"profile\": {\"bio\": \"a\"}");
	/* the profile spec rejects even when the outer one ignores */
	vt_expect("\"profile\": {\"bio\": \"a\", \"x\": 1}", "profile.x",
	          "is not allowed");
	keel_body_spec_t strict = vt_strict_spec();
	keel_verrors_init(&vt_errs, &vt_arena);
	cr_assert_eq(vt_run_spec(&strict, "\"whatever\": 1"), KEEL_EINVAL);
	cr_assert_str_eq(vt_msg("whatever"), "is not allowed");
	/* keys next to the wrapper count too */
	keel_verrors_init(&vt_errs, &vt_arena);
	json_t *root =
	        vt_json("{\"user\": {\"username\": \"jake\"}, \"x\": 1}");
	cr_assert_eq(
	        keel_validate_body(&strict, root, &vt_out, &vt_arena, &vt_errs),
	        KEEL_EINVAL);
	cr_assert_str_eq(vt_msg("x"), "is not allowed");
	keel_verrors_init(&vt_errs, &vt_arena);
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             0);
	json_decref(root);
}

static void vt_root_error(const char *text, const char *path, const char *msg)
{
	keel_verrors_init(&vt_errs, &vt_arena);
	json_t *root = text ? vt_json(text) : NULL;
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL, "%s", text ? text : "NULL");
	json_decref(root);
	cr_assert_eq(vt_errs.count, 1, "%s", text ? text : "NULL");
	cr_assert_str_eq(vt_errs.items[0].path, path);
	cr_assert_str_eq(vt_errs.items[0].message, msg);
}

Test(validate, wrapper_missing_or_wrong_type)
{
	vt_root_error("{\"username\": \"jake\"}", "user", "can't be blank");
	vt_root_error("{\"user\": null}", "user", "must be an object");
	vt_root_error("{\"user\": [\"jake\"]}", "user", "must be an object");
	vt_root_error("{\"user\": \"jake\"}", "user", "must be an object");
	vt_root_error("[{\"user\": {}}]", "body", "must be an object");
	vt_root_error("\"user\"", "body", "must be an object");
	vt_root_error(NULL, "body", "can't be blank");
}

Test(validate, spec_without_wrapper_reads_the_root)
{
	keel_body_spec_t plain = vt_user_spec;
	plain.wrapper = NULL;
	json_t *root = vt_json("{\"username\": \"jake\", \"age\": 20}");
	cr_assert_eq(
	        keel_validate_body(&plain, root, &vt_out, &vt_arena, &vt_errs),
	        0);
	json_decref(root);
	cr_assert_eq(vt_out.age, 20);
}

Test(validate, error_list_is_capped)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text),
	                            "{\"user\": {\"username\": \"jake\", "
	                            "\"items\": [");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s1",
		                      i ? "," : "");
	snprintf(text + n, sizeof(text) - n, "]}}");
	json_t *root = vt_json(text);
	cr_assert_eq(keel_validate_body(&vt_user_spec, root, &vt_out, &vt_arena,
	                                &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_eq(vt_errs.count, KEEL_VERRORS_MAX);
	cr_assert(vt_errs.truncated);
	cr_assert_eq(keel_verrors_add(&vt_errs, "x", "y"), KEEL_ELIMIT);
}

Test(validate, long_unknown_key_path_is_cut_on_a_code_point)
{
	char key[600];
	size_t n = 0;
	for (int i = 0; i < 150; i++) {
		memcpy(key + n, "\xe2\x82\xac", 3); /* the euro sign */
		n += 3;
	}
	key[n] = '\0';
	keel_body_spec_t strict = vt_strict_spec();
	json_t *root = vt_json("{\"user\": {\"username\": \"jake\"}}");
	json_object_set_new(json_object_get(root, "user"), key, json_true());
	cr_assert_eq(
	        keel_validate_body(&strict, root, &vt_out, &vt_arena, &vt_errs),
	        KEEL_EINVAL);
	json_decref(root);
	const char *path = vt_errs.items[0].path;
	cr_assert_leq(strlen(path), KEEL_VPATH_MAX);
	cr_assert_eq(strlen(path) % 3, 0);
	cr_assert_gt(strlen(path), KEEL_VPATH_MAX - 3);
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_verrors_write_json(&vt_errs, &out), 0);
	keel_buf_deinit(&out);
}

Test(validate, arena_cap_gives_enomem)
{
	keel_arena_t small;
	keel_verrors_t errs;
	keel_arena_init(&small, 1024, 2048);
	keel_verrors_init(&errs, &small);
	char text[40000];
	size_t n = (size_t)snprintf(text, sizeof(text),
	                            "{\"user\": {\"username\": \"jake\", "
	                            "\"items\": [");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "%s{\"sku\": \"k\"}", i ? "," : "");
	snprintf(text + n, sizeof(text) - n, "]}}");
	json_t *root = vt_json(text);
	cr_assert_eq(
	        keel_validate_body(&vt_user_spec, root, &vt_out, &small, &errs),
	        KEEL_ENOMEM);
	json_decref(root);
	keel_arena_deinit(&small);
}

/* ------------------------------------------------------------ recursion */

typedef struct vt_node {
	keel_str_t name;
	KEEL_ARRAY(struct vt_node) kids;
} vt_node_t;

static const keel_body_spec_t vt_node_spec;
static const keel_field_t vt_node_item = {.type = KEEL_T_OBJECT,
                                          .object = &vt_node_spec};
static const keel_field_t vt_node_fields[] = {
        {.name = "name",
         .type = KEEL_T_STRING,
         .required = true,
         .offset = offsetof(vt_node_t, name)},
        {.name = "kids",
         .type = KEEL_T_ARRAY,
         .items = &vt_node_item,
         .offset = offsetof(vt_node_t, kids)},
};
static const keel_body_spec_t vt_node_spec = {
        KEEL_FIELDS(vt_node_fields),
        .struct_size = sizeof(vt_node_t),
        .name = "Node",
};

Test(validate, recursive_spec_walks_the_input_and_stops_deep)
{
	vt_node_t root_node;
	json_t *root = vt_json("{\"name\": \"a\", \"kids\": [{\"name\": \"b\","
	                       "\"kids\": [{\"name\": \"c\"}]}, {}]}");
	cr_assert_eq(keel_validate_body(&vt_node_spec, root, &root_node,
	                                &vt_arena, &vt_errs),
	             KEEL_EINVAL);
	json_decref(root);
	cr_assert_eq(vt_errs.count, 1);
	cr_assert_str_eq(vt_errs.items[0].path, "kids[1].name");
	cr_assert(vt_str_is(root_node.kids.items[0].kids.items[0].name, "c"));

	/* 100 levels: stops at the depth bound instead of recursing on */
	json_t *deep = json_pack("{s:s}", "name", "leaf");
	for (int i = 0; i < 100; i++)
		deep = json_pack("{s:s,s:[o]}", "name", "n", "kids", deep);
	keel_verrors_init(&vt_errs, &vt_arena);
	cr_assert_eq(keel_validate_body(&vt_node_spec, deep, &root_node,
	                                &vt_arena, &vt_errs),
	             KEEL_EINVAL);
	json_decref(deep);
	cr_assert_str_eq(vt_errs.items[0].message, "is nested too deeply");
}

/* ------------------------------------------------------------ errors */

Test(validate, errors_render_in_realworld_format)
{
	keel_verrors_add(&vt_errs, "email", "is invalid");
	keel_verrors_add(&vt_errs, "username", "can't be blank");
	keel_verrors_add(&vt_errs, "email", "has already been taken");
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_verrors_write_json(&vt_errs, &out), 0);
	cr_assert_str_eq(out.data,
	                 "{\"errors\":{\"email\":[\"is invalid\",\"has "
	                 "already been taken\"],\"username\":[\"can't be "
	                 "blank\"]}}");
	keel_buf_deinit(&out);
}

Test(validate, empty_error_list_renders_empty_object)
{
	keel_buf_t out;
	keel_buf_init(&out, 0);
	cr_assert_eq(keel_verrors_write_json(&vt_errs, &out), 0);
	cr_assert_str_eq(out.data, "{\"errors\":{}}");
	keel_buf_deinit(&out);
}

Test(validate, invalid_utf8_error_text_is_refused_whole)
{
	keel_verrors_add(&vt_errs, "ok", "fine");
	keel_verrors_add(&vt_errs, "bad\xff", "x");
	keel_buf_t out;
	keel_buf_init(&out, 0);
	keel_buf_append(&out, "keep", 4);
	cr_assert_eq(keel_verrors_write_json(&vt_errs, &out), KEEL_EINVAL);
	cr_assert_str_eq(out.data, "keep");
	/* and a capped buffer refuses without a partial write */
	keel_verrors_init(&vt_errs, &vt_arena);
	keel_verrors_add(&vt_errs, "ok", "fine");
	keel_buf_t tiny;
	keel_buf_init(&tiny, 8);
	cr_assert_eq(keel_verrors_write_json(&vt_errs, &tiny), KEEL_ELIMIT);
	cr_assert_eq(tiny.len, 0);
	keel_buf_deinit(&out);
	keel_buf_deinit(&tiny);
}

static void vt_res_init(keel_res_t *res)
{
	*res = (keel_res_t){.status = 200, .file_fd = -1};
	keel_buf_init(&res->headers, 0);
	keel_buf_init(&res->body, 0);
}

static void vt_res_deinit(keel_res_t *res)
{
	keel_buf_deinit(&res->headers);
	keel_buf_deinit(&res->body);
}

Test(validate, respond_answers_422_with_json)
{
	keel_res_t res;
	vt_res_init(&res);
	keel_res_header(&res, "Content-Type", "text/plain");
	keel_res_body(&res, "old", 3);
	keel_verrors_add(&vt_errs, "email", "is invalid");
	cr_assert_eq(keel_verrors_respond(&res, &vt_errs, NULL, NULL), 422);
	cr_assert_eq(keel_res_get_status(&res), 422);
	cr_assert_str_eq(res.body.data,
	                 "{\"errors\":{\"email\":[\"is invalid\"]}}");
	keel_str_t ct;
	cr_assert_eq(keel_res_header_get(&res, "Content-Type", &ct), 0);
	/* (prefix: the getter currently leaves the line's CRLF on) */
	cr_assert(keel_str_has_prefix(ct, KEEL_STR("application/json")));
	cr_assert_eq(keel_res_header_remove(&res, "Content-Type"), 1);
	vt_res_deinit(&res);
}

static int vt_fastapi_format(const keel_verrors_t *errs, keel_buf_t *out,
                             void *ud)
{
	cr_assert_str_eq(ud, "ctx");
	keel_buf_appendf(out, "{\"detail\":%zu}", errs->count);
	return 0;
}

static int vt_failing_format(const keel_verrors_t *errs, keel_buf_t *out,
                             void *ud)
{
	(void)errs, (void)out, (void)ud;
	return KEEL_ENOMEM;
}

Test(validate, respond_format_is_pluggable)
{
	keel_res_t res;
	vt_res_init(&res);
	keel_verrors_add(&vt_errs, "a", "b");
	cr_assert_eq(
	        keel_verrors_respond(&res, &vt_errs, vt_fastapi_format, "ctx"),
	        422);
	cr_assert_str_eq(res.body.data, "{\"detail\":1}");
	/* process-wide choice, then back to the default */
	keel_verrors_set_format(vt_fastapi_format, "ctx");
	cr_assert_eq(keel_verrors_respond(&res, &vt_errs, NULL, NULL), 422);
	cr_assert_str_eq(res.body.data, "{\"detail\":1}");
	keel_verrors_set_format(NULL, NULL);
	cr_assert_eq(keel_verrors_respond(&res, &vt_errs, NULL, NULL), 422);
	cr_assert_str_eq(res.body.data, "{\"errors\":{\"a\":[\"b\"]}}");
	/* a formatter that fails turns into a 500 */
	cr_assert_eq(
	        keel_verrors_respond(&res, &vt_errs, vt_failing_format, NULL),
	        500);
	cr_assert_eq(keel_res_get_status(&res), 500);
	vt_res_deinit(&res);
}

/* ------------------------------------------------------------ params */

typedef struct vt_params {
	keel_str_t slug;
	int64_t limit;
	keel_presence_t limit_state;
	int64_t offset;
	double ratio;
	bool full;
	int order;
	keel_str_t token;
} vt_params_t;

static const char *const vt_orders[] = {"asc", "desc", NULL};

static const keel_param_t vt_param_table[] = {
        {KEEL_IN_PATH,
         {.name = "slug",
          .type = KEEL_T_STRING,
          .required = true,
          .pattern = "^[a-z-]+$",
          .offset = offsetof(vt_params_t, slug)}},
        {KEEL_IN_QUERY,
         {.name = "limit",
          .type = KEEL_T_INT,
          KEEL_RANGE(1, 100),
          .def = "20",
          .offset = offsetof(vt_params_t, limit),
          .presence = KEEL_PRESENCE(vt_params_t, limit_state)}},
        {KEEL_IN_QUERY,
         {.name = "offset",
          .type = KEEL_T_INT,
          KEEL_MIN(0),
          .offset = offsetof(vt_params_t, offset)}},
        {KEEL_IN_QUERY,
         {.name = "ratio",
          .type = KEEL_T_NUMBER,
          .offset = offsetof(vt_params_t, ratio)}},
        {KEEL_IN_QUERY,
         {.name = "full",
          .type = KEEL_T_BOOL,
          .offset = offsetof(vt_params_t, full)}},
        {KEEL_IN_QUERY,
         {.name = "order",
          .type = KEEL_T_ENUM,
          .enum_values = vt_orders,
          .def = "desc",
          .offset = offsetof(vt_params_t, order)}},
        {KEEL_IN_HEADER,
         {.name = "X-Token",
          .type = KEEL_T_STRING,
          .required = true,
          .offset = offsetof(vt_params_t, token)}},
};

static const keel_route_spec_t vt_route = {
        .params = vt_param_table,
        .n_params = KEEL_COUNTOF(vt_param_table),
        .params_size = sizeof(vt_params_t),
};

/* A fake source: "in:name=value" entries, NULL-terminated. */
static int vt_get(void *ctx, keel_param_in_t in, const char *name,
                  keel_str_t *value, keel_arena_t *arena)
{
	(void)arena;
	for (const char *const *e = ctx; *e; e++) {
		const char *colon = strchr(*e, ':'), *eq = strchr(*e, '=');
		if (*e[0] - '0' == (int)in &&
		    strlen(name) == (size_t)(eq - colon - 1) &&
		    !memcmp(colon + 1, name, strlen(name))) {
			*value = keel_str_from_cstr(eq + 1);
			return 0;
		}
	}
	return KEEL_ENOENT;
}

static vt_params_t vt_p;

static int vt_params_run(const char *const *src)
{
	keel_verrors_init(&vt_errs, &vt_arena);
	return keel_validate_params_from(&vt_route, vt_get, (void *)src, &vt_p,
	                                 &vt_arena, &vt_errs);
}

/* "1:" is path, "2:" query, "3:" header (keel_param_in_t values). */
#define VT_BASE "1:slug=how-to", "3:X-Token=abc"

Test(validate, params_fill_struct_with_defaults)
{
	const char *const src[] = {VT_BASE, "2:offset=40", "2:full=true",
	                           "2:ratio=-1.5e2", NULL};
	cr_assert_eq(vt_params_run(src), 0);
	cr_assert(vt_str_is(vt_p.slug, "how-to"));
	cr_assert(vt_str_is(vt_p.token, "abc"));
	cr_assert_eq(vt_p.limit, 20);
	cr_assert_eq(vt_p.limit_state, KEEL_ABSENT);
	cr_assert_eq(vt_p.offset, 40);
	cr_assert(vt_p.full);
	cr_assert_float_eq(vt_p.ratio, -150.0, 0);
	cr_assert_eq(vt_p.order, 1);
	const char *const src2[] = {VT_BASE, "2:limit=5", "2:order=asc",
	                            "2:full=0", NULL};
	cr_assert_eq(vt_params_run(src2), 0);
	cr_assert_eq(vt_p.limit, 5);
	cr_assert_eq(vt_p.limit_state, KEEL_SET);
	cr_assert_eq(vt_p.order, 0);
	cr_assert_not(vt_p.full);
}

static void vt_param_error(const char *entry, const char *path, const char *msg)
{
	const char *const src[] = {VT_BASE, entry, NULL};
	cr_assert_eq(vt_params_run(src), KEEL_EINVAL, "%s", entry);
	cr_assert_str_eq(vt_msg(path) ? vt_msg(path) : "(none)", msg, "%s",
	                 entry);
}

Test(validate, params_parse_text_strictly)
{
	vt_param_error("2:limit=abc", "limit", "must be an integer");
	vt_param_error("2:limit=+5", "limit", "must be an integer");
	vt_param_error("2:limit= 5", "limit", "must be an integer");
	vt_param_error("2:limit=5 ", "limit", "must be an integer");
	vt_param_error("2:limit=", "limit", "must be an integer");
	vt_param_error("2:limit=99999999999999999999", "limit",
	               "must be an integer");
	vt_param_error("2:limit=0", "limit",
	               "must be greater than or equal to 1");
	vt_param_error("2:limit=101", "limit",
	               "must be less than or equal to 100");
	vt_param_error("2:offset=-1", "offset",
	               "must be greater than or equal to 0");
	vt_param_error("2:ratio=inf", "ratio", "must be a number");
	vt_param_error("2:ratio=nan", "ratio", "must be a number");
	vt_param_error("2:ratio=0x10", "ratio", "must be a number");
	vt_param_error("2:ratio=1e999", "ratio", "must be a number");
	vt_param_error("2:ratio= 1", "ratio", "must be a number");
	vt_param_error("2:full=yes", "full", "must be a boolean");
	vt_param_error("2:full=TRUE", "full", "must be a boolean");
	vt_param_error("2:order=up", "order", "is not included in the list");
}

Test(validate, params_required_pattern_and_utf8)
{
	const char *const none[] = {NULL};
	cr_assert_eq(vt_params_run(none), KEEL_EINVAL);
	cr_assert_str_eq(vt_msg("slug"), "can't be blank");
	cr_assert_str_eq(vt_msg("X-Token"), "can't be blank");
	cr_assert_eq(vt_errs.count, 2);
	const char *const bad[] = {"1:slug=How_To", "3:X-Token=\xc3(", NULL};
	cr_assert_eq(vt_params_run(bad), KEEL_EINVAL);
	cr_assert_str_eq(vt_msg("slug"), "is invalid");
	cr_assert_str_eq(vt_msg("X-Token"), "is invalid");
}

static int vt_get_oom(void *ctx, keel_param_in_t in, const char *name,
                      keel_str_t *value, keel_arena_t *arena)
{
	(void)ctx, (void)in, (void)name, (void)value, (void)arena;
	return KEEL_ENOMEM;
}

Test(validate, params_getter_failure_is_returned)
{
	keel_verrors_init(&vt_errs, &vt_arena);
	cr_assert_eq(keel_validate_params_from(&vt_route, vt_get_oom, NULL,
	                                       &vt_p, &vt_arena, &vt_errs),
	             KEEL_ENOMEM);
}

/* ------------------------------------------------------------ spec check */

static int vt_check_body(const keel_body_spec_t *body, char *why, size_t len)
{
	keel_route_spec_t spec = {.body = body};
	return keel_validate_check(&spec, why, len);
}

static void vt_bad_field(keel_field_t f, const char *reason)
{
	keel_body_spec_t body = {
	        .fields = &f, .n = 1, .struct_size = sizeof(vt_user_t)};
	char why[128];
	cr_assert_eq(vt_check_body(&body, why, sizeof(why)), KEEL_EINVAL, "%s",
	             reason);
	cr_assert(strstr(why, reason), "%s vs %s", why, reason);
}

Test(validate, check_accepts_good_specs)
{
	char why[128] = "x";
	cr_assert_eq(vt_check_body(&vt_user_spec, why, sizeof(why)), 0, "%s",
	             why);
	cr_assert_str_eq(why, "");
	cr_assert_eq(vt_check_body(&vt_node_spec, why, sizeof(why)), 0, "%s",
	             why);
	cr_assert_eq(keel_validate_check(&vt_route, why, sizeof(why)), 0, "%s",
	             why);
}

Test(validate, check_finds_spec_mistakes)
{
	vt_bad_field((keel_field_t){.name = "a"}, "type");
	vt_bad_field((keel_field_t){.type = KEEL_T_INT}, "without a name");
	vt_bad_field((keel_field_t){.name = "a", .type = KEEL_T_ENUM},
	             "enum without values");
	vt_bad_field((keel_field_t){.name = "a", .type = KEEL_T_OBJECT},
	             "object without a spec");
	vt_bad_field((keel_field_t){.name = "a", .type = KEEL_T_ARRAY},
	             "array without an item shape");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_INT,
	                            KEEL_RANGE(5, 1)},
	             "min is above max");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_STRING,
	                            .min_len = 5,
	                            .max_len = 2},
	             "min_len is above max_len");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_STRING,
	                            .pattern = "(unclosed"},
	             "pattern does not compile");
	vt_bad_field(
	        (keel_field_t){.name = "a", .type = KEEL_T_INT, .def = "x"},
	        "default is not a valid value");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_INT,
	                            KEEL_MAX(3),
	                            .def = "4"},
	             "default is not a valid value");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_INT,
	                            .offset = sizeof(vt_user_t)},
	             "offset outside the struct");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_INT,
	                            .presence = sizeof(vt_user_t)},
	             "presence outside the struct");
	vt_bad_field((keel_field_t){.name = "a",
	                            .type = KEEL_T_ARRAY,
	                            .items = &vt_link,
	                            .def = "[]"},
	             "defaults are for scalars only");
}

static const keel_body_spec_t vt_loop_spec;
static const keel_field_t vt_loop_fields[] = {
        {.name = "self", .type = KEEL_T_OBJECT, .object = &vt_loop_spec},
};
static const keel_body_spec_t vt_loop_spec = {
        KEEL_FIELDS(vt_loop_fields),
        .struct_size = 64,
};

Test(validate, check_refuses_unnamed_cycles_and_array_params)
{
	char why[128];
	cr_assert_eq(vt_check_body(&vt_loop_spec, why, sizeof(why)),
	             KEEL_EINVAL);
	cr_assert(strstr(why, "recursive"), "%s", why);
	static const keel_param_t arr[] = {
	        {KEEL_IN_QUERY,
	         {.name = "tags", .type = KEEL_T_ARRAY, .items = &vt_tag}},
	};
	keel_route_spec_t spec = {
	        .params = arr, .n_params = 1, .params_size = 64};
	cr_assert_eq(keel_validate_check(&spec, why, sizeof(why)), KEEL_EINVAL);
	cr_assert(strstr(why, "scalars"), "%s", why);
	spec.params_size = 0;
	cr_assert_eq(keel_validate_check(&spec, NULL, 0), KEEL_EINVAL);
}

Test(validate, broken_pattern_at_runtime_is_estate)
{
	static const keel_field_t f[] = {
	        {.name = "a", .type = KEEL_T_STRING, .pattern = "a{2,1}"},
	};
	keel_str_t out;
	keel_body_spec_t body = {
	        .fields = f, .n = 1, .struct_size = sizeof(out)};
	json_t *root = vt_json("{\"a\": \"aa\"}");
	cr_assert_eq(keel_validate_body(&body, root, &out, &vt_arena, &vt_errs),
	             KEEL_ESTATE);
	/* cached as broken: same answer again */
	cr_assert_eq(keel_validate_body(&body, root, &out, &vt_arena, &vt_errs),
	             KEEL_ESTATE);
	json_decref(root);
}

/* ------------------------------------------------------------ requests */

typedef struct vt_req {
	keel_req_t req;
	keel_http_header_t headers[4];
	keel_http_header_t params[2];
} vt_req_t;

/* A request as the dispatcher leaves it: head, query, path parameters,
 * body and arena; nothing below it (no connection) is needed. */
static void vt_req_init(vt_req_t *r, const char *query, const char *body,
                        const char *content_type)
{
	memset(r, 0, sizeof(*r));
	r->headers[0] =
	        (keel_http_header_t){KEEL_STR("X-Token"), KEEL_STR("tok")};
	r->headers[1] = (keel_http_header_t){KEEL_STR("Content-Type"),
	                                     keel_str_from_cstr(content_type)};
	r->params[0] =
	        (keel_http_header_t){KEEL_STR("slug"), KEEL_STR("hello-world")};
	r->req.head.method = KEEL_HTTP_POST;
	r->req.head.query = keel_str_from_cstr(query);
	r->req.head.headers = r->headers;
	r->req.head.header_count = content_type ? 2 : 1;
	r->req.params = r->params;
	r->req.nparams = 1;
	keel_arena_init(&r->req.arena, 0, 0);
	keel_buf_init(&r->req.body, 0);
	keel_buf_append(&r->req.body, body, strlen(body));
}

static void vt_req_deinit(vt_req_t *r)
{
	keel_arena_deinit(&r->req.arena);
	keel_buf_deinit(&r->req.body);
}

Test(validate, params_from_a_request)
{
	vt_req_t r;
	vt_req_init(&r, "limit=7&order=asc&ratio=%2B2.5&limit=9", "", NULL);
	keel_verrors_init(&vt_errs, &r.req.arena);
	cr_assert_eq(keel_validate_params(&vt_route, &r.req, &vt_p, &vt_errs),
	             0, "%s", vt_errs.count ? vt_errs.items[0].path : "");
	cr_assert(vt_str_is(vt_p.slug, "hello-world"));
	cr_assert(vt_str_is(vt_p.token, "tok"));
	cr_assert_eq(vt_p.limit, 7); /* the first of repeated keys */
	cr_assert_eq(vt_p.order, 0);
	cr_assert_float_eq(vt_p.ratio, 2.5, 0);
	vt_req_deinit(&r);

	vt_req_init(&r, "limit=x%zz&offset=-3", "", NULL);
	r.req.nparams = 0;
	keel_verrors_init(&vt_errs, &r.req.arena);
	cr_assert_eq(keel_validate_params(&vt_route, &r.req, &vt_p, &vt_errs),
	             KEEL_EINVAL);
	cr_assert_str_eq(vt_msg("slug"), "can't be blank");
	cr_assert_str_eq(vt_msg("offset"),
	                 "must be greater than or equal to 0");
	cr_assert_null(vt_msg("limit")); /* a bad escape is skipped */
	vt_req_deinit(&r);
}

static const keel_route_spec_t vt_full_route = {
        .params = vt_param_table,
        .n_params = KEEL_COUNTOF(vt_param_table),
        .params_size = sizeof(vt_params_t),
        .body = &vt_user_spec,
};

Test(validate, request_entry_point_answers_failures)
{
	vt_req_t r;
	keel_res_t res;
	vt_user_t user;

	vt_req_init(&r, "limit=3", "{\"user\": {\"username\": \"jake\"}}",
	            "application/json");
	vt_res_init(&res);
	cr_assert_eq(keel_validate_request(&r.req, &res, &vt_full_route, &vt_p,
	                                   &user),
	             0);
	cr_assert(vt_str_is(user.username, "jake"));
	cr_assert_eq(vt_p.limit, 3);
	vt_req_deinit(&r);

	/* errors of params and body together, one 422 */
	vt_req_init(&r, "limit=0", "{\"user\": {}}", "application/json");
	cr_assert_eq(keel_validate_request(&r.req, &res, &vt_full_route, &vt_p,
	                                   &user),
	             422);
	cr_assert_str_eq(res.body.data,
	                 "{\"errors\":{\"limit\":[\"must be greater than or "
	                 "equal to 1\"],\"username\":[\"can't be blank\"]}}\n");
	vt_req_deinit(&r);

	vt_req_init(&r, "", "{\"user\": {}}", "text/plain");
	cr_assert_eq(keel_validate_request(&r.req, &res, &vt_full_route, &vt_p,
	                                   &user),
	             415);
	vt_req_deinit(&r);

	vt_req_init(&r, "", "{\"user\": ", "application/json");
	cr_assert_eq(keel_validate_request(&r.req, &res, &vt_full_route, &vt_p,
	                                   &user),
	             400);
	vt_req_deinit(&r);
	vt_res_deinit(&res);
}
