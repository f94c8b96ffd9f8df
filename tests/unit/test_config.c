#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/config.h"

/* ---------------------------------------------------------------- fixture */

typedef struct cfgt {
	int64_t workers;
	bool debug;
	const char *db;
	size_t max_body;
	int64_t timeout_ms;
	const char *secret;
	int64_t offset;   /* unbounded, no env, no default */
	size_t cache;     /* unbounded size */
	int64_t grace_ms; /* unbounded duration */
} cfgt_t;

static const keel_setting_t cfgt_table[] = {
        {.name = "workers",
         .env = "T_WORKERS",
         KEEL_SETTING_INT_FIELD(cfgt_t, workers),
         .def = "4",
         .min = 1,
         .max = 64,
         .help = "worker processes"},
        {.name = "debug",
         .env = "T_DEBUG",
         KEEL_SETTING_BOOL_FIELD(cfgt_t, debug),
         .def = "false",
         .help = "log SQL statements"},
        {.name = "db",
         .env = "T_DB",
         KEEL_SETTING_STRING_FIELD(cfgt_t, db),
         .def = "app.db",
         .help = "SQLite file"},
        {.name = "max-body",
         .env = "T_MAX_BODY",
         KEEL_SETTING_SIZE_FIELD(cfgt_t, max_body),
         .def = "1m",
         .min = 1024,
         .max = INT64_C(1) << 30,
         .help = "largest request body"},
        {.name = "timeout",
         .env = "T_TIMEOUT",
         KEEL_SETTING_DURATION_FIELD(cfgt_t, timeout_ms),
         .def = "30s",
         .min = 100,
         .max = 3600000,
         .help = "idle timeout"},
        {.name = "secret",
         .env = "T_SECRET",
         KEEL_SETTING_STRING_FIELD(cfgt_t, secret),
         .secret = true,
         .help = "signing key"},
        {.name = "offset", KEEL_SETTING_INT_FIELD(cfgt_t, offset)},
        {.name = "cache", KEEL_SETTING_SIZE_FIELD(cfgt_t, cache), .def = "0"},
        {.name = "grace", KEEL_SETTING_DURATION_FIELD(cfgt_t, grace_ms)},
};

#define CFGT_N         KEEL_COUNTOF(cfgt_table)
/* argv with a program name in front and the NULL main() would get. */
#define CFGT_ARGV(...) ((char *[]){"prog", __VA_ARGS__, NULL})
#define CFGT_ENV(...)  ((char *[]){__VA_ARGS__, NULL})

static int cfgt_argc(char *const argv[])
{
	int n = 0;
	while (argv[n])
		n++;
	return n;
}

static keel_config_error_t cfgt_err;

/* load() with a fixed table; next == NULL refuses positionals. */
static int cfgt_load(cfgt_t *c, char *const argv[], char *const envp[],
                     int *next)
{
	memset(c, 0x5a, sizeof(*c)); /* garbage that defaults must replace */
	memset(&cfgt_err, 0, sizeof(cfgt_err));
	return keel_config_load(cfgt_table, CFGT_N, c, cfgt_argc(argv), argv,
	                        envp, next, &cfgt_err);
}

/* Load one flag, expect failure `code` and a message containing `want`. */
static void cfgt_expect_fail(char *const argv[], char *const envp[], int code,
                             const char *want)
{
	cfgt_t c;
	int rc = cfgt_load(&c, argv, envp, NULL);

	cr_assert_eq(rc, code, "%s %s: rc %d, message '%s'", argv[1],
	             argv[2] ? argv[2] : "", rc, cfgt_err.msg);
	cr_assert(strstr(cfgt_err.msg, want), "message '%s' lacks '%s'",
	          cfgt_err.msg, want);
}

/* Load `--name=value` and return the config; asserts success. */
static cfgt_t cfgt_flag(const char *name, const char *value)
{
	char flag[128];
	cfgt_t c;

	snprintf(flag, sizeof(flag), "--%s=%s", name, value);
	int rc = cfgt_load(&c, CFGT_ARGV(flag), NULL, NULL);
	cr_assert_eq(rc, KEEL_OK, "%s: %s", flag, cfgt_err.msg);
	return c;
}

static char *cfgt_capture_help(size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	cr_assert_not_null(f);
	cr_assert_eq(keel_config_print_help(f, "conduit", cfgt_table, CFGT_N),
	             KEEL_OK);
	fclose(f);
	return text;
}

/* ---------------------------------------------------------------- sources */

Test(config, defaults_fill_every_field)
{
	cfgt_t c;
	char *argv[] = {"prog", NULL};
	int next = -1;

	cr_assert_eq(cfgt_load(&c, argv, NULL, &next), KEEL_OK, "%s",
	             cfgt_err.msg);
	cr_assert_eq(next, 1);
	cr_assert_eq(c.workers, 4);
	cr_assert_eq(c.debug, false);
	cr_assert_str_eq(c.db, "app.db");
	cr_assert_eq(c.max_body, 1024 * 1024);
	cr_assert_eq(c.timeout_ms, 30000);
	cr_assert_null(c.secret);
	cr_assert_eq(c.offset, 0);
	cr_assert_eq(c.cache, 0);
	cr_assert_eq(c.grace_ms, 0);
}

Test(config, environment_beats_default_and_flag_beats_environment)
{
	cfgt_t c;
	char **env = CFGT_ENV("PATH=/bin", "T_WORKERS_X=9", "T_WORKERS=8",
	                      "T_DEBUG=yes", "T_DB=env.db", "T_MAX_BODY=2m",
	                      "T_TIMEOUT=1m", "T_WORKERS=7");

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--db", "flag.db"), env, NULL),
	             KEEL_OK, "%s", cfgt_err.msg);
	cr_assert_eq(c.workers, 8, "first T_WORKERS wins, like getenv");
	cr_assert(c.debug);
	cr_assert_str_eq(c.db, "flag.db");
	cr_assert_eq(c.max_body, 2 * 1024 * 1024);
	cr_assert_eq(c.timeout_ms, 60000);

	cr_assert_eq(cfgt_load(&c,
	                       CFGT_ARGV("--workers=16", "--no-debug",
	                                 "--timeout", "2s"),
	                       env, NULL),
	             KEEL_OK, "%s", cfgt_err.msg);
	cr_assert_eq(c.workers, 16);
	cr_assert_not(c.debug);
	cr_assert_eq(c.timeout_ms, 2000);
	cr_assert_str_eq(c.db, "env.db");
}

Test(config, each_step_runs_alone)
{
	cfgt_t c;
	char **env = CFGT_ENV("T_WORKERS=3");

	memset(&c, 0, sizeof(c));
	cr_assert_eq(keel_config_env(cfgt_table, CFGT_N, &c, env, NULL),
	             KEEL_OK);
	cr_assert_eq(c.workers, 3);
	cr_assert_null(c.db, "env alone does not apply defaults");
	cr_assert_eq(keel_config_env(cfgt_table, CFGT_N, &c, NULL, NULL),
	             KEEL_OK);
	cr_assert_eq(keel_config_defaults(cfgt_table, CFGT_N, &c, NULL),
	             KEEL_OK);
	cr_assert_eq(c.workers, 4);
	cr_assert_str_eq(c.db, "app.db");
}

Test(config, empty_environment_value_is_a_value)
{
	cfgt_t c;

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("x"), CFGT_ENV("T_DB="), NULL),
	             KEEL_EINVAL, "positional refused without next");
	cr_assert_eq(cfgt_load(&c, (char *[]){"prog", NULL}, CFGT_ENV("T_DB="),
	                       NULL),
	             KEEL_OK);
	cr_assert_str_eq(c.db, "");
	cfgt_expect_fail((char *[]){"prog", NULL}, CFGT_ENV("T_WORKERS="),
	                 KEEL_EINVAL,
	                 "T_WORKERS (environment): \"\" is not an integer");
}

/* ---------------------------------------------------------------- flags */

Test(config, flag_value_forms)
{
	cfgt_t c;

	cr_assert_eq(cfgt_load(&c,
	                       CFGT_ARGV("--workers", "8", "--offset", "-5",
	                                 "--db=", "--grace=1s", "--workers=9"),
	                       NULL, NULL),
	             KEEL_OK, "%s", cfgt_err.msg);
	cr_assert_eq(c.workers, 9, "the last occurrence wins");
	cr_assert_eq(c.offset, -5, "a separate value may start with one dash");
	cr_assert_str_eq(c.db, "");
	cr_assert_eq(c.grace_ms, 1000);
	c = cfgt_flag("db", "a=b");
	cr_assert_str_eq(c.db, "a=b", "only the first '=' splits");
	c = cfgt_flag("offset", "-9223372036854775808");
	cr_assert_eq(c.offset, INT64_MIN);
}

Test(config, bool_forms)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "on", "1"};
	static const char *const no[] = {"false", "No", "off", "0"};
	cfgt_t c;
	char env[32];

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug"), NULL, NULL), KEEL_OK);
	cr_assert(c.debug);
	cr_assert_eq(
	        cfgt_load(&c, CFGT_ARGV("--debug", "--no-debug"), NULL, NULL),
	        KEEL_OK);
	cr_assert_not(c.debug);
	for (size_t i = 0; i < KEEL_COUNTOF(yes); i++) {
		cr_assert(cfgt_flag("debug", yes[i]).debug, "%s", yes[i]);
		snprintf(env, sizeof(env), "T_DEBUG=%s", yes[i]);
		cr_assert_eq(cfgt_load(&c, (char *[]){"prog", NULL},
		                       CFGT_ENV(env), NULL),
		             KEEL_OK);
		cr_assert(c.debug, "%s", env);
	}
	for (size_t i = 0; i < KEEL_COUNTOF(no); i++) {
		cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug=1"), NULL, NULL),
		             KEEL_OK);
		cr_assert_not(cfgt_flag("debug", no[i]).debug, "%s", no[i]);
		snprintf(env, sizeof(env), "T_DEBUG=%s", no[i]);
		cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug"), CFGT_ENV(env),
		                       NULL),
		             KEEL_OK);
		cr_assert(c.debug, "flag beats env %s", env);
	}
	/* A bool never swallows the next argument. */
	int next = 0;
	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug", "false"), NULL, &next),
	             KEEL_OK);
	cr_assert(c.debug);
	cr_assert_eq(next, 2);
}

Test(config, bad_bool_values)
{
	cfgt_expect_fail(CFGT_ARGV("--debug=maybe"), NULL, KEEL_EINVAL,
	                 "--debug: \"maybe\" is not a boolean");
	cfgt_expect_fail(CFGT_ARGV("--debug="), NULL, KEEL_EINVAL,
	                 "--debug: \"\" is not a boolean");
	cfgt_expect_fail((char *[]){"prog", NULL}, CFGT_ENV("T_DEBUG=2"),
	                 KEEL_EINVAL, "T_DEBUG (environment): \"2\"");
	cfgt_expect_fail(CFGT_ARGV("--no-debug=1"), NULL, KEEL_EINVAL,
	                 "--no-debug takes no value");
	cfgt_expect_fail(CFGT_ARGV("--no-workers"), NULL, KEEL_EINVAL,
	                 "--no-workers: only a bool setting can be negated");
	cfgt_expect_fail(CFGT_ARGV("--no-such"), NULL, KEEL_EINVAL,
	                 "unknown flag --no-such");
}

Test(config, unknown_flags_and_missing_values)
{
	cfgt_expect_fail(CFGT_ARGV("--wrkers", "3"), NULL, KEEL_EINVAL,
	                 "unknown flag --wrkers (did you mean --workers?)");
	cfgt_expect_fail(CFGT_ARGV("--max_body=1k"), NULL, KEEL_EINVAL,
	                 "(did you mean --max-body?)");
	cfgt_expect_fail(CFGT_ARGV("--zzz=1"), NULL, KEEL_EINVAL,
	                 "unknown flag --zzz");
	cr_assert_null(strstr(cfgt_err.msg, "did you mean"));
	cfgt_expect_fail(CFGT_ARGV("--x"), NULL, KEEL_EINVAL,
	                 "unknown flag --x");
	cr_assert_null(strstr(cfgt_err.msg, "did you mean"));
	cfgt_expect_fail(CFGT_ARGV("-w", "3"), NULL, KEEL_EINVAL,
	                 "unknown flag -w (flags are spelled --name)");
	cfgt_expect_fail(CFGT_ARGV("--=3"), NULL, KEEL_EINVAL,
	                 "unknown flag --");
	cfgt_expect_fail(CFGT_ARGV("--workers"), NULL, KEEL_EINVAL,
	                 "--workers: missing value");
	cfgt_expect_fail(CFGT_ARGV("--db", "--debug"), NULL, KEEL_EINVAL,
	                 "--db: missing value");
	cfgt_expect_fail(CFGT_ARGV("--db", "--"), NULL, KEEL_EINVAL,
	                 "--db: missing value");
}

/* ---------------------------------------------------------------- types */

Test(config, integers_are_strict_and_bounded)
{
	static const char *const bad[] = {"abc", "",     "12x", " 1",  "1 ",
	                                  "+1",  "0x10", "1e3", "--1", "1.0"};

	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		char flag[32];
		snprintf(flag, sizeof(flag), "--workers=%s", bad[i]);
		cfgt_expect_fail(CFGT_ARGV(flag), NULL, KEEL_EINVAL,
		                 "is not an integer");
		cr_assert(strstr(cfgt_err.msg, "--workers: \""), "%s",
		          cfgt_err.msg);
	}
	cr_assert_eq(cfgt_flag("workers", "1").workers, 1);
	cr_assert_eq(cfgt_flag("workers", "64").workers, 64);
	cr_assert_eq(cfgt_flag("workers", "007").workers, 7);
	cfgt_expect_fail(CFGT_ARGV("--workers=0"), NULL, KEEL_ERANGE,
	                 "--workers: \"0\" is out of range (1..64)");
	cfgt_expect_fail(CFGT_ARGV("--workers", "65"), NULL, KEEL_ERANGE,
	                 "(1..64)");
	cfgt_expect_fail(CFGT_ARGV("--workers=-1"), NULL, KEEL_ERANGE,
	                 "(1..64)");
	cfgt_expect_fail(CFGT_ARGV("--offset=9223372036854775808"), NULL,
	                 KEEL_ERANGE,
	                 "--offset: \"9223372036854775808\" is "
	                 "out of range");
	cr_assert_eq(cfgt_flag("offset", "9223372036854775807").offset,
	             INT64_MAX);
}

Test(config, sizes_take_binary_suffixes)
{
	cr_assert_eq(cfgt_flag("max-body", "1024").max_body, 1024);
	cr_assert_eq(cfgt_flag("max-body", "1k").max_body, 1024);
	cr_assert_eq(cfgt_flag("max-body", "64K").max_body, 65536);
	cr_assert_eq(cfgt_flag("max-body", "2m").max_body, 2 << 20);
	cr_assert_eq(cfgt_flag("max-body", "1G").max_body, 1 << 30);
	cr_assert_eq(cfgt_flag("cache", "0").cache, 0);
	cr_assert_eq(cfgt_flag("cache", "3t").cache, (size_t)3 << 40);
	cr_assert_eq(cfgt_flag("cache", "16777215t").cache,
	             SIZE_MAX - ((size_t)1 << 40) + 1);
	cr_assert_eq(cfgt_flag("cache", "18446744073709551615").cache,
	             SIZE_MAX);

	static const char *const bad[] = {"",    "k",   "1.5m", "1mb", "-1k",
	                                  "1 k", "1kk", "1x",   "0x1", "+1"};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		char flag[32];
		snprintf(flag, sizeof(flag), "--cache=%s", bad[i]);
		cfgt_expect_fail(CFGT_ARGV(flag), NULL, KEEL_EINVAL,
		                 "is not a size");
	}
	cfgt_expect_fail(CFGT_ARGV("--cache=16777216t"), NULL, KEEL_ERANGE,
	                 "is too large");
	cfgt_expect_fail(CFGT_ARGV("--cache=18446744073709551616"), NULL,
	                 KEEL_ERANGE, "is too large");
	cfgt_expect_fail(CFGT_ARGV("--max-body=1023"), NULL, KEEL_ERANGE,
	                 "--max-body: \"1023\" is out of range (1k..1g)");
	cfgt_expect_fail(CFGT_ARGV("--max-body=1025m"), NULL, KEEL_ERANGE,
	                 "(1k..1g)");
	cfgt_expect_fail(CFGT_ARGV("--max-body=1t"), NULL, KEEL_ERANGE,
	                 "(1k..1g)");
}

Test(config, durations_take_units_and_store_milliseconds)
{
	cr_assert_eq(cfgt_flag("grace", "0").grace_ms, 0);
	cr_assert_eq(cfgt_flag("grace", "250ms").grace_ms, 250);
	cr_assert_eq(cfgt_flag("grace", "30s").grace_ms, 30000);
	cr_assert_eq(cfgt_flag("grace", "5m").grace_ms, 300000);
	cr_assert_eq(cfgt_flag("grace", "2h").grace_ms, 7200000);
	cr_assert_eq(cfgt_flag("grace", "1h30m").grace_ms, 5400000);
	cr_assert_eq(cfgt_flag("grace", "1s500ms").grace_ms, 1500);
	cr_assert_eq(cfgt_flag("grace", "0s").grace_ms, 0);
	cr_assert_eq(cfgt_flag("grace", "9223372036854775807ms").grace_ms,
	             INT64_MAX);
	cr_assert_eq(cfgt_flag("timeout", "100ms").timeout_ms, 100);
	cr_assert_eq(cfgt_flag("timeout", "1h").timeout_ms, 3600000);

	cfgt_expect_fail(CFGT_ARGV("--grace=30"), NULL, KEEL_EINVAL,
	                 "--grace: \"30\" needs a unit (ms, s, m or h)");
	static const char *const bad[] = {"",     "s",   "1.5s", "1d",
	                                  "-1s",  "1 s", "1S",   "1hm",
	                                  "1msx", "h1",  "1s ",  "00x"};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		char flag[32];
		snprintf(flag, sizeof(flag), "--grace=%s", bad[i]);
		cfgt_expect_fail(CFGT_ARGV(flag), NULL, KEEL_EINVAL,
		                 "is not a duration");
	}
	cfgt_expect_fail(CFGT_ARGV("--grace=9223372036854776s"), NULL,
	                 KEEL_ERANGE, "is too long");
	cfgt_expect_fail(CFGT_ARGV("--grace=9223372036854775807ms1ms"), NULL,
	                 KEEL_ERANGE, "is too long");
	cfgt_expect_fail(CFGT_ARGV("--grace=99999999999999999999h"), NULL,
	                 KEEL_ERANGE, "is too long");
	cfgt_expect_fail(CFGT_ARGV("--timeout=99ms"), NULL, KEEL_ERANGE,
	                 "--timeout: \"99ms\" is out of range (100ms..1h)");
	cfgt_expect_fail(CFGT_ARGV("--timeout=1h1ms"), NULL, KEEL_ERANGE,
	                 "(100ms..1h)");
}

Test(config, errors_name_where_the_value_came_from)
{
	typedef struct {
		int64_t n;
	} one_t;
	static const keel_setting_t bad_default[] = {
	        {.name = "n", KEEL_SETTING_INT_FIELD(one_t, n), .def = "ten"}};
	keel_config_error_t err;
	one_t o;

	cfgt_expect_fail((char *[]){"prog", NULL}, CFGT_ENV("T_TIMEOUT=5"),
	                 KEEL_EINVAL, "T_TIMEOUT (environment): \"5\" needs");
	cfgt_expect_fail(CFGT_ARGV("--timeout=5"), NULL, KEEL_EINVAL,
	                 "--timeout: \"5\" needs");
	cr_assert_eq(keel_config_defaults(bad_default, 1, &o, &err),
	             KEEL_EINVAL);
	cr_assert_str_eq(err.msg, "--n (default): \"ten\" is not an integer");

	/* Long values are shortened; the reason still fits. */
	char flag[600];
	snprintf(flag, sizeof(flag), "--workers=%0500d", 7);
	flag[20] = 'x';
	cfgt_expect_fail(CFGT_ARGV(flag), NULL, KEEL_EINVAL,
	                 "...\" is not an integer");
	/* A NULL error struct is allowed. */
	cfgt_t c;
	cr_assert_eq(keel_config_load(cfgt_table, CFGT_N, &c, 2,
	                              CFGT_ARGV("--bogus"), NULL, NULL, NULL),
	             KEEL_EINVAL);
}

/* ---------------------------------------------------------------- positional
 */

Test(config, help_stops_parsing)
{
	cfgt_t c;

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--workers=2", "--help", "--bad"),
	                       NULL, NULL),
	             KEEL_CONFIG_HELP);
	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("-h"), NULL, NULL),
	             KEEL_CONFIG_HELP);
	cr_assert_gt(KEEL_CONFIG_HELP, 0);
	cr_assert_neq(KEEL_CONFIG_HELP, KEEL_NEXT);
	int next = 0;
	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("cmd", "--help"), NULL, &next),
	             KEEL_OK, "after a positional --help is the caller's");
	cr_assert_eq(next, 1);
	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--", "--help"), NULL, &next),
	             KEEL_OK);
	cr_assert_eq(next, 2);
}

Test(config, parsing_stops_at_the_first_positional_argument)
{
	cfgt_t c;
	int next = -1;

	cr_assert_eq(cfgt_load(&c,
	                       CFGT_ARGV("--workers", "2", "serve", "--workers",
	                                 "3"),
	                       NULL, &next),
	             KEEL_OK);
	cr_assert_eq(next, 3);
	cr_assert_eq(c.workers, 2);

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug", "--", "--workers=9"),
	                       NULL, &next),
	             KEEL_OK);
	cr_assert_eq(next, 3, "'--' ends the flags");
	cr_assert_eq(c.workers, 4);

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("-", "x"), NULL, &next), KEEL_OK);
	cr_assert_eq(next, 1, "'-' is positional");

	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug", "--"), NULL, &next),
	             KEEL_OK);
	cr_assert_eq(next, 3, "nothing after '--'");
	cr_assert_eq(cfgt_load(&c, CFGT_ARGV("--debug", "--"), NULL, NULL),
	             KEEL_OK);

	cfgt_expect_fail(CFGT_ARGV("--debug", "extra"), NULL, KEEL_EINVAL,
	                 "unexpected argument \"extra\"");
	cfgt_expect_fail(CFGT_ARGV("--", "extra"), NULL, KEEL_EINVAL,
	                 "unexpected argument \"extra\"");
}

Test(config, subcommand_gets_its_own_flags)
{
	typedef struct {
		int64_t port;
		bool reload;
	} serve_t;
	static const keel_setting_t serve_table[] = {
	        {.name = "port",
	         .env = "T_PORT",
	         KEEL_SETTING_INT_FIELD(serve_t, port),
	         .def = "8080",
	         .min = 1,
	         .max = 65535},
	        {.name = "reload", KEEL_SETTING_BOOL_FIELD(serve_t, reload)},
	};
	char *argv[] = {"conduit", "--debug",  "serve", "--port",
	                "9090",    "--reload", "extra", NULL};
	char **env = CFGT_ENV("T_PORT=7000", "T_WORKERS=2");
	cfgt_t global;
	serve_t serve;
	int cmd, rest;

	/* conduit [global flags] serve [serve flags] [args] */
	cr_assert_eq(keel_config_load(cfgt_table, CFGT_N, &global, 7, argv, env,
	                              &cmd, &cfgt_err),
	             KEEL_OK, "%s", cfgt_err.msg);
	cr_assert_eq(cmd, 2);
	cr_assert_str_eq(argv[cmd], "serve");
	cr_assert(global.debug);
	cr_assert_eq(global.workers, 2);
	cr_assert_eq(keel_config_load(serve_table, 2, &serve, 7 - cmd,
	                              argv + cmd, env, &rest, &cfgt_err),
	             KEEL_OK, "%s", cfgt_err.msg);
	cr_assert_eq(serve.port, 9090);
	cr_assert(serve.reload);
	cr_assert_str_eq(argv[cmd + rest], "extra");

	/* A global flag after the subcommand belongs to the subcommand. */
	char *late[] = {"serve", "--workers=3", NULL};
	cr_assert_eq(keel_config_load(serve_table, 2, &serve, 2, late, NULL,
	                              &rest, &cfgt_err),
	             KEEL_EINVAL);
	cr_assert_str_eq(cfgt_err.msg, "unknown flag --workers");

	/* Flags only, on top of what was loaded: defaults stay untouched. */
	global.workers = 5;
	cr_assert_eq(keel_config_args(cfgt_table, CFGT_N, &global, 2,
	                              (char *[]){"again", "--debug", NULL},
	                              NULL, &cfgt_err),
	             KEEL_OK);
	cr_assert_eq(global.workers, 5);
	cr_assert_eq(keel_config_args(cfgt_table, CFGT_N, &global, 0, NULL,
	                              &rest, &cfgt_err),
	             KEEL_OK);
	cr_assert_eq(rest, 0);
}

/* ---------------------------------------------------------------- output */

Test(config, help_lists_every_setting_in_aligned_columns)
{
	size_t len;
	char *text = cfgt_capture_help(&len);

	cr_assert(strncmp(text, "usage: conduit [options]\n", 25) == 0, "%s",
	          text);
	for (size_t i = 0; i < CFGT_N; i++) {
		const keel_setting_t *s = &cfgt_table[i];
		char flag[64];
		snprintf(flag, sizeof(flag), "--%s%s",
		         s->type == KEEL_SETTING_BOOL ? "[no-]" : "", s->name);
		const char *row = strstr(text, flag);
		cr_assert_not_null(row, "no row for %s in:\n%s", flag, text);
		const char *eol = strchr(row, '\n');
		if (s->env)
			cr_assert(strstr(row, s->env) &&
			                  strstr(row, s->env) < eol,
			          "%s lacks env", flag);
		if (s->def)
			cr_assert(strstr(row, s->def) &&
			                  strstr(row, s->def) < eol,
			          "%s lacks default", flag);
		if (s->help)
			cr_assert(strstr(row, s->help) &&
			                  strstr(row, s->help) < eol,
			          "%s lacks help", flag);
	}
	cr_assert_not_null(strstr(text, "worker processes (1..64)"));
	cr_assert_not_null(strstr(text, "largest request body (1k..1g)"));
	cr_assert_not_null(strstr(text, "idle timeout (100ms..1h)"));
	cr_assert_not_null(strstr(text, "duration"));
	cr_assert_not_null(strstr(text, "--help, -h"));

	/* Every column starts at the same offset on every row. */
	const char *hdr = strstr(text, "  FLAG");
	cr_assert_not_null(hdr);
	long env_col = strstr(hdr, "ENV") - hdr;
	long type_col = strstr(hdr, "TYPE") - hdr;
	const char *row = strstr(text, "--max-body");
	row = (const char *)memrchr(text, '\n', (size_t)(row - text)) + 1;
	cr_assert_eq(strstr(row, "T_MAX_BODY") - row, env_col);
	cr_assert_eq(strstr(row, "size") - row, type_col);
	row = strstr(text, "--[no-]debug") - 2;
	cr_assert_eq(strstr(row, "T_DEBUG") - row, env_col);
	cr_assert_eq(strstr(row, "bool") - row, type_col);
	free(text);
}

Test(config, dump_prints_effective_values_in_parser_units)
{
	cfgt_t c;
	char *text = NULL;
	size_t len;

	cr_assert_eq(cfgt_load(&c,
	                       CFGT_ARGV("--max-body=1536k", "--grace=1h30m",
	                                 "--secret=hunter2", "--cache=1025",
	                                 "--debug", "--timeout=1s500ms"),
	                       NULL, NULL),
	             KEEL_OK, "%s", cfgt_err.msg);
	FILE *f = open_memstream(&text, &len);
	cr_assert_eq(keel_config_dump(f, cfgt_table, CFGT_N, &c), KEEL_OK);
	fclose(f);
	cr_assert_str_eq(text, "workers  = 4\n"
	                       "debug    = true\n"
	                       "db       = \"app.db\"\n"
	                       "max-body = 1536k\n"
	                       "timeout  = 1s500ms\n"
	                       "secret   = (hidden)\n"
	                       "offset   = 0\n"
	                       "cache    = 1025\n"
	                       "grace    = 1h30m\n");
	cr_assert_null(strstr(text, "hunter2"));
	free(text);

	/* What dump prints parses back to the same values. */
	cr_assert_eq(cfgt_flag("max-body", "1536k").max_body, 1536 * 1024);
	c.secret = NULL;
	c.db = NULL;
	c.max_body = (size_t)5 << 30;
	c.timeout_ms = 0;
	f = open_memstream(&text, &len);
	cr_assert_eq(keel_config_dump(f, cfgt_table, CFGT_N, &c), KEEL_OK);
	fclose(f);
	cr_assert_not_null(strstr(text, "db       = (unset)\n"));
	cr_assert_not_null(strstr(text, "max-body = 5g\n"));
	cr_assert_not_null(strstr(text, "timeout  = 0\n"));
	free(text);
}

Test(config, malformed_tables_are_refused)
{
	typedef struct {
		int64_t a, b;
	} two_t;
	static const keel_setting_t dup[] = {
	        {.name = "a", KEEL_SETTING_INT_FIELD(two_t, a)},
	        {.name = "a", KEEL_SETTING_INT_FIELD(two_t, b)}};
	static const keel_setting_t no_type[] = {
	        {.name = "a", .offset = offsetof(two_t, a)}};
	static const keel_setting_t bounds[] = {
	        {.name = "a",
	         KEEL_SETTING_INT_FIELD(two_t, a),
	         .min = 5,
	         .max = 1}};
	static const char *const bad_names[] = {NULL, "", "-a", "a=b", "help"};
	keel_config_error_t err;
	two_t t;

	cr_assert_eq(keel_config_defaults(dup, 2, &t, &err), KEEL_EINVAL);
	cr_assert_str_eq(err.msg, "settings table: --a appears twice");
	cr_assert_eq(keel_config_defaults(no_type, 1, &t, &err), KEEL_EINVAL);
	cr_assert_eq(keel_config_defaults(bounds, 1, &t, &err), KEEL_EINVAL);
	cr_assert_not_null(strstr(err.msg, "bad type or bounds"));
	for (size_t i = 0; i < KEEL_COUNTOF(bad_names); i++) {
		keel_setting_t s = {.name = bad_names[i],
		                    KEEL_SETTING_INT_FIELD(two_t, a)};
		cr_assert_eq(keel_config_args(&s, 1, &t, 1, CFGT_ARGV("x"),
		                              NULL, &err),
		             KEEL_EINVAL, "name %zu", i);
		cr_assert_not_null(strstr(err.msg, "bad name"));
	}
	cr_assert_eq(keel_config_load(cfgt_table, CFGT_N, NULL, 1,
	                              CFGT_ARGV("x"), NULL, NULL, &err),
	             KEEL_EINVAL);
	cr_assert_eq(keel_config_print_help(stdout, "p", no_type, 1),
	             KEEL_EINVAL);
	cr_assert_eq(keel_config_dump(stdout, dup, 2, &t), KEEL_EINVAL);
}
