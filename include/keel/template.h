/*
 * keel/template.h - HTML templates, the T of MVT.  A template set is filled
 * once at start-up (keel_tpl_set_add or keel_tpl_set_load_dir), compiled
 * (keel_tpl_set_compile: names resolved, blocks bound, every output tag
 * given its escaping), and then rendered any number of times with a
 * jansson value as the context.  Rendering never re-parses; it only reads
 * the set, so one compiled set may serve every worker and thread at once.
 *
 * Syntax (Jinja/Django-like):
 *   {{ user.name }}  {{ items[0].title }}  {{ row["key with space"] }}
 *       output; a path looks up object keys and array indexes (a negative
 *       index counts from the end) in loop variables first, then the context
 *   {{ x | default("none") | upper }}   filters: length, upper, lower,
 *       default(v) (when x is missing, null or ""), then optionally one of
 *       the output modes raw (no escaping) and json (print as JSON)
 *   {% if a == "x" and not b %}..{% elif n > 2 %}..{% else %}..{% endif %}
 *       == != < <= > >= (numbers, or strings bytewise), and, or, not, ( );
 *       literals "str" 'str' 42 -1 true false null; falsy: missing, null,
 *       false, 0, "", [] and {}
 *   {% for item in list %}..{% empty %}..{% endfor %}   loop.index (from 1),
 *       loop.index0, loop.revindex, loop.first, loop.last, loop.length;
 *       {% for k, v in obj %} walks an object in stored key order (k, v
 *       over an array gives index and item; one variable over an object
 *       gives its keys); looping over a missing or null value is empty
 *   {% include "partial.html" %}       renders another template here, with
 *       the same context and loop variables
 *   {% extends "base.html" %} + {% block name %}..{% endblock [name] %}
 *       a child overrides its parent's blocks, over any number of levels;
 *       extends comes first and only blocks may follow it
 *   {# comment #}   and a '-' inside any delimiter ({{- x -}}, {%- .. -%})
 *       trims the whitespace on that side.  Write a literal "{{" as
 *       {{ "{{" }}.  Template sources must be valid UTF-8.
 *
 * Auto-escaping.  The compiler follows the HTML around every output tag
 * (tags, quoted attributes, comments, <script>, <style>, <textarea>,
 * <title>) and escapes for that spot:
 *   - text and quoted attribute values: & < > " ' become entities;
 *   - URL attributes (href, src, action, ...): an output that starts the
 *     value is checked at render time; a value with a scheme other than
 *     http, https, mailto or tel (javascript:, data:, ...) is replaced by
 *     "about:invalid#keel-blocked".  After a literal "/", "?", "#" or safe
 *     scheme the value is just escaped; an output after other literal text
 *     of the scheme part, or after a literal unsafe scheme, does not compile;
 *   - <script type="application/json"> (or ld+json) data blocks accept only
 *     {{ x | json }}, with < > & written as \u003c \u003e \u0026 (in text
 *     and attributes | json output is entity-escaped like any other);
 *   - everywhere else the compiler refuses a plain output tag: inside a tag
 *     or an unquoted attribute value, in event handler (on*), style and
 *     srcdoc attributes, in executable <script> and in <style>.
 * `| raw` is the explicit opt-in that prints as is anywhere.  Numbers and
 * booleans print plainly, null and missing values as nothing (a render
 * error in strict mode), arrays and objects only through | json or | length.
 * An {% if %} or {% for %} whose branches end in different HTML contexts,
 * and an include outside HTML text, are compile errors too.
 *
 * Errors carry the template name, a 1-based line and column (in
 * characters) and a message; compile errors point at the offending tag,
 * render errors at the tag being rendered.
 */
#ifndef KEEL_TEMPLATE_H
#define KEEL_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "keel/buf.h"
#include "keel/common.h"
#include "keel/res.h"

/** A set of templates that may include and extend each other; opaque. */
typedef struct keel_tpl_set keel_tpl_set_t;

/** Default render nesting limit (includes, blocks, statements). */
#define KEEL_TPL_MAX_DEPTH_DEFAULT      64
/** Default limit on loop iterations during one render. */
#define KEEL_TPL_MAX_ITERATIONS_DEFAULT 1000000u

/** Options of a set; `{0}` (or a NULL pointer) gives the defaults. */
typedef struct keel_tpl_opts {
	bool strict;             /* printing a missing value is an error */
	unsigned max_depth;      /* 0: KEEL_TPL_MAX_DEPTH_DEFAULT */
	uint64_t max_iterations; /* 0: KEEL_TPL_MAX_ITERATIONS_DEFAULT */
} keel_tpl_opts_t;

/** Where and why a template failed; filled by every call that takes one. */
typedef struct keel_tpl_error {
	int code;           /* the KEEL_E* value the call returned */
	unsigned line, col; /* 1-based position; 0 when not tied to one */
	char name[128];     /* template name, truncated; "" when none */
	char msg[192];      /* what went wrong, in English */
} keel_tpl_error_t;

/** New empty set with a copy of `opts` (NULL: defaults); NULL on ENOMEM. */
KEEL_API keel_tpl_set_t *keel_tpl_set_new(const keel_tpl_opts_t *opts);
/** Free the set and every template in it; NULL is ignored. */
KEEL_API void keel_tpl_set_free(keel_tpl_set_t *set);

/**
 * Copy and parse `len` bytes of `src` as template `name`.  Syntax errors
 * fail here (KEEL_EINVAL, with line and column); KEEL_EEXIST for a name
 * already added, KEEL_ELIMIT past 16 MiB, KEEL_ESTATE once compiled.
 */
KEEL_API int keel_tpl_set_add(keel_tpl_set_t *set, const char *name,
                              const char *src, size_t len,
                              keel_tpl_error_t *err);
/**
 * Add every regular file under `dir` (skipping names that begin with '.'),
 * named by its path relative to `dir`, e.g. "partials/nav.html".  Errors
 * as keel_tpl_set_add, plus KEEL_ENOENT / KEEL_EIO for unreadable paths.
 */
KEEL_API int keel_tpl_set_load_dir(keel_tpl_set_t *set, const char *dir,
                                   keel_tpl_error_t *err);
/**
 * Resolve includes and extends, bind blocks and decide the escaping of
 * every output tag.  KEEL_ENOENT for a missing template; KEEL_EINVAL for an
 * extends cycle, an unconditional include cycle or an output tag in a spot
 * it cannot be made safe in.  May be retried after adding what was missing.
 */
KEEL_API int keel_tpl_set_compile(keel_tpl_set_t *set, keel_tpl_error_t *err);
/** True when the set holds a template called `name`. */
KEEL_API bool keel_tpl_set_has(const keel_tpl_set_t *set, const char *name);

/**
 * Render `name` with context `ctx` (an object, or NULL for none) appending
 * to `out`.  On failure `out` is left as it was: KEEL_ESTATE before
 * compile, KEEL_ENOENT for an unknown name, KEEL_EINVAL for a bad value
 * (iterating a number, printing an array...), KEEL_ELIMIT for the depth,
 * iteration or buffer cap, KEEL_ENOMEM.
 */
KEEL_API int keel_tpl_render(const keel_tpl_set_t *set, const char *name,
                             const json_t *ctx, keel_buf_t *out,
                             keel_tpl_error_t *err);
/**
 * Render `name` as the body of `res` with status 200 and Content-Type
 * text/html; charset=utf-8, returning 200; on failure log the error and
 * answer 500 (no details to the client), returning 500.
 */
KEEL_API int keel_tpl_respond(const keel_tpl_set_t *set, keel_res_t *res,
                              const char *name, const json_t *ctx);

#endif
