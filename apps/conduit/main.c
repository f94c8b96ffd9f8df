/*
 * conduit: the RealWorld "Conduit" API on keel.  The manage.py of the app:
 *
 *   conduit [serve] [flags]   migrate, then serve (flags: --help)
 *   conduit migrate [--status]
 *   conduit routes            the route table
 *   conduit check             configuration, database and migrations
 *   conduit createsuperuser --username U --email E --password P
 *   conduit seed --demo       demo users, articles, comments
 *
 * Flags --database-url and --secret (any command) win over the
 * environment: DATABASE_URL (default sqlite:///var/conduit.db),
 * CONDUIT_SECRET (required when CONDUIT_ENV=production; generated into
 * var/ otherwise), CONDUIT_TOKEN_TTL (seconds, default 604800).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conduit.h"

KEEL_MIGRATIONS_DECLARE(conduit_migrations);

void conduit_auth_init(void);
int conduit_cmd_createsuperuser(int argc, char **argv);
int conduit_cmd_seed(int argc, char **argv);

/* users.c: the login/registration limiter, NULL when off. */
extern keel_ratelimit_login_t *conduit_login_limiter;
/* CONDUIT_LOGIN_LIMIT=on|off; default on in production only. */
static bool login_limit;
/* CONDUIT_CACHE_TTL: seconds a cached public read may be served; 0: no
 * cache.  Writes through the server empty it at once; the ttl only bounds
 * writes made beside it (the CLI on the same database file). */
static int64_t cache_ttl = 5;

static int load_config(void)
{
	const char *url = getenv("DATABASE_URL");
	const char *env = getenv("CONDUIT_ENV");
	const char *ttl = getenv("CONDUIT_TOKEN_TTL");
	conduit_cfg.database_url =
	        url && *url ? url : "sqlite:///var/conduit.db";
	conduit_cfg.production = env && strcmp(env, "production") == 0;
	conduit_cfg.token_ttl = 7 * 24 * 3600;
	const char *cttl = getenv("CONDUIT_CACHE_TTL");
	if (cttl && *cttl &&
	    (keel_str_to_i64(keel_str_from_cstr(cttl), &cache_ttl) < 0 ||
	     cache_ttl < 0 || cache_ttl > 86400)) {
		fprintf(stderr, "conduit: CONDUIT_CACHE_TTL must be 0..86400 "
		                "seconds\n");
		return 2;
	}
	const char *lim = getenv("CONDUIT_LOGIN_LIMIT");
	login_limit = lim && *lim ? strcmp(lim, "off") && strcmp(lim, "0")
	                          : conduit_cfg.production;
	if (ttl && (keel_str_to_i64(keel_str_from_cstr(ttl),
	                            &conduit_cfg.token_ttl) < 0 ||
	            conduit_cfg.token_ttl <= 0)) {
		fprintf(stderr, "conduit: CONDUIT_TOKEN_TTL must be seconds\n");
		return 2;
	}
	mkdir("var", 0700); /* SQLite file and development secret */
	if (keel_secret_load(&conduit_cfg.secret, getenv("CONDUIT_SECRET"),
	                     conduit_cfg.production, NULL, NULL) < 0)
		return 2; /* the reason is logged */
	conduit_auth_init();
	return 0;
}

/* Open the database and borrow a connection; 0 or 1 (reason printed). */
static int db_open(keel_db_t **db, keel_db_conn_t **conn)
{
	keel_db_error_t err;
	*db = keel_db_open(conduit_cfg.database_url, NULL, &err);
	if (!*db) {
		fprintf(stderr, "conduit: database: %s\n", err.msg);
		return 1;
	}
	if (keel_db_acquire(*db, conn) < 0) {
		fprintf(stderr, "conduit: database: no connection\n");
		keel_db_close(*db);
		return 1;
	}
	return 0;
}

/* Apply pending migrations; in the master before workers fork. */
static int migrate(void)
{
	keel_db_t *db;
	keel_db_conn_t *conn;
	if (db_open(&db, &conn))
		return 1;
	keel_migrate_report_t report = {0};
	int rc = keel_migrate_apply(conn, conduit_migrations,
	                            conduit_migrations_count, &report);
	if (rc == 0)
		printf("migrations: %d applied now, %d of %zu in place\n",
		       report.applied, report.applied + report.skipped,
		       (size_t)conduit_migrations_count);
	else
		fprintf(stderr, "conduit: migrate: %s: %s\n", report.failed,
		        report.msg);
	keel_db_release(conn);
	keel_db_close(db);
	return rc == 0 ? 0 : 1;
}

/* Counts per state, filled by the status listing. */
typedef struct mig_tally {
	int n[4];
	bool print;
} mig_tally_t;

static int status_line(const keel_migrate_info_t *info, void *arg)
{
	mig_tally_t *t = arg;
	if ((unsigned)info->state < 4)
		t->n[info->state]++;
	if (t->print)
		printf("%-32s %-8s %s\n", info->name,
		       keel_migrate_state_name(info->state),
		       info->applied_at ? info->applied_at : "-");
	return 0;
}

/*
 * List every migration's state (print) or only count them; exit status 0
 * when all are applied and unchanged, 1 otherwise.
 */
static int migrate_status(bool print)
{
	keel_db_t *db;
	keel_db_conn_t *conn;
	if (db_open(&db, &conn))
		return 1;
	mig_tally_t t = {.print = print};
	int rc = keel_migrate_status(conn, conduit_migrations,
	                             conduit_migrations_count, status_line, &t);
	keel_db_release(conn);
	keel_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "conduit: migrate: %s\n", keel_strerror(rc));
		return 1;
	}
	printf("migrations: %d applied, %d pending, %d changed, %d missing\n",
	       t.n[KEEL_MIGRATE_APPLIED], t.n[KEEL_MIGRATE_PENDING],
	       t.n[KEEL_MIGRATE_CHANGED], t.n[KEEL_MIGRATE_MISSING]);
	return t.n[KEEL_MIGRATE_APPLIED] == (int)conduit_migrations_count &&
	                       !t.n[KEEL_MIGRATE_MISSING]
	               ? 0
	               : 1;
}

/* Print a URL with any password ("user:pw@") masked. */
static void print_url(const char *url)
{
	const char *start = strstr(url, "://");
	const char *at = start ? strchr(start + 3, '@') : NULL;
	const char *colon =
	        at ? memchr(start + 3, ':', (size_t)(at - start - 3)) : NULL;
	if (!colon) {
		printf("database_url: %s\n", url);
		return;
	}
	printf("database_url: %.*s:***%s\n", (int)(colon - url), url, at);
}

/* `conduit check`: the effective configuration (no secrets), then the
 * database and its migrations. */
static int check(void)
{
	print_url(conduit_cfg.database_url);
	printf("environment: %s\n",
	       conduit_cfg.production ? "production" : "development");
	printf("token_ttl: %lld seconds\n", (long long)conduit_cfg.token_ttl);
	printf("secret: %zu bytes (%s)\n",
	       keel_secret_str(&conduit_cfg.secret).len,
	       getenv("CONDUIT_SECRET") && *getenv("CONDUIT_SECRET")
	               ? "CONDUIT_SECRET"
	               : "generated file");
	printf("login_rate_limit: %s\n", login_limit ? "on" : "off");
	int rc = migrate_status(false);
	printf("check: %s\n", rc ? "FAILED" : "ok");
	return rc;
}

static keel_app_t *build_app(void)
{
	static keel_middleware_t request_id, timing, security, cors, gzip,
	        errors, db;
	static keel_cors_opts_t cors_opts;
	static const keel_openapi_info_t info = {.title = "Conduit API",
	                                         .version = "1.0.0",
	                                         .auth_scheme = "Token"};
	/* A browser frontend on any origin may call the API: tokens travel
	 * in the Authorization header, never in cookies, so no credentials. */
	static const char *const any_origin[] = {"*", NULL};
	keel_cors_opts_init(&cors_opts);
	cors_opts.origins = any_origin;
	request_id = keel_mw_request_id(NULL);
	timing = keel_mw_timing();
	security = keel_mw_security(NULL);
	cors = keel_mw_cors(&cors_opts);
	gzip = keel_mw_gzip(NULL);
	errors = keel_mw_errors();
	db = keel_mw_db();
	keel_app_t *app = keel_app_new();
	keel_app_use(app, &request_id);
	keel_app_use(app, &cors);
	keel_app_use(app, &timing);
	keel_app_use(app, &db);
	keel_app_use(app, &security);
	keel_app_use(app, &gzip);
	keel_app_use(app, &errors);
	keel_group_t *api = keel_app_group(app, "/api");
	conduit_users_routes(api);
	conduit_profiles_routes(api);
	conduit_articles_routes(api);
	conduit_comments_routes(api);
	conduit_tags_routes(api);
	keel_app_openapi(app, "/openapi.json", &info);
	return app;
}

static int serve(int argc, char **argv)
{
	bool listing = argc > 1 && strcmp(argv[1], "routes") == 0;
	if (!listing && migrate() != 0)
		return 1;
	/* Shared memory: created before the workers fork. */
	if (!listing && login_limit &&
	    !(conduit_login_limiter = keel_ratelimit_login_new(NULL))) {
		fprintf(stderr, "conduit: cannot create the login limiter\n");
		return 1;
	}
	keel_cache_opts_t copts = {.ttl_ms = cache_ttl * 1000};
	if (cache_ttl > 0 && !(conduit_cache = keel_cache_new(&copts))) {
		fprintf(stderr, "conduit: cannot create the response cache\n");
		return 1;
	}
	keel_app_t *app = build_app();
	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	keel_ratelimit_login_free(conduit_login_limiter);
	keel_cache_free(conduit_cache);
	return rc;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: conduit [serve] [flags] | migrate [--status] | "
	           "routes | check | createsuperuser | seed --demo\n"
	           "       any command also takes --database-url URL and "
	           "--secret S (or DATABASE_URL, CONDUIT_SECRET)\n"
	           "       conduit serve --help lists the server flags\n");
	return f == stdout ? 0 : 2;
}

/* `conduit <cmd> --help`: what the command does and takes. */
static int command_help(const char *cmd)
{
	static const char *const help[][2] = {
	        {"migrate", "conduit migrate [--status]\n  apply pending "
	                    "migrations to DATABASE_URL, or list their state"},
	        {"check", "conduit check\n  print the effective settings (no "
	                  "secrets) and the migration state; non-zero when "
	                  "something is pending or changed"},
	        {"createsuperuser",
	         "conduit createsuperuser --username U --email E --password P\n"
	         "  create an administrator account"},
	        {"seed", "conduit seed --demo | --articles N --users M\n  fill "
	                 "the database with demo or benchmark data"},
	        {"routes", "conduit routes\n  list every route with its "
	                   "handler and middleware"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(help); i++) {
		if (strcmp(cmd, help[i][0]) == 0) {
			printf("usage: %s\n", help[i][1]);
			return 0;
		}
	}
	return -1;
}

/*
 * Conduit's own flags (--database-url, --secret) win over their
 * environment variables: they are moved into the environment and taken out
 * of argv before the server's flag table sees it.
 */
static int take_app_flags(int argc, char **argv)
{
	static const char *const flags[][2] = {
	        {"--database-url", "DATABASE_URL"},
	        {"--secret", "CONDUIT_SECRET"},
	};
	int out = 1;
	for (int i = 1; i < argc; i++) {
		bool taken = false;
		for (size_t f = 0; f < KEEL_COUNTOF(flags) && !taken; f++) {
			size_t n = strlen(flags[f][0]);
			if (strncmp(argv[i], flags[f][0], n) != 0)
				continue;
			if (argv[i][n] == '=') {
				setenv(flags[f][1], argv[i] + n + 1, 1);
				taken = true;
			} else if (argv[i][n] == '\0' && i + 1 < argc) {
				setenv(flags[f][1], argv[++i], 1);
				taken = true;
			}
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	argc = take_app_flags(argc, argv);
	const char *cmd = argc > 1 ? argv[1] : "serve";
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help"))
		return usage(stdout);
	if (wants_help(argc, argv) && command_help(cmd) == 0)
		return 0;
	int rc = load_config();
	if (rc)
		return rc;
	if (!strcmp(cmd, "migrate"))
		return argc > 2 && !strcmp(argv[2], "--status")
		               ? migrate_status(true)
		               : migrate();
	if (!strcmp(cmd, "check"))
		return check();
	if (!strcmp(cmd, "createsuperuser"))
		return conduit_cmd_createsuperuser(argc - 1, argv + 1);
	if (!strcmp(cmd, "seed"))
		return conduit_cmd_seed(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve") || !strcmp(cmd, "routes") || cmd[0] == '-')
		return serve(argc, argv);
	return usage(stderr);
}
