#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "keel/config.h"
#include "keel/str.h"

/* Where a value came from; only used to name it in error messages. */
typedef enum config_source {
	SRC_DEFAULT,
	SRC_ENV,
	SRC_FLAG,
} config_source_t;

#define DIGITS "0123456789"

static const char *const type_names[] = {
        [KEEL_SETTING_INT] = "int",           [KEEL_SETTING_BOOL] = "bool",
        [KEEL_SETTING_STRING] = "string",     [KEEL_SETTING_SIZE] = "size",
        [KEEL_SETTING_DURATION] = "duration",
};

/* Duration units, longest spelling first within a letter ("ms" vs "m"). */
static const struct {
	const char *name;
	int64_t ms;
} duration_units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

/* ---------------------------------------------------------------- errors */

KEEL_PRINTF(3, 4)
static int fail(keel_config_error_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * "--port: "abc" is not an integer", "APP_PORT (environment): ...": the
 * user has to know which of three places held the bad text.  Long values
 * are shortened so the name and the reason always fit.
 */
static int bad_value(keel_config_error_t *err, int code,
                     const keel_setting_t *s, config_source_t src,
                     const char *text, const char *why)
{
	const char *more = strlen(text) > 64 ? "..." : "";

	if (src == SRC_ENV)
		return fail(err, code, "%s (environment): \"%.64s%s\" %s",
		            s->env, text, more, why);
	return fail(err, code, "--%s%s: \"%.64s%s\" %s", s->name,
	            src == SRC_DEFAULT ? " (default)" : "", text, more, why);
}

/* ---------------------------------------------------------------- parsing */

static keel_str_t slice(const char *p, size_t n)
{
	return (keel_str_t){p, n};
}

static int parse_bool(const char *t, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < KEEL_COUNTOF(yes); i++) {
		if (strcasecmp(t, yes[i]) == 0 || strcasecmp(t, no[i]) == 0) {
			*out = strcasecmp(t, yes[i]) == 0;
			return KEEL_OK;
		}
	}
	return KEEL_EINVAL;
}

/* Digits, then nothing or one of k, m, g, t (either case, powers of 1024). */
static int parse_size(const char *t, uint64_t *out)
{
	static const char units[] = "kmgt";
	size_t d = strspn(t, DIGITS);
	unsigned shift = 0;
	uint64_t v;

	if (d == 0)
		return KEEL_EINVAL;
	int rc = keel_str_to_u64(slice(t, d), &v);
	if (rc)
		return rc;
	if (t[d]) {
		const char *u = strchr(units, tolower((unsigned char)t[d]));
		if (!u || t[d + 1])
			return KEEL_EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (v > (UINT64_MAX >> shift))
		return KEEL_ERANGE;
	*out = v << shift;
	return KEEL_OK;
}

/* Milliseconds per `n` letters at `p`, or 0 when they name no unit. */
static int64_t duration_unit(const char *p, size_t n)
{
	for (size_t i = 0; i < KEEL_COUNTOF(duration_units); i++)
		if (strlen(duration_units[i].name) == n &&
		    memcmp(p, duration_units[i].name, n) == 0)
			return duration_units[i].ms;
	return 0;
}

/*
 * One or more <digits><unit> parts summed ("1h30m", "1s500ms"), or a bare
 * "0".  A bare number is refused: whether "30" means seconds or
 * milliseconds is exactly the mistake a unit prevents.
 */
static int parse_duration(const char *t, int64_t *out)
{
	int64_t total = 0;

	if (strcmp(t, "0") == 0) {
		*out = 0;
		return KEEL_OK;
	}
	if (!*t)
		return KEEL_EINVAL;
	for (const char *p = t; *p;) {
		size_t d = strspn(p, DIGITS);
		uint64_t v = 0;
		if (d == 0)
			return KEEL_EINVAL;
		int rc = keel_str_to_u64(slice(p, d), &v); /* 0 or ERANGE */
		p += d;
		size_t ul = strspn(p, "hms");
		int64_t unit = duration_unit(p, ul);
		if (unit == 0)
			return KEEL_EINVAL;
		p += ul;
		if (rc || v > (uint64_t)(INT64_MAX / unit) ||
		    (int64_t)v * unit > INT64_MAX - total)
			return KEEL_ERANGE;
		total += (int64_t)v * unit;
	}
	*out = total;
	return KEEL_OK;
}

/* ---------------------------------------------------------------- printing */

/* The largest exact unit: 1048576 -> "1m", 1536 -> "1536k"... "1537". */
static void format_size(uint64_t v, char *buf, size_t cap)
{
	static const char units[] = "tgmk";
	unsigned shift = 40;

	for (const char *u = units; *u; u++, shift -= 10) {
		if (v != 0 && v % ((uint64_t)1 << shift) == 0) {
			snprintf(buf, cap, "%" PRIu64 "%c", v >> shift, *u);
			return;
		}
	}
	snprintf(buf, cap, "%" PRIu64, v);
}

/* Hours, minutes, seconds, milliseconds, each when not zero: "1h30m". */
static void format_duration(int64_t ms, char *buf, size_t cap)
{
	size_t len = 0;

	if (ms <= 0) {
		snprintf(buf, cap, ms ? "%" PRId64 "ms" : "0", ms);
		return;
	}
	for (size_t i = 0; i < KEEL_COUNTOF(duration_units); i++) {
		int64_t part = ms / duration_units[i].ms;
		ms %= duration_units[i].ms;
		if (part && len < cap)
			len += (size_t)snprintf(buf + len, cap - len,
			                        "%" PRId64 "%s", part,
			                        duration_units[i].name);
	}
}

/* A bound or value of `s`'s type in the spelling the parser accepts. */
static void format_number(const keel_setting_t *s, int64_t v, char *buf,
                          size_t cap)
{
	if (s->type == KEEL_SETTING_SIZE && v >= 0)
		format_size((uint64_t)v, buf, cap);
	else if (s->type == KEEL_SETTING_DURATION)
		format_duration(v, buf, cap);
	else
		snprintf(buf, cap, "%" PRId64, v);
}

/* "is out of range (1..1024)" in the setting's own units. */
static int out_of_range(keel_config_error_t *err, const keel_setting_t *s,
                        config_source_t src, const char *text)
{
	char lo[32], hi[32], why[96];

	format_number(s, s->min, lo, sizeof(lo));
	format_number(s, s->max, hi, sizeof(hi));
	snprintf(why, sizeof(why), "is out of range (%s..%s)", lo, hi);
	return bad_value(err, KEEL_ERANGE, s, src, text, why);
}

/* ---------------------------------------------------------------- storing */

static bool in_bounds(const keel_setting_t *s, int64_t v)
{
	return (s->min == 0 && s->max == 0) || (v >= s->min && v <= s->max);
}

static int set_int(const keel_setting_t *s, char *field, const char *t,
                   config_source_t src, keel_config_error_t *err)
{
	int64_t v;
	int rc = keel_str_to_i64(slice(t, strlen(t)), &v);

	if (rc == KEEL_ERANGE)
		return bad_value(err, rc, s, src, t, "is out of range");
	if (rc)
		return bad_value(err, KEEL_EINVAL, s, src, t,
		                 "is not an integer");
	if (!in_bounds(s, v))
		return out_of_range(err, s, src, t);
	memcpy(field, &v, sizeof(v));
	return KEEL_OK;
}

static int set_size(const keel_setting_t *s, char *field, const char *t,
                    config_source_t src, keel_config_error_t *err)
{
	uint64_t v;
	int rc = parse_size(t, &v);

	if (rc == KEEL_EINVAL)
		return bad_value(err, rc, s, src, t,
		                 "is not a size (bytes, or a number with k, m, "
		                 "g or t)");
	if (rc || v > SIZE_MAX)
		return bad_value(err, KEEL_ERANGE, s, src, t, "is too large");
	if ((s->min || s->max) && (v > INT64_MAX || !in_bounds(s, (int64_t)v)))
		return out_of_range(err, s, src, t);
	size_t z = (size_t)v;
	memcpy(field, &z, sizeof(z));
	return KEEL_OK;
}

static int set_duration(const keel_setting_t *s, char *field, const char *t,
                        config_source_t src, keel_config_error_t *err)
{
	int64_t v;
	int rc = parse_duration(t, &v);

	if (rc == KEEL_EINVAL && t[0] && t[strspn(t, DIGITS)] == '\0')
		return bad_value(err, rc, s, src, t,
		                 "needs a unit (ms, s, m or h)");
	if (rc == KEEL_EINVAL)
		return bad_value(err, rc, s, src, t,
		                 "is not a duration (like 500ms, 30s, 5m, "
		                 "1h30m)");
	if (rc)
		return bad_value(err, rc, s, src, t, "is too long");
	if (!in_bounds(s, v))
		return out_of_range(err, s, src, t);
	memcpy(field, &v, sizeof(v));
	return KEEL_OK;
}

/* Parse `t` as `s`'s type and store it in the caller's struct. */
static int set_value(const keel_setting_t *s, void *out, const char *t,
                     config_source_t src, keel_config_error_t *err)
{
	char *field = (char *)out + s->offset;
	bool b;

	switch (s->type) {
	case KEEL_SETTING_INT: return set_int(s, field, t, src, err);
	case KEEL_SETTING_SIZE: return set_size(s, field, t, src, err);
	case KEEL_SETTING_DURATION: return set_duration(s, field, t, src, err);
	case KEEL_SETTING_STRING: memcpy(field, &t, sizeof(t)); return KEEL_OK;
	case KEEL_SETTING_BOOL:
		if (parse_bool(t, &b))
			return bad_value(
			        err, KEEL_EINVAL, s, src, t,
			        "is not a boolean (true/false, yes/no, "
			        "on/off, 1/0)");
		memcpy(field, &b, sizeof(b));
		return KEEL_OK;
	}
	return fail(err, KEEL_EINVAL, "--%s: unknown setting type", s->name);
}

/* What a setting without a default holds: 0, false or NULL. */
static void set_zero(const keel_setting_t *s, void *out)
{
	char *field = (char *)out + s->offset;
	const char *null = NULL;
	int64_t zero64 = 0;
	size_t zero_size = 0;
	bool no = false;

	if (s->type == KEEL_SETTING_STRING)
		memcpy(field, &null, sizeof(null));
	else if (s->type == KEEL_SETTING_BOOL)
		memcpy(field, &no, sizeof(no));
	else if (s->type == KEEL_SETTING_SIZE)
		memcpy(field, &zero_size, sizeof(zero_size));
	else
		memcpy(field, &zero64, sizeof(zero64));
}

/* ---------------------------------------------------------------- table */

static bool valid_name(const char *name)
{
	return name && name[0] && name[0] != '-' && !strchr(name, '=') &&
	       strcmp(name, "help") != 0;
}

/*
 * A malformed table is the program's bug, not the user's, but reporting it
 * costs little and beats a silent "unknown flag" later.
 */
static int check_table(const keel_setting_t *table, size_t n, const void *out,
                       keel_config_error_t *err)
{
	if (!table || !out)
		return fail(err, KEEL_EINVAL,
		            "settings table or struct missing");
	for (size_t i = 0; i < n; i++) {
		const keel_setting_t *s = &table[i];
		if (!valid_name(s->name))
			return fail(err, KEEL_EINVAL,
			            "settings table: entry %zu has a bad name",
			            i);
		if (s->type < KEEL_SETTING_INT ||
		    s->type > KEEL_SETTING_DURATION || s->min > s->max)
			return fail(err, KEEL_EINVAL,
			            "settings table: --%s has a bad type or "
			            "bounds",
			            s->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(table[j].name, s->name) == 0)
				return fail(
				        err, KEEL_EINVAL,
				        "settings table: --%s appears twice",
				        s->name);
	}
	return KEEL_OK;
}

static const keel_setting_t *find(const keel_setting_t *table, size_t n,
                                  const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].name) == len &&
		    memcmp(table[i].name, name, len) == 0)
			return &table[i];
	return NULL;
}

int keel_config_defaults(const keel_setting_t *table, size_t n, void *out,
                         keel_config_error_t *err)
{
	int rc = check_table(table, n, out, err);

	for (size_t i = 0; rc == KEEL_OK && i < n; i++) {
		if (table[i].def)
			rc = set_value(&table[i], out, table[i].def,
			               SRC_DEFAULT, err);
		else
			set_zero(&table[i], out);
	}
	return rc;
}

/* getenv() over a caller's environment array; the first match wins. */
static const char *env_lookup(char *const envp[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

int keel_config_env(const keel_setting_t *table, size_t n, void *out,
                    char *const envp[], keel_config_error_t *err)
{
	int rc = check_table(table, n, out, err);

	for (size_t i = 0; rc == KEEL_OK && i < n; i++) {
		const char *v = table[i].env && table[i].env[0]
		                        ? env_lookup(envp, table[i].env)
		                        : NULL;
		if (v)
			rc = set_value(&table[i], out, v, SRC_ENV, err);
	}
	return rc;
}

/* ---------------------------------------------------------------- flags */

/* Levenshtein distance for "did you mean"; long names are never close. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), row[64];

	if (la >= KEEL_COUNTOF(row) || lb >= KEEL_COUNTOF(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "unknown flag --wrkers (did you mean --workers?)": typos get a hint. */
static int unknown_flag(const keel_setting_t *table, size_t n, const char *name,
                        size_t len, keel_config_error_t *err)
{
	const keel_setting_t *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(name, len, table[i].name);
		if (d < best_d && d < len) {
			best = &table[i];
			best_d = d;
		}
	}
	if (best)
		return fail(err, KEEL_EINVAL,
		            "unknown flag --%.*s (did you mean --%s?)",
		            (int)len, name, best->name);
	return fail(err, KEEL_EINVAL, "unknown flag --%.*s", (int)len, name);
}

/* --no-NAME: clears the bool setting NAME; takes no value. */
static int negate_flag(const keel_setting_t *table, size_t n, void *out,
                       const char *name, size_t len, bool has_value,
                       keel_config_error_t *err)
{
	const keel_setting_t *s = find(table, n, name + 3, len - 3);

	if (!s)
		return unknown_flag(table, n, name, len, err);
	if (s->type != KEEL_SETTING_BOOL)
		return fail(err, KEEL_EINVAL,
		            "--%.*s: only a bool setting can be negated",
		            (int)len, name);
	if (has_value)
		return fail(err, KEEL_EINVAL, "--%.*s takes no value", (int)len,
		            name);
	return set_value(s, out, "false", SRC_FLAG, err);
}

/*
 * One "--name", "--name=value" or "--name value" at argv[*i]; advances *i
 * past a separate value.  A separate value may not itself start with "--":
 * `--name --other` is far more often a forgotten value than a literal.
 */
static int parse_flag(const keel_setting_t *table, size_t n, void *out,
                      int argc, char *const argv[], int *i,
                      keel_config_error_t *err)
{
	const char *a = argv[*i] + 2;
	const char *eq = strchr(a, '=');
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	const keel_setting_t *s = find(table, n, a, len);

	if (!s && len > 3 && strncmp(a, "no-", 3) == 0)
		return negate_flag(table, n, out, a, len, eq != NULL, err);
	if (!s)
		return unknown_flag(table, n, a, len, err);
	if (eq)
		return set_value(s, out, eq + 1, SRC_FLAG, err);
	if (s->type == KEEL_SETTING_BOOL)
		return set_value(s, out, "true", SRC_FLAG, err);
	if (*i + 1 >= argc || !argv[*i + 1] ||
	    strncmp(argv[*i + 1], "--", 2) == 0)
		return fail(err, KEEL_EINVAL, "--%s: missing value", s->name);
	*i += 1;
	return set_value(s, out, argv[*i], SRC_FLAG, err);
}

/*
 * Walk argv[1..] until the first positional argument or "--".  "-" alone is
 * positional (it conventionally means stdin); other single-dash words are
 * refused rather than guessed at, since only long flags exist.
 */
static int walk_args(const keel_setting_t *table, size_t n, void *out, int argc,
                     char *const argv[], int *stop, keel_config_error_t *err)
{
	int i;

	for (i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return KEEL_CONFIG_HELP;
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (a[1] != '-')
			return fail(
			        err, KEEL_EINVAL,
			        "unknown flag %s (flags are spelled --name)",
			        a);
		int rc = parse_flag(table, n, out, argc, argv, &i, err);
		if (rc)
			return rc;
	}
	*stop = i < argc ? i : (argc > 0 ? argc : 0);
	return KEEL_OK;
}

int keel_config_args(const keel_setting_t *table, size_t n, void *out, int argc,
                     char *const argv[], int *next, keel_config_error_t *err)
{
	int stop = 0, rc = check_table(table, n, out, err);

	if (rc == KEEL_OK && argc > 0 && !argv)
		rc = fail(err, KEEL_EINVAL, "argv missing");
	if (rc == KEEL_OK)
		rc = walk_args(table, n, out, argc, argv, &stop, err);
	if (rc)
		return rc;
	if (next)
		*next = stop;
	else if (stop < argc && argv[stop])
		return fail(err, KEEL_EINVAL, "unexpected argument \"%.64s\"",
		            argv[stop]);
	return KEEL_OK;
}

int keel_config_load(const keel_setting_t *table, size_t n, void *out, int argc,
                     char *const argv[], char *const envp[], int *next,
                     keel_config_error_t *err)
{
	int rc = keel_config_defaults(table, n, out, err);

	if (rc == KEEL_OK)
		rc = keel_config_env(table, n, out, envp, err);
	if (rc == KEEL_OK)
		rc = keel_config_args(table, n, out, argc, argv, next, err);
	return rc;
}

/* ---------------------------------------------------------------- help */

typedef struct help_widths {
	int flag, env, type, def;
} help_widths_t;

static void flag_text(const keel_setting_t *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "--%s%s",
	         s->type == KEEL_SETTING_BOOL ? "[no-]" : "", s->name);
}

static const char *env_text(const keel_setting_t *s)
{
	return s->env && s->env[0] ? s->env : "-";
}

static const char *def_text(const keel_setting_t *s)
{
	return !s->def ? "-" : s->def[0] ? s->def : "\"\"";
}

static int max_int(int a, size_t b)
{
	return b > (size_t)a ? (int)b : a;
}

static help_widths_t measure(const keel_setting_t *table, size_t n)
{
	help_widths_t w = {(int)strlen("--help, -h"), 3, 4, 7};
	char flag[128];

	for (size_t i = 0; i < n; i++) {
		flag_text(&table[i], flag, sizeof(flag));
		w.flag = max_int(w.flag, strlen(flag));
		w.env = max_int(w.env, strlen(env_text(&table[i])));
		w.type = max_int(w.type, strlen(type_names[table[i].type]));
		w.def = max_int(w.def, strlen(def_text(&table[i])));
	}
	return w;
}

static void help_row(FILE *f, const help_widths_t *w, const char *flag,
                     const char *env, const char *type, const char *def,
                     const char *help)
{
	fprintf(f, "  %-*s  %-*s  %-*s  %-*s  %s\n", w->flag, flag, w->env, env,
	        w->type, type, w->def, def, help);
}

/* The help line, with the bounds appended when the setting has some. */
static void help_text(const keel_setting_t *s, char *buf, size_t cap)
{
	const char *help = s->help ? s->help : "";
	char lo[32], hi[32];

	if ((s->min == 0 && s->max == 0) || s->type == KEEL_SETTING_BOOL ||
	    s->type == KEEL_SETTING_STRING) {
		snprintf(buf, cap, "%s", help);
		return;
	}
	format_number(s, s->min, lo, sizeof(lo));
	format_number(s, s->max, hi, sizeof(hi));
	snprintf(buf, cap, "%s%s(%s..%s)", help, help[0] ? " " : "", lo, hi);
}

int keel_config_print_help(FILE *f, const char *prog,
                           const keel_setting_t *table, size_t n)
{
	char flag[128], help[512];

	if (!f || (!table && n))
		return KEEL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!valid_name(table[i].name) ||
		    table[i].type < KEEL_SETTING_INT ||
		    table[i].type > KEEL_SETTING_DURATION)
			return KEEL_EINVAL;
	help_widths_t w = measure(table, n);
	fprintf(f,
	        "usage: %s [options]\n\noptions (a flag beats its "
	        "environment variable, which beats the default):\n",
	        prog ? prog : "program");
	help_row(f, &w, "FLAG", "ENV", "TYPE", "DEFAULT", "HELP");
	for (size_t i = 0; i < n; i++) {
		flag_text(&table[i], flag, sizeof(flag));
		help_text(&table[i], help, sizeof(help));
		help_row(f, &w, flag, env_text(&table[i]),
		         type_names[table[i].type], def_text(&table[i]), help);
	}
	help_row(f, &w, "--help, -h", "", "", "", "show this help and exit");
	return ferror(f) ? KEEL_EIO : KEEL_OK;
}

/* ---------------------------------------------------------------- dump */

/* One effective value, spelled so that it could be fed back in. */
static void dump_value(FILE *f, const keel_setting_t *s, const char *field)
{
	char buf[64];
	const char *str;
	int64_t i64;
	size_t z;
	bool b;

	switch (s->type) {
	case KEEL_SETTING_STRING:
		memcpy(&str, field, sizeof(str));
		if (str)
			fprintf(f, "\"%s\"", str);
		else
			fputs("(unset)", f);
		return;
	case KEEL_SETTING_BOOL:
		memcpy(&b, field, sizeof(b));
		fputs(b ? "true" : "false", f);
		return;
	case KEEL_SETTING_SIZE:
		memcpy(&z, field, sizeof(z));
		format_size(z, buf, sizeof(buf));
		break;
	case KEEL_SETTING_INT:
	case KEEL_SETTING_DURATION:
		memcpy(&i64, field, sizeof(i64));
		format_number(s, i64, buf, sizeof(buf));
		break;
	}
	fputs(buf, f);
}

int keel_config_dump(FILE *f, const keel_setting_t *table, size_t n,
                     const void *cfg)
{
	int width = 0;

	if (!f || check_table(table, n, cfg, NULL))
		return KEEL_EINVAL;
	for (size_t i = 0; i < n; i++)
		width = max_int(width, strlen(table[i].name));
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%-*s = ", width, table[i].name);
		if (table[i].secret)
			fputs("(hidden)", f);
		else
			dump_value(f, &table[i],
			           (const char *)cfg + table[i].offset);
		fputc('\n', f);
	}
	return ferror(f) ? KEEL_EIO : KEEL_OK;
}
