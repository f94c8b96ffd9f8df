/*
 * The rules of one scalar value - string lengths, blank, enum, format,
 * pattern; number bounds - and the strict text parsers that turn a query
 * string, header or default into a typed value.  JSON bodies and
 * parameters end up here alike, so both speak the same messages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keel/utf8.h"
#include "validate_int.h"

/* Bounds print as integers when they are ("maximum is 100"), not "1e+02". */
static const char *num_text(double v, char buf[32])
{
	if (v > -1e15 && v < 1e15 && (double)(int64_t)v == v)
		snprintf(buf, 32, "%lld", (long long)v);
	else
		snprintf(buf, 32, "%.17g", v);
	return buf;
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n\f\v", s[i]))
			return false;
	return true;
}

static int enum_index(const char *const *values, const char *s, size_t len)
{
	for (int i = 0; values && values[i]; i++)
		if (strlen(values[i]) == len && memcmp(values[i], s, len) == 0)
			return i;
	return -1;
}

/* The first length or content rule `s` breaks, reported; false if any. */
static bool shape_ok(keel__vctx_t *c, const keel_field_t *f, const char *s,
                     size_t len)
{
	size_t n;
	if (memchr(s, '\0', len) ||
	    keel_utf8_count((keel_str_t){s, len}, &n) < 0)
		keel__verror(c, "is invalid");
	else if (f->not_blank && is_blank(s, len))
		keel__verror(c, "can't be blank");
	else if (n < f->min_len)
		keel__verror(c, "is too short (minimum is %zu character%s)",
		             f->min_len, f->min_len == 1 ? "" : "s");
	else if (f->max_len && n > f->max_len)
		keel__verror(c, "is too long (maximum is %zu character%s)",
		             f->max_len, f->max_len == 1 ? "" : "s");
	else if (f->enum_values && enum_index(f->enum_values, s, len) < 0)
		keel__verror(c, "is not included in the list");
	else if (!keel__format_ok(f->format, s, len))
		keel__verror(c, "is invalid");
	else
		return true;
	return false;
}

/*
 * Checks run cheapest first and stop at the first failure, so a field gets
 * one message; the pattern runs last on the arena copy, which is also the
 * NUL-terminated string regexec needs.
 */
void keel__vstring(keel__vctx_t *c, const keel_field_t *f, const char *s,
                   size_t len, void *slot)
{
	if (!shape_ok(c, f, s, len))
		return;
	if (f->type == KEEL_T_ENUM) {
		int idx = enum_index(f->enum_values, s, len);
		memcpy(slot, &idx, sizeof(idx));
		return;
	}
	char *copy = keel_arena_strndup(c->arena, (keel_str_t){s, len});
	if (!copy) {
		c->rc = KEEL_ENOMEM;
		return;
	}
	if (f->pattern) {
		int m = keel__pattern_match(f->pattern, copy);
		if (m < 0)
			c->rc = c->rc ? c->rc : m;
		if (m == 0)
			keel__verror(c, "is invalid");
		if (m != 1)
			return;
	}
	keel_str_t v = {copy, len};
	memcpy(slot, &v, sizeof(v));
}

/* True when v is inside f's bounds; reports the broken one otherwise. */
static bool in_bounds(keel__vctx_t *c, const keel_field_t *f, double v)
{
	char num[32];
	if (f->has_min && v < f->min) {
		keel__verror(c, "must be greater than or equal to %s",
		             num_text(f->min, num));
		return false;
	}
	if (f->has_max && v > f->max) {
		keel__verror(c, "must be less than or equal to %s",
		             num_text(f->max, num));
		return false;
	}
	return true;
}

void keel__vint(keel__vctx_t *c, const keel_field_t *f, int64_t v, void *slot)
{
	if (in_bounds(c, f, (double)v))
		memcpy(slot, &v, sizeof(v));
}

void keel__vnumber(keel__vctx_t *c, const keel_field_t *f, double v, void *slot)
{
	if (!isfinite(v))
		keel__verror(c, "must be a number");
	else if (in_bounds(c, f, v))
		memcpy(slot, &v, sizeof(v));
}

/*
 * strtod alone would take " 1", "inf", "nan", "0x1p4" and locale commas;
 * a parameter must be a plain decimal, so the characters are vetted first
 * and the whole text must be consumed.
 */
static bool parse_number(keel_str_t t, double *out)
{
	char buf[64];
	if (t.len == 0 || t.len >= sizeof(buf))
		return false;
	for (size_t i = 0; i < t.len; i++)
		if (!strchr("0123456789+-.eE", t.ptr[i]) || t.ptr[i] == '\0')
			return false;
	memcpy(buf, t.ptr, t.len);
	buf[t.len] = '\0';
	char *end;
	*out = strtod(buf, &end);
	return end == buf + t.len && isfinite(*out);
}

static int parse_bool(keel_str_t t, bool *out)
{
	if (keel_str_eq(t, KEEL_STR("true")) || keel_str_eq(t, KEEL_STR("1")))
		*out = true;
	else if (keel_str_eq(t, KEEL_STR("false")) ||
	         keel_str_eq(t, KEEL_STR("0")))
		*out = false;
	else
		return KEEL_EINVAL;
	return 0;
}

void keel__vtext(keel__vctx_t *c, const keel_field_t *f, keel_str_t text,
                 void *slot)
{
	int64_t i;
	double d;
	bool b;
	switch (f->type) {
	case KEEL_T_STRING:
	case KEEL_T_ENUM: keel__vstring(c, f, text.ptr, text.len, slot); return;
	case KEEL_T_INT:
		if (keel_str_to_i64(text, &i) == 0)
			keel__vint(c, f, i, slot);
		else
			keel__verror(c, "must be an integer");
		return;
	case KEEL_T_NUMBER:
		if (parse_number(text, &d))
			keel__vnumber(c, f, d, slot);
		else
			keel__verror(c, "must be a number");
		return;
	case KEEL_T_BOOL:
		if (parse_bool(text, &b) == 0)
			memcpy(slot, &b, sizeof(b));
		else
			keel__verror(c, "must be a boolean");
		return;
	case KEEL_T_OBJECT:
	case KEEL_T_ARRAY: break;
	}
	keel__verror(c, "is invalid");
}
