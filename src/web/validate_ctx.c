/*
 * The state of one validation walk: the path of the value being checked
 * ("profile.links[3].url"), kept in a fixed buffer and cut back on the way
 * out, and how an error at that path is recorded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "validate_int.h"

void keel__vctx_init(keel__vctx_t *c, keel_arena_t *arena, keel_verrors_t *errs)
{
	c->arena = arena;
	c->errs = errs;
	c->rc = 0;
	c->depth = 0;
	c->plen = 0;
	c->path[0] = '\0';
}

/*
 * Paths carry client-chosen keys (an unknown field is reported by name),
 * so they are bounded; the cut falls on a code point boundary so the
 * error body stays valid UTF-8.
 */
static void append(keel__vctx_t *c, const char *s, size_t len)
{
	size_t room = KEEL_VPATH_MAX - c->plen;
	if (len > room) {
		len = room;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(c->path + c->plen, s, len);
	c->plen += len;
	c->path[c->plen] = '\0';
}

size_t keel__vpath_key(keel__vctx_t *c, const char *name, size_t len)
{
	size_t old = c->plen;
	if (old > 0)
		append(c, ".", 1);
	append(c, name, len);
	return old;
}

size_t keel__vpath_index(keel__vctx_t *c, size_t i)
{
	char num[32];
	size_t old = c->plen;
	int n = snprintf(num, sizeof(num), "[%zu]", i);
	append(c, num, (size_t)n);
	return old;
}

void keel__vpath_pop(keel__vctx_t *c, size_t len)
{
	c->plen = len;
	c->path[len] = '\0';
}

void keel__verror(keel__vctx_t *c, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int rc = keel_verrors_add(c->errs, c->path, msg);
	if (rc == KEEL_ENOMEM && c->rc == 0)
		c->rc = rc;
}

bool keel__vstop(const keel__vctx_t *c)
{
	return c->rc != 0 || c->errs->truncated;
}

void keel__vpresence(const keel_field_t *f, void *obj, keel_presence_t st)
{
	if (f->presence)
		memcpy((char *)obj + f->presence - 1, &st, sizeof(st));
}

size_t keel__vslot_size(const keel_field_t *f)
{
	switch (f->type) {
	case KEEL_T_STRING: return sizeof(keel_str_t);
	case KEEL_T_INT: return sizeof(int64_t);
	case KEEL_T_NUMBER: return sizeof(double);
	case KEEL_T_BOOL: return sizeof(bool);
	case KEEL_T_ENUM: return sizeof(int);
	case KEEL_T_OBJECT: return f->object ? f->object->struct_size : 0;
	case KEEL_T_ARRAY: return sizeof(keel_array_t);
	}
	return 0;
}

const char *keel__vtype_noun(keel_type_t type)
{
	switch (type) {
	case KEEL_T_STRING: return "a string";
	case KEEL_T_INT: return "an integer";
	case KEEL_T_NUMBER: return "a number";
	case KEEL_T_BOOL: return "a boolean";
	case KEEL_T_ENUM: return "a string";
	case KEEL_T_OBJECT: return "an object";
	case KEEL_T_ARRAY: return "an array";
	}
	return "valid";
}
