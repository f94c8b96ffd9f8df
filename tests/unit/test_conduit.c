/*
 * Conduit's handlers through the in-process test client: the whole stack
 * (router, middleware, validation, handlers, SQLite) without a socket.
 * The real-socket suites are tests/integration/test_conduit_*.py.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../apps/conduit/conduit.h"

KEEL_MIGRATIONS_DECLARE(conduit_migrations);
void conduit_auth_init(void);

static keel_app_t *app;
static keel_test_t *t;
static char dbpath[] = "/tmp/keel-conduit-XXXXXX";
static char url[64];
static keel_middleware_t timing, db;

static void setup(void)
{
	int fd = mkstemp(dbpath);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(url, sizeof(url), "sqlite://%s", dbpath);
	conduit_cfg.database_url = url;
	conduit_cfg.token_ttl = 3600;
	cr_assert_eq(keel_secret_load(&conduit_cfg.secret,
	                              "unit-test-secret-0123456789abcdefghij",
	                              false, NULL, NULL),
	             0);
	conduit_auth_init();
	keel_db_conn_t *conn;
	cr_assert_eq(keel_db_acquire(conduit_db(), &conn), 0);
	keel_migrate_report_t rep;
	cr_assert_eq(keel_migrate_apply(conn, conduit_migrations,
	                                conduit_migrations_count, &rep),
	             0, "%s", rep.msg);
	keel_db_release(conn);
	timing = keel_mw_timing();
	db = keel_mw_db();
	app = keel_app_new();
	keel_app_use(app, &timing);
	keel_app_use(app, &db);
	keel_group_t *api = keel_app_group(app, "/api");
	conduit_users_routes(api);
	conduit_profiles_routes(api);
	conduit_articles_routes(api);
	conduit_comments_routes(api);
	conduit_tags_routes(api);
	t = keel_test_new(app);
}

static void teardown(void)
{
	keel_test_free(t);
	keel_app_free(app);
	unlink(dbpath);
}

TestSuite(conduit, .init = setup, .fini = teardown);

/* POST/PUT a JSON body, with a token when `token` is not NULL. */
static int send_json(const char *method, const char *target, const char *token,
                     const char *body, keel_test_result_t *r)
{
	char headers[1200];
	snprintf(headers, sizeof(headers),
	         "Content-Type: application/json\n%s%s%s",
	         token ? "Authorization: Token " : "", token ? token : "",
	         token ? "\n" : "");
	cr_assert_eq(keel_test_request(t, method, target, headers, body,
	                               body ? strlen(body) : 0, r),
	             0);
	return r->status;
}

/* Register `name` and copy its token into tok. */
static void register_user(const char *name, char *tok, size_t cap)
{
	char body[256];
	keel_test_result_t r;
	snprintf(body, sizeof(body),
	         "{\"user\":{\"username\":\"%s\",\"email\":\"%s@example.com\","
	         "\"password\":\"password123\"}}",
	         name, name);
	cr_assert_eq(send_json("POST", "/api/users", NULL, body, &r), 201,
	             "%.*s", (int)r.body_len, r.body);
	json_t *doc = json_loadb(r.body, r.body_len, 0, NULL);
	const char *token = json_string_value(
	        json_object_get(json_object_get(doc, "user"), "token"));
	cr_assert_not_null(token);
	snprintf(tok, cap, "%s", token);
	json_decref(doc);
	keel_test_result_free(&r);
}

static bool body_has(const keel_test_result_t *r, const char *s)
{
	return memmem(r->body, r->body_len, s, strlen(s)) != NULL;
}

Test(conduit, register_login_and_current_user)
{
	char tok[1024];
	keel_test_result_t r;
	register_user("ann", tok, sizeof(tok));
	cr_assert_eq(send_json("POST", "/api/users/login", NULL,
	                       "{\"user\":{\"email\":\"ann@example.com\","
	                       "\"password\":\"password123\"}}",
	                       &r),
	             200);
	keel_test_result_free(&r);
	cr_assert_eq(send_json("POST", "/api/users/login", NULL,
	                       "{\"user\":{\"email\":\"ann@example.com\","
	                       "\"password\":\"wrong-password\"}}",
	                       &r),
	             401);
	keel_test_result_free(&r);
	cr_assert_eq(send_json("GET", "/api/user", tok, NULL, &r), 200);
	cr_assert(body_has(&r, "\"username\":\"ann\""));
	keel_test_result_free(&r);
	cr_assert_eq(send_json("GET", "/api/user", NULL, NULL, &r), 401);
	keel_test_result_free(&r);
}

Test(conduit, duplicates_are_409_and_blank_fields_422)
{
	char tok[1024];
	keel_test_result_t r;
	register_user("bob", tok, sizeof(tok));
	cr_assert_eq(send_json("POST", "/api/users", NULL,
	                       "{\"user\":{\"username\":\"bob\",\"email\":"
	                       "\"other@example.com\",\"password\":"
	                       "\"password123\"}}",
	                       &r),
	             409);
	keel_test_result_free(&r);
	cr_assert_eq(
	        send_json("POST", "/api/users", NULL,
	                  "{\"user\":{\"username\":\"\",\"email\":"
	                  "\"x@example.com\",\"password\":\"password123\"}}",
	                  &r),
	        422);
	cr_assert(body_has(&r, "\"username\""));
	keel_test_result_free(&r);
}

Test(conduit, articles_owner_rules_and_favorites)
{
	char ann[1024], bob[1024];
	keel_test_result_t r;
	register_user("ann", ann, sizeof(ann));
	register_user("bob", bob, sizeof(bob));
	cr_assert_eq(send_json("POST", "/api/articles", ann,
	                       "{\"article\":{\"title\":\"Hello World\","
	                       "\"description\":\"d\",\"body\":\"b\","
	                       "\"tagList\":[\"c\",\"web\"]}}",
	                       &r),
	             201);
	cr_assert(body_has(&r, "\"slug\":\"hello-world\""));
	keel_test_result_free(&r);
	/* Another user may not edit it; the author may. */
	cr_assert_eq(send_json("PUT", "/api/articles/hello-world", bob,
	                       "{\"article\":{\"body\":\"x\"}}", &r),
	             403);
	keel_test_result_free(&r);
	cr_assert_eq(send_json("POST", "/api/articles/hello-world/favorite",
	                       bob, NULL, &r),
	             200);
	cr_assert(body_has(&r, "\"favoritesCount\":1"));
	cr_assert(body_has(&r, "\"favorited\":true"));
	keel_test_result_free(&r);
	cr_assert_eq(send_json("GET", "/api/tags", NULL, NULL, &r), 200);
	cr_assert(body_has(&r, "\"web\""));
	keel_test_result_free(&r);
	cr_assert_eq(
	        send_json("DELETE", "/api/articles/hello-world", ann, NULL, &r),
	        204);
	keel_test_result_free(&r);
	cr_assert_eq(
	        send_json("GET", "/api/articles/hello-world", NULL, NULL, &r),
	        404);
	keel_test_result_free(&r);
}

/* The "N queries" the db middleware put into Server-Timing. */
static long queries_of(const keel_test_result_t *r)
{
	keel_str_t v;
	cr_assert_eq(keel_test_header(r, "Server-Timing", &v), 0);
	const char *q = memmem(v.ptr, v.len, "desc=\"", 6);
	cr_assert_not_null(q);
	return strtol(q + 6, NULL, 10);
}

Test(conduit, article_list_costs_the_same_queries_for_any_page)
{
	char tok[1024], body[256];
	keel_test_result_t r;
	long small = 0;
	for (int i = 0; i < 12; i++) {
		char name[16];
		snprintf(name, sizeof(name), "user%d", i);
		register_user(name, tok, sizeof(tok));
		snprintf(
		        body, sizeof(body),
		        "{\"article\":{\"title\":\"t%d\",\"description\":\"d\","
		        "\"body\":\"b\",\"tagList\":[\"a%d\",\"b\"]}}",
		        i, i);
		cr_assert_eq(send_json("POST", "/api/articles", tok, body, &r),
		             201);
		keel_test_result_free(&r);
		if (i == 1) {
			cr_assert_eq(send_json("GET", "/api/articles", NULL,
			                       NULL, &r),
			             200);
			small = queries_of(&r);
			keel_test_result_free(&r);
		}
	}
	cr_assert_eq(send_json("GET", "/api/articles", NULL, NULL, &r), 200);
	cr_assert_eq(queries_of(&r), small, "2 articles vs 12 articles");
	cr_assert(body_has(&r, "\"articlesCount\":12"));
	keel_test_result_free(&r);
}

/* The page's tags come back in article and position order from an index,
 * not from a sort of every row in a temporary B-tree. */
Test(conduit, page_tags_are_read_in_index_order)
{
	keel_db_conn_t *conn;
	cr_assert_eq(keel_db_acquire(conduit_db(), &conn), 0);
	keel_dbtest_report_t rep;
	cr_assert_eq(
	        keel_dbtest_explain(
	                conn,
	                "SELECT at.article_id, t.name FROM article_tags at "
	                "JOIN tags t ON t.id = at.tag_id WHERE "
	                "at.article_id IN ($1, $2, $3) ORDER BY "
	                "at.article_id, at.position",
	                KEEL_DB_ARGS(KEEL_DB_I64(1), KEEL_DB_I64(2),
	                             KEEL_DB_I64(3)),
	                &rep),
	        0);
	cr_assert(rep.ok, "%s\n%s", rep.problems, rep.plan);
	cr_assert_null(strstr(rep.plan, "TEMP B-TREE"), "%s", rep.plan);
	keel_db_release(conn);
}
