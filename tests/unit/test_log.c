#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keel/log.h"

/* ---------------------------------------------------------------- helpers */

/* A fresh, empty file under /tmp; the name is written into `path`. */
static void logt_tmpfile(char path[64])
{
	snprintf(path, 64, "/tmp/keel-log-test-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
}

/* Whole file into a malloc'd NUL-terminated buffer; `*len` gets its size. */
static char *logt_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static size_t logt_count_lines(const char *s, size_t n)
{
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	return lines;
}

/* Open a temp file as the log destination. */
static void logt_open(char path[64], keel_log_level_t lvl,
                      keel_log_format_t fmt)
{
	logt_tmpfile(path);
	cr_assert_eq(keel_log_open(path, lvl, fmt), KEEL_OK);
}

/*
 * A small strict reader for the flat JSON objects the logger writes:
 * string, number, true/false/null values; string escapes decoded to UTF-8.
 */
typedef struct logt_member {
	char key[32];
	char val[8192];
	size_t val_len;
	bool is_str;
} logt_member_t;

typedef struct logt_obj {
	logt_member_t m[16];
	size_t n;
} logt_obj_t;

static int logt_hex(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Parse a JSON string at *p into out (cap bytes); false on bad syntax. */
static bool logt_str(const char **p, char *out, size_t cap, size_t *len)
{
	const char *s = *p;
	size_t o = 0;
	if (*s++ != '"')
		return false;
	while (*s != '"') {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0 || o + 4 >= cap)
			return false;
		if (c != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
		const char *hit = *s ? strchr(simple, *s) : NULL;
		if (hit && (hit - simple) % 2 == 0) {
			out[o++] = hit[1];
			s++;
		} else if (*s == 'u') {
			int cp = logt_hex(s + 1);
			if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return false;
			if (cp < 0x80) {
				out[o++] = (char)cp;
			} else if (cp < 0x800) {
				out[o++] = (char)(0xC0 | cp >> 6);
				out[o++] = (char)(0x80 | (cp & 0x3F));
			} else {
				out[o++] = (char)(0xE0 | cp >> 12);
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			}
			s += 5;
		} else {
			return false;
		}
	}
	out[o] = '\0';
	*len = o;
	*p = s + 1;
	return true;
}

/* Parse exactly one object followed by "\n" and nothing else. */
static bool logt_parse(const char *s, logt_obj_t *obj)
{
	obj->n = 0;
	if (*s++ != '{')
		return false;
	while (obj->n < KEEL_COUNTOF(obj->m)) {
		logt_member_t *m = &obj->m[obj->n++];
		size_t klen;
		if (!logt_str(&s, m->key, sizeof(m->key), &klen) || *s++ != ':')
			return false;
		m->is_str = *s == '"';
		if (m->is_str) {
			if (!logt_str(&s, m->val, sizeof(m->val), &m->val_len))
				return false;
		} else {
			size_t k = strcspn(s, ",}");
			if (k == 0 || k >= sizeof(m->val))
				return false;
			memcpy(m->val, s, k);
			m->val[k] = '\0';
			m->val_len = k;
			s += k;
		}
		if (*s == '}')
			return strcmp(s, "}\n") == 0;
		if (*s++ != ',')
			return false;
	}
	return false;
}

static const logt_member_t *logt_get(const logt_obj_t *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->m[i].key, key) == 0)
			return &o->m[i];
	return NULL;
}

/* The file holds exactly one JSON record; parse it into `obj`. */
static void logt_read_json(const char *path, logt_obj_t *obj)
{
	size_t n;
	char *text = logt_slurp(path, &n);
	cr_assert_eq(logt_count_lines(text, n), 1, "got: %s", text);
	cr_assert(logt_parse(text, obj), "not valid JSON: %s", text);
	free(text);
}

static bool logt_matches(const char *text, const char *pattern)
{
	regex_t re;
	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	bool ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* ---------------------------------------------------------------- format */

Test(log, text_line_has_timestamp_level_pid_and_message)
{
	char path[64], want[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_DEBUG, KEEL_LOG_FORMAT_TEXT);
	time_t before = time(NULL);
	keel_log(KEEL_LOG_LEVEL_INFO, "hello %s %d", "world", 42);
	char *text = logt_slurp(path, &n);

	cr_assert(logt_matches(text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	                             "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z info "
	                             "\\[pid [0-9]+\\] hello world 42\n$"),
	          "got: %s", text);
	snprintf(want, sizeof(want), "[pid %ld] ", (long)getpid());
	cr_assert_not_null(strstr(text, want));

	struct tm tm = {0};
	cr_assert_not_null(strptime(text, "%Y-%m-%dT%H:%M:%S", &tm));
	long skew = (long)(timegm(&tm) - before);
	cr_assert(skew >= -2 && skew <= 2, "timestamp off by %ld s", skew);
	free(text);
	unlink(path);
}

Test(log, text_fields_are_key_value_and_quoted_when_needed)
{
	char path[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_WARN, "slow request",
	            KEEL_KV_STR("path", "/api/articles"),
	            KEEL_KV_INT("status", 200), KEEL_KV_FLOAT("ms", 12.5),
	            KEEL_KV_BOOL("cached", false),
	            KEEL_KV_STR("agent", "curl 8.0"),
	            KEEL_KV_STR("quote", "say \"hi\" \\o/"),
	            KEEL_KV_STR("empty", ""), KEEL_KV_STR("none", NULL),
	            KEEL_KV_SLICE("method", KEEL_STR("GETX")));
	char *text = logt_slurp(path, &n);
	const char *msg = strstr(text, "] ");

	cr_assert_not_null(msg);
	cr_assert_str_eq(msg + 2,
	                 "slow request path=/api/articles status=200 ms=12.5 "
	                 "cached=false agent=\"curl 8.0\" "
	                 "quote=\"say \\\"hi\\\" \\\\o/\" empty=\"\" "
	                 "none=null method=GETX\n");
	cr_assert(logt_matches(text, "Z warn \\[pid"));
	free(text);
	unlink(path);
}

Test(log, json_line_parses_back_with_every_field_kind)
{
	char path[64];
	logt_obj_t o;

	logt_open(path, KEEL_LOG_LEVEL_DEBUG, KEEL_LOG_FORMAT_JSON);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_ERROR, "db down",
	            KEEL_KV_STR("host", "10.0.0.5"), KEEL_KV_INT("tries", -3),
	            KEEL_KV_INT("big", INT64_MAX), KEEL_KV_FLOAT("load", 0.25),
	            KEEL_KV_FLOAT("nan", NAN), KEEL_KV_BOOL("fatal", true),
	            KEEL_KV_STR("none", NULL),
	            KEEL_KV_SLICE("part", ((keel_str_t){"abcdef", 3})));
	logt_read_json(path, &o);

	cr_assert_eq(o.n, 12);
	cr_assert_str_eq(o.m[0].key, "ts");
	cr_assert(logt_matches(o.m[0].val,
	                       "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}"
	                       ":[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"));
	cr_assert_str_eq(logt_get(&o, "level")->val, "error");
	cr_assert_eq(strtol(logt_get(&o, "pid")->val, NULL, 10),
	             (long)getpid());
	cr_assert_not(logt_get(&o, "pid")->is_str);
	cr_assert_str_eq(logt_get(&o, "msg")->val, "db down");
	cr_assert_str_eq(logt_get(&o, "host")->val, "10.0.0.5");
	cr_assert_str_eq(logt_get(&o, "tries")->val, "-3");
	cr_assert_str_eq(logt_get(&o, "big")->val, "9223372036854775807");
	cr_assert_str_eq(logt_get(&o, "load")->val, "0.25");
	cr_assert_str_eq(logt_get(&o, "nan")->val, "null");
	cr_assert_str_eq(logt_get(&o, "fatal")->val, "true");
	cr_assert_str_eq(logt_get(&o, "none")->val, "null");
	cr_assert_not(logt_get(&o, "none")->is_str);
	cr_assert_str_eq(logt_get(&o, "part")->val, "abc");
	cr_assert(logt_get(&o, "part")->is_str);
	cr_assert_null(logt_get(&o, "truncated"));
	unlink(path);
}

/* ---------------------------------------------------------------- escaping */

Test(log, json_escapes_every_control_char_and_round_trips)
{
	char path[64], msg[160];
	size_t n = 0, len;
	logt_obj_t o;

	for (int c = 1; c < 0x20; c++)
		msg[n++] = (char)c;
	memcpy(msg + n, "\x7f\"\\/ \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 15);
	n += 15;
	msg[n] = '\0';

	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_JSON);
	keel_log(KEEL_LOG_LEVEL_INFO, "%s", msg);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "kv", KEEL_KV_STR("k\n\"", msg));
	char *text = logt_slurp(path, &len);

	/* Raw bytes: no control byte except the two record newlines. */
	for (size_t i = 0; i < len; i++)
		cr_assert(text[i] == '\n' || ((unsigned char)text[i] >= 0x20 &&
		                              text[i] != 0x7f),
		          "raw control byte 0x%02x at %zu", text[i], i);
	cr_assert_eq(logt_count_lines(text, len), 2);
	cr_assert_not_null(strstr(text, "\\u0001\\u0002"));
	cr_assert_not_null(strstr(text, "\\b\\t\\n\\u000b\\f\\r"));
	cr_assert_not_null(strstr(text, "\\u007f\\\"\\\\/"));

	char *second = strchr(text, '\n') + 1;
	second[-1] = '\0';
	char first[4096];
	snprintf(first, sizeof(first), "%s\n", text);
	cr_assert(logt_parse(first, &o), "bad JSON: %s", first);
	cr_assert_str_eq(logt_get(&o, "msg")->val, msg);
	cr_assert(logt_parse(second, &o), "bad JSON: %s", second);
	cr_assert_str_eq(logt_get(&o, "k\n\"")->val, msg);
	free(text);
	unlink(path);
}

Test(log, json_replaces_invalid_utf8)
{
	/* U+FFFD, what every byte of a broken sequence becomes. */
#define LOGT_BAD "\xef\xbf\xbd"
	static const struct {
		const char *in, *out;
	} cases[] = {
	        /* a stray byte */
	        {"a\xff-", "a" LOGT_BAD "-"},
	        /* a sequence cut short */
	        {"\xc3", LOGT_BAD},
	        /* an overlong '/' */
	        {"\xc0\xaf", LOGT_BAD LOGT_BAD},
	        /* a UTF-16 surrogate */
	        {"\xed\xa0\x80", LOGT_BAD LOGT_BAD LOGT_BAD},
	        /* past U+10FFFF */
	        {"\xf4\x90\x80\x80", LOGT_BAD LOGT_BAD LOGT_BAD LOGT_BAD},
	        /* U+10FFFF and U+0800 themselves are fine */
	        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
	        {"\xe0\xa0\x80", "\xe0\xa0\x80"},
	};
#undef LOGT_BAD

	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		char path[64];
		logt_obj_t o;

		logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_JSON);
		keel_log(KEEL_LOG_LEVEL_INFO, "%s", cases[i].in);
		logt_read_json(path, &o);
		cr_assert_str_eq(logt_get(&o, "msg")->val, cases[i].out,
		                 "case %zu", i);
		unlink(path);
	}
}

Test(log, text_escapes_control_chars_so_lines_cannot_be_forged)
{
	char path[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	keel_log(KEEL_LOG_LEVEL_INFO,
	         "GET /x\r\n2026-01-01T00:00:00.000Z error fake\x1b[31m\x7f");
	KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "m", KEEL_KV_STR("v", "a\nb"));
	char *text = logt_slurp(path, &n);

	cr_assert_eq(logt_count_lines(text, n), 2);
	cr_assert_not_null(strstr(text,
	                          "] GET /x\\r\\n2026-01-01T00:00:00.000Z "
	                          "error fake\\x1b[31m\\x7f\n"));
	cr_assert_not_null(strstr(text, "] m v=\"a\\nb\"\n"));
	free(text);
	unlink(path);
}

/* ---------------------------------------------------------------- limits */

Test(log, overlong_text_record_is_cut_with_marker)
{
	char path[64];
	size_t n;
	static char big[10000];

	memset(big, 'a', sizeof(big) - 1);
	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	keel_log(KEEL_LOG_LEVEL_INFO, "%s", big);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, big, KEEL_KV_INT("lost", 1));
	keel_log(KEEL_LOG_LEVEL_INFO, "short");
	char *text = logt_slurp(path, &n);

	cr_assert_eq(logt_count_lines(text, n), 3);
	char *line2 = strchr(text, '\n') + 1;
	size_t len1 = (size_t)(line2 - text);
	cr_assert_leq(len1, KEEL_LOG_LINE_MAX);
	cr_assert_gt(len1, KEEL_LOG_LINE_MAX - 64);
	cr_assert_eq(memcmp(line2 - 16, "a...[truncated]\n", 16), 0);
	char *line3 = strchr(line2, '\n') + 1;
	cr_assert_leq((size_t)(line3 - line2), KEEL_LOG_LINE_MAX);
	cr_assert_eq(memcmp(line3 - 16, "a...[truncated]\n", 16), 0);
	cr_assert_null(strstr(text, "lost"));
	cr_assert(logt_matches(line3, "\\] short\n$"));
	free(text);
	unlink(path);
}

Test(log, message_that_just_fits_has_no_marker)
{
	char path[64];
	size_t n;
	char msg[3000];

	memset(msg, 'b', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	keel_log(KEEL_LOG_LEVEL_INFO, "%s", msg);
	char *text = logt_slurp(path, &n);
	cr_assert_null(strstr(text, "truncated"));
	cr_assert_eq(n,
	             24 + strlen(" info [pid ] ") + 2999 + 1 +
	                     (size_t)snprintf(NULL, 0, "%ld", (long)getpid()));
	free(text);
	unlink(path);
}

Test(log, overlong_json_record_stays_valid_and_says_truncated)
{
	char path[64];
	static char big[6000];
	logt_obj_t o;

	/* Escapes grow 1 byte to 6; the cut must not split one. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = i % 3 ? 'x' : '\x01';
	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_JSON);
	keel_log(KEEL_LOG_LEVEL_INFO, "%s", big);
	logt_read_json(path, &o);
	cr_assert_str_eq(logt_get(&o, "truncated")->val, "true");
	const logt_member_t *msg = logt_get(&o, "msg");
	cr_assert_gt(msg->val_len, 500);
	cr_assert_eq(memcmp(msg->val, big, msg->val_len), 0);
	unlink(path);

	/* A field too big to fit is dropped whole; the ones before stay. */
	memset(big, 'y', sizeof(big) - 1);
	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_JSON);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "m", KEEL_KV_INT("kept", 7),
	            KEEL_KV_STR("huge", big), KEEL_KV_INT("after", 8));
	logt_read_json(path, &o);
	cr_assert_str_eq(logt_get(&o, "kept")->val, "7");
	cr_assert_null(logt_get(&o, "huge"));
	cr_assert_null(logt_get(&o, "after"));
	cr_assert_str_eq(logt_get(&o, "truncated")->val, "true");
	unlink(path);
}

/* ---------------------------------------------------------------- levels */

static int logt_side_effects;

static int logt_bump(void)
{
	return ++logt_side_effects;
}

Test(log, threshold_drops_lower_levels_without_evaluating_arguments)
{
	char path[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_WARN, KEEL_LOG_FORMAT_TEXT);
	cr_assert_eq(keel_log_get_level(), KEEL_LOG_LEVEL_WARN);
	cr_assert_not(keel_log_enabled(KEEL_LOG_LEVEL_INFO));
	cr_assert(keel_log_enabled(KEEL_LOG_LEVEL_ERROR));
	KEEL_LOG_DEBUG("d %d", logt_bump());
	KEEL_LOG_INFO("i %d", logt_bump());
	KEEL_LOG_KV(KEEL_LOG_LEVEL_INFO, "kv", KEEL_KV_INT("n", logt_bump()));
	cr_assert_eq(logt_side_effects, 0);
	KEEL_LOG_WARN("w %d", logt_bump());
	KEEL_LOG_ERROR("e %d", logt_bump());
	keel_log(KEEL_LOG_LEVEL_DEBUG, "direct debug");

	keel_log_set_level(KEEL_LOG_LEVEL_DEBUG);
	KEEL_LOG_DEBUG("d2");
	keel_log_set_level(KEEL_LOG_LEVEL_OFF);
	KEEL_LOG_ERROR("never");
	cr_assert_not(keel_log_enabled(KEEL_LOG_LEVEL_OFF));
	keel_log_set_level((keel_log_level_t)42); /* ignored */
	cr_assert_eq(keel_log_get_level(), KEEL_LOG_LEVEL_OFF);

	char *text = logt_slurp(path, &n);
	cr_assert_eq(logt_count_lines(text, n), 3, "got: %s", text);
	cr_assert(logt_matches(text, "warn \\[pid [0-9]+\\] w 1\n"));
	cr_assert(logt_matches(text, "error \\[pid [0-9]+\\] e 2\n"));
	cr_assert(logt_matches(text, "debug \\[pid [0-9]+\\] d2\n$"));
	free(text);
	unlink(path);
}

Test(log, level_and_format_names_parse)
{
	keel_log_level_t l = KEEL_LOG_LEVEL_ERROR;
	keel_log_format_t f = KEEL_LOG_FORMAT_TEXT;

	cr_assert_eq(keel_log_level_parse("debug", &l), KEEL_OK);
	cr_assert_eq(l, KEEL_LOG_LEVEL_DEBUG);
	cr_assert_eq(keel_log_level_parse("INFO", &l), KEEL_OK);
	cr_assert_eq(l, KEEL_LOG_LEVEL_INFO);
	cr_assert_eq(keel_log_level_parse("Warning", &l), KEEL_OK);
	cr_assert_eq(l, KEEL_LOG_LEVEL_WARN);
	cr_assert_eq(keel_log_level_parse("error", &l), KEEL_OK);
	cr_assert_eq(l, KEEL_LOG_LEVEL_ERROR);
	cr_assert_eq(keel_log_level_parse("off", &l), KEEL_OK);
	cr_assert_eq(l, KEEL_LOG_LEVEL_OFF);
	const char *bad[] = {"", "inf", "infos", " info", "trace", NULL};
	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		cr_assert_eq(keel_log_level_parse(bad[i], &l), KEEL_EINVAL);
		cr_assert_eq(l, KEEL_LOG_LEVEL_OFF, "untouched on error");
	}
	cr_assert_eq(keel_log_format_parse("json", &f), KEEL_OK);
	cr_assert_eq(f, KEEL_LOG_FORMAT_JSON);
	cr_assert_eq(keel_log_format_parse("Text", &f), KEEL_OK);
	cr_assert_eq(f, KEEL_LOG_FORMAT_TEXT);
	cr_assert_eq(keel_log_format_parse("xml", &f), KEEL_EINVAL);
	cr_assert_eq(keel_log_format_parse(NULL, &f), KEEL_EINVAL);
	cr_assert_str_eq(keel_log_level_name(KEEL_LOG_LEVEL_WARN), "warn");
	cr_assert_str_eq(keel_log_level_name((keel_log_level_t)-1), "unknown");
}

/* ---------------------------------------------------------------- files */

Test(log, failed_open_keeps_the_old_destination)
{
	char path[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	cr_assert_eq(keel_log_open("/nonexistent-dir/x.log",
	                           KEEL_LOG_LEVEL_DEBUG, KEEL_LOG_FORMAT_JSON),
	             KEEL_EIO);
	cr_assert_eq(
	        keel_log_open(path, (keel_log_level_t)9, KEEL_LOG_FORMAT_TEXT),
	        KEEL_EINVAL);
	cr_assert_eq(
	        keel_log_open(path, KEEL_LOG_LEVEL_INFO, (keel_log_format_t)7),
	        KEEL_EINVAL);
	KEEL_LOG_DEBUG("filtered: level unchanged");
	KEEL_LOG_INFO("still here");
	char *text = logt_slurp(path, &n);
	cr_assert(logt_matches(text,
	                       "^[^{]* info \\[pid [0-9]+\\] still here\n$"),
	          "got: %s", text);
	free(text);
	unlink(path);
}

Test(log, reopen_after_rename_rotates_and_close_returns_to_stderr)
{
	char path[64], old[80], errpath[64];
	size_t n;

	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	KEEL_LOG_INFO("one");
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(rename(path, old), 0);
	KEEL_LOG_INFO("two"); /* still the renamed file */
	cr_assert_eq(
	        keel_log_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT),
	        KEEL_OK);
	KEEL_LOG_INFO("three");

	logt_tmpfile(errpath);
	int fd = open(errpath, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	keel_log_close();
	KEEL_LOG_INFO("four");

	char *a = logt_slurp(old, &n);
	cr_assert(logt_matches(a, "\\] one\n.*\\] two\n$"), "got: %s", a);
	char *b = logt_slurp(path, &n);
	cr_assert(logt_matches(b, "^[^\n]*\\] three\n$"), "got: %s", b);
	char *c = logt_slurp(errpath, &n);
	cr_assert(logt_matches(c, "^[^\n]*\\] four\n$"), "got: %s", c);
	free(a);
	free(b);
	free(c);
	unlink(old);
	unlink(path);
	unlink(errpath);
}

/*
 * Four processes append 2000 records each to one file.  With one write(2)
 * per record and O_APPEND every line must arrive whole: the right prefix,
 * the full padding, and each (child, sequence) pair exactly once.
 */
Test(log, records_from_many_processes_never_interleave)
{
	enum { CHILDREN = 4, LINES = 2000 };
	static bool seen[CHILDREN][LINES];
	char path[64], pad[301];
	size_t n;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	logt_open(path, KEEL_LOG_LEVEL_INFO, KEEL_LOG_FORMAT_TEXT);
	for (int c = 0; c < CHILDREN; c++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			for (int i = 0; i < LINES; i++)
				keel_log(KEEL_LOG_LEVEL_INFO,
				         "child=%d seq=%d %s", c, i, pad);
			_exit(0);
		}
	}
	for (int c = 0; c < CHILDREN; c++) {
		int status;
		cr_assert_gt(wait(&status), 0);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	char *text = logt_slurp(path, &n);
	cr_assert_eq(logt_count_lines(text, n), CHILDREN * LINES);
	size_t whole = 0;
	for (char *line = text; *line;) {
		char *end = strchr(line, '\n');
		int c, i, off = -1;
		cr_assert_not_null(end);
		*end = '\0';
		char *msg = strstr(line, "] child=");
		cr_assert_not_null(msg, "torn line: %.80s", line);
		cr_assert_eq(sscanf(msg, "] child=%d seq=%d %n", &c, &i, &off),
		             2);
		cr_assert(c >= 0 && c < CHILDREN && i >= 0 && i < LINES);
		cr_assert_str_eq(msg + off, pad, "torn line %d/%d", c, i);
		cr_assert_not(seen[c][i], "duplicate %d/%d", c, i);
		seen[c][i] = true;
		whole++;
		line = end + 1;
	}
	cr_assert_eq(whole, (size_t)CHILDREN * LINES);
	free(text);
	unlink(path);
}
