/*
 * apps/conduit/cmd.c - `conduit createsuperuser --username U --email E
 * --password P`: migrate, then store an administrator (is_admin = 1).
 * Flags also take the --flag=value form.  Exit 0 on success, 1 when the
 * user could not be stored, 2 for bad arguments.
 */
#include <stdio.h>
#include <string.h>

#include "conduit.h"

KEEL_MIGRATIONS_DECLARE(conduit_migrations);

int conduit_cmd_createsuperuser(int argc, char **argv);

typedef struct su_args {
	const char *username, *email, *password;
} su_args_t;

/* Match argv[*i] against --name or --name=value; advance past the value. */
static int take_flag(int argc, char **argv, int *i, const char *name,
                     const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0' || *i + 1 >= argc)
		return a[n] == '\0' ? -1 : 0;
	*out = argv[++*i];
	return 1;
}

/* Parse the three flags; 0, or 2 (usage printed) on anything unknown. */
static int su_parse(int argc, char **argv, su_args_t *a)
{
	for (int i = 1; i < argc; i++) {
		int hit = take_flag(argc, argv, &i, "--username", &a->username);
		if (!hit)
			hit = take_flag(argc, argv, &i, "--email", &a->email);
		if (!hit)
			hit = take_flag(argc, argv, &i, "--password",
			                &a->password);
		if (hit != 1) {
			fprintf(stderr, "createsuperuser: bad argument %s\n",
			        argv[i]);
			return 2;
		}
	}
	if (!a->username || !a->email || !a->password) {
		fprintf(stderr, "usage: conduit createsuperuser --username U "
		                "--email E --password P\n");
		return 2;
	}
	return 0;
}

/* The rules the API applies to registration, for the operator. */
static int su_check(const su_args_t *a)
{
	if (keel_str_trim(keel_str_from_cstr(a->username)).len == 0 ||
	    strlen(a->username) > 64) {
		fprintf(stderr, "createsuperuser: username: 1 to 64 chars\n");
		return 2;
	}
	if (keel_email_check(keel_str_from_cstr(a->email)) < 0) {
		fprintf(stderr, "createsuperuser: email: is invalid\n");
		return 2;
	}
	size_t pw = strlen(a->password);
	if (pw < 8 || pw > 256) {
		fprintf(stderr, "createsuperuser: password: 8 to 256 chars\n");
		return 2;
	}
	return 0;
}

/* Migrate and insert on one connection; 0 or 1 (reason printed). */
static int su_store(keel_db_conn_t *conn, const su_args_t *a, const char *hash)
{
	keel_migrate_report_t report = {0};
	if (keel_migrate_apply(conn, conduit_migrations,
	                       conduit_migrations_count, &report) < 0) {
		fprintf(stderr, "createsuperuser: migrate: %s: %s\n",
		        report.failed, report.msg);
		return 1;
	}
	char now[32];
	conduit_now(now);
	int rc = keel_db_exec(
	        conn,
	        "INSERT INTO users (username, email, "
	        "password_hash, is_admin, created_at, updated_at) "
	        "VALUES ($1, $2, $3, 1, $4, $4)",
	        KEEL_DB_ARGS(KEEL_DB_CSTR(a->username), KEEL_DB_CSTR(a->email),
	                     KEEL_DB_CSTR(hash), KEEL_DB_CSTR(now)),
	        NULL);
	if (rc == KEEL_EEXIST) {
		fprintf(stderr, "createsuperuser: username or email is "
		                "already taken\n");
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "createsuperuser: %s\n", keel_db_errmsg(conn));
		return 1;
	}
	printf("superuser %s created (id %lld)\n", a->username,
	       (long long)keel_db_last_id(conn));
	return 0;
}

int conduit_cmd_createsuperuser(int argc, char **argv)
{
	su_args_t a = {0};
	int rc = su_parse(argc, argv, &a);
	if (rc == 0)
		rc = su_check(&a);
	if (rc)
		return rc;
	char hash[KEEL_PASSWORD_HASH_MAX];
	if (keel_password_hash(keel_str_from_cstr(a.password), hash) < 0) {
		fprintf(stderr, "createsuperuser: cannot hash the password\n");
		return 1;
	}
	keel_db_error_t err;
	keel_db_t *db = keel_db_open(conduit_cfg.database_url, NULL, &err);
	if (!db) {
		fprintf(stderr, "createsuperuser: database: %s\n", err.msg);
		return 1;
	}
	keel_db_conn_t *conn;
	rc = keel_db_acquire(db, &conn);
	if (rc == 0) {
		rc = su_store(conn, &a, hash);
		keel_db_release(conn);
	} else {
		fprintf(stderr, "createsuperuser: no database connection\n");
		rc = 1;
	}
	keel_db_close(db);
	return rc;
}
