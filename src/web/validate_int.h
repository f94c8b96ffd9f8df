/*
 * src/web/validate_int.h - internal: the state one validation walk carries
 * (arena, error list, the path of the value being checked) and the rule
 * checks shared by the body walker, the parameter reader and the spec
 * checker.  Not installed.
 */
#ifndef KEEL_WEB_VALIDATE_INT_H
#define KEEL_WEB_VALIDATE_INT_H

#include "keel/validate.h"

/** One walk: where memory and errors go, and the path being checked. */
typedef struct keel__vctx {
	keel_arena_t *arena;
	keel_verrors_t *errs;
	int rc;    /* first hard failure (KEEL_ENOMEM, KEEL_ESTATE), else 0 */
	int depth; /* objects and arrays entered */
	size_t plen;
	char path[KEEL_VPATH_MAX + 1];
} keel__vctx_t;

/** Deepest nesting a walk enters; only recursive specs can reach it. */
#define KEEL__VDEPTH_MAX 64

/** Start a walk with an empty path. */
void keel__vctx_init(keel__vctx_t *c, keel_arena_t *arena,
                     keel_verrors_t *errs);
/** Append ".name" (or "name" at the root) to the path; returns old length. */
size_t keel__vpath_key(keel__vctx_t *c, const char *name, size_t len);
/** Append "[i]" to the path; returns the old length. */
size_t keel__vpath_index(keel__vctx_t *c, size_t i);
/** Cut the path back to a length a push returned. */
void keel__vpath_pop(keel__vctx_t *c, size_t len);
/** Record `msg` at the current path; failures go to c->rc. */
void keel__verror(keel__vctx_t *c, const char *fmt, ...) KEEL_PRINTF(2, 3);
/** True once the walk should stop: a hard failure or a full error list. */
bool keel__vstop(const keel__vctx_t *c);

/** Store `st` in the field's presence member, if it has one. */
void keel__vpresence(const keel_field_t *f, void *obj, keel_presence_t st);
/** "a string", "an integer"...: what a value of `type` must be. */
const char *keel__vtype_noun(keel_type_t type);
/** Bytes a value of field `f` takes in its struct or array. */
size_t keel__vslot_size(const keel_field_t *f);

/** Check a string against f's rules and store an arena copy in *slot. */
void keel__vstring(keel__vctx_t *c, const keel_field_t *f, const char *s,
                   size_t len, void *slot);
/** Check an integer against f's bounds and store it. */
void keel__vint(keel__vctx_t *c, const keel_field_t *f, int64_t v, void *slot);
/** Check a number against f's bounds and store it. */
void keel__vnumber(keel__vctx_t *c, const keel_field_t *f, double v,
                   void *slot);
/**
 * Parse parameter or default text as f's scalar type, then check and
 * store it as the functions above do.
 */
void keel__vtext(keel__vctx_t *c, const keel_field_t *f, keel_str_t text,
                 void *slot);

/**
 * Search NUL-terminated `s` with the cached compiled `pattern`: 1 on a
 * match, 0 on none, KEEL_ESTATE when the pattern does not compile,
 * KEEL_ENOMEM.
 */
int keel__pattern_match(const char *pattern, const char *s);
/** True when `s` has the shape `fmt` asks for. */
bool keel__format_ok(keel_format_t fmt, const char *s, size_t len);

/* True once keel_verrors_set_format chose a validation-specific format;
 * otherwise validation answers in the app's one error format (mw.h). */
bool keel__verrors_format_chosen(void);

#endif
