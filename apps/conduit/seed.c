/*
 * apps/conduit/seed.c - `conduit seed`: sample data.
 *
 *   conduit seed --demo                      a few users (password
 *                                            "password123"), follows,
 *                                            tagged articles, favorites
 *                                            and comments
 *   conduit seed --articles N --users M      bulk data for benchmarks
 *
 * Everything goes in one transaction; the password is hashed once and the
 * PHC string reused for every user, so seeding is fast.
 */
#include <stdio.h>
#include <string.h>

#include "conduit.h"

int conduit_cmd_seed(int argc, char **argv);

#define SEED_TAGS 12

static const char *const seed_tags[SEED_TAGS] = {
        "c",      "http",    "databases", "testing", "security", "linux",
        "design", "network", "perf",      "tools",   "history",  "welcome"};

typedef struct seed {
	int64_t users, articles;
	bool demo;
	char phc[KEEL_PASSWORD_HASH_MAX];
	char now[32];
	int64_t first_user, first_article, first_tag;
} seed_t;

static int seed_users(keel_db_conn_t *conn, seed_t *s)
{
	char name[32], email[64];
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < s->users; i++) {
		snprintf(name, sizeof(name), "user%lld", (long long)i + 1);
		snprintf(email, sizeof(email), "user%lld@example.com",
		         (long long)i + 1);
		rc = keel_db_exec(conn,
		                  "INSERT INTO users (username, email, "
		                  "password_hash, bio, created_at, updated_at) "
		                  "VALUES ($1, $2, $3, $4, $5, $5)",
		                  KEEL_DB_ARGS(KEEL_DB_CSTR(name),
		                               KEEL_DB_CSTR(email),
		                               KEEL_DB_CSTR(s->phc),
		                               KEEL_DB_CSTR("Seeded user."),
		                               KEEL_DB_CSTR(s->now)),
		                  NULL);
		if (rc == 0 && i == 0)
			s->first_user = keel_db_last_id(conn);
	}
	return rc;
}

static int seed_tags_insert(keel_db_conn_t *conn, seed_t *s)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < SEED_TAGS; i++) {
		rc = keel_db_exec(conn,
		                  "INSERT INTO tags (name) VALUES ($1) ON "
		                  "CONFLICT (name) DO NOTHING",
		                  KEEL_DB_ARGS(KEEL_DB_CSTR(seed_tags[i])),
		                  NULL);
	}
	if (rc == 0)
		rc = keel_db_query_int(conn,
		                       "SELECT id FROM tags WHERE name = $1",
		                       KEEL_DB_ARGS(KEEL_DB_CSTR(seed_tags[0])),
		                       &s->first_tag);
	return rc;
}

/* One article by a round-robin author with two tags.  Slugs carry the
 * index so they never collide. */
static int seed_article(keel_db_conn_t *conn, seed_t *s, int64_t i)
{
	char slug[64], title[64];
	int64_t author = s->first_user + i % s->users;
	snprintf(title, sizeof(title), "Seeded article %lld", (long long)i + 1);
	snprintf(slug, sizeof(slug), "seeded-article-%lld", (long long)i + 1);
	int rc = keel_db_exec(
	        conn,
	        "INSERT INTO articles (slug, title, description, body, "
	        "author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, "
	        "$5, $6, $6)",
	        KEEL_DB_ARGS(KEEL_DB_CSTR(slug), KEEL_DB_CSTR(title),
	                     KEEL_DB_CSTR("What this article is about."),
	                     KEEL_DB_CSTR("A body of **markdown** text for "
	                                  "the demo and the benchmark."),
	                     KEEL_DB_I64(author), KEEL_DB_CSTR(s->now)),
	        NULL);
	int64_t id = keel_db_last_id(conn);
	for (int k = 0; rc == 0 && k < 2; k++)
		rc = keel_db_exec(
		        conn,
		        "INSERT INTO article_tags (article_id, tag_id, "
		        "position) VALUES ($1, $2, $3)",
		        KEEL_DB_ARGS(KEEL_DB_I64(id),
		                     KEEL_DB_I64(s->first_tag +
		                                 (i + k * 5) % SEED_TAGS),
		                     KEEL_DB_I64(k)),
		        NULL);
	if (rc == 0 && i == 0)
		s->first_article = id;
	return rc;
}

/* Demo extras: every user follows the next, favorites and comments on
 * the first articles (counters kept in step with the rows). */
static int seed_social(keel_db_conn_t *conn, seed_t *s)
{
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < s->users && s->users > 1; i++)
		rc = keel_db_exec(
		        conn,
		        "INSERT INTO follows (follower_id, followed_id, "
		        "created_at) VALUES ($1, $2, $3)",
		        KEEL_DB_ARGS(
		                KEEL_DB_I64(s->first_user + i),
		                KEEL_DB_I64(s->first_user + (i + 1) % s->users),
		                KEEL_DB_CSTR(s->now)),
		        NULL);
	for (int64_t i = 0; rc == 0 && i < s->articles && i < s->users; i++) {
		keel_db_value_t a[] = {KEEL_DB_I64(s->first_user + i),
		                       KEEL_DB_I64(s->first_article + i),
		                       KEEL_DB_CSTR(s->now)};
		rc = keel_db_exec(conn,
		                  "INSERT INTO favorites (user_id, article_id, "
		                  "created_at) VALUES ($1, $2, $3)",
		                  a, 3, NULL);
		if (rc == 0)
			rc = keel_db_exec(
			        conn,
			        "UPDATE articles SET favorites_count = "
			        "favorites_count + 1 WHERE id = $1",
			        &a[1], 1, NULL);
		if (rc == 0)
			rc = keel_db_exec(
			        conn,
			        "INSERT INTO comments (article_id, "
			        "author_id, body, created_at, updated_at) "
			        "VALUES ($2, $1, 'Nice article!', $3, $3)",
			        a, 3, NULL);
	}
	return rc;
}

static int seed_tx(keel_db_conn_t *conn, void *arg)
{
	seed_t *s = arg;
	int rc = seed_users(conn, s);
	if (rc == 0)
		rc = seed_tags_insert(conn, s);
	for (int64_t i = 0; rc == 0 && i < s->articles; i++)
		rc = seed_article(conn, s, i);
	if (rc == 0 && s->demo)
		rc = seed_social(conn, s);
	return rc;
}

/* --demo, or --articles N --users M (both >= 1). */
static int seed_args(int argc, char **argv, seed_t *s)
{
	for (int i = 1; i < argc; i++) {
		int64_t *dst = NULL;
		if (!strcmp(argv[i], "--demo")) {
			s->demo = true;
			s->users = s->users ? s->users : 5;
			s->articles = s->articles ? s->articles : 10;
			continue;
		}
		if (!strcmp(argv[i], "--articles"))
			dst = &s->articles;
		else if (!strcmp(argv[i], "--users"))
			dst = &s->users;
		if (!dst || i + 1 >= argc ||
		    keel_str_to_i64(keel_str_from_cstr(argv[++i]), dst) < 0 ||
		    *dst < 1 || *dst > 10000000)
			return -1;
	}
	return s->users > 0 && s->articles >= 0 ? 0 : -1;
}

static int seed_run(seed_t *s)
{
	keel_db_error_t err;
	keel_db_t *db = keel_db_open(conduit_cfg.database_url, NULL, &err);
	if (!db) {
		fprintf(stderr, "conduit: database: %s\n", err.msg);
		return 1;
	}
	keel_db_conn_t *conn;
	int rc = keel_db_acquire(db, &conn);
	if (rc == 0) {
		rc = keel_db_tx(conn, seed_tx, s);
		if (rc < 0)
			fprintf(stderr, "conduit: seed: %s (%s)\n",
			        keel_strerror(rc), keel_db_errmsg(conn));
		keel_db_release(conn);
	}
	keel_db_close(db);
	if (rc == 0)
		printf("seeded %lld users, %lld articles\n",
		       (long long)s->users, (long long)s->articles);
	return rc == 0 ? 0 : 1;
}

int conduit_cmd_seed(int argc, char **argv)
{
	seed_t s = {0};
	if (seed_args(argc, argv, &s) < 0) {
		fprintf(stderr, "usage: conduit seed --demo | --articles N "
		                "--users M\n");
		return 2;
	}
	if (keel_password_hash(keel_str_from_cstr("password123"), s.phc) < 0) {
		fprintf(stderr, "conduit: seed: cannot hash the password\n");
		return 1;
	}
	conduit_now(s.now);
	return seed_run(&s);
}
