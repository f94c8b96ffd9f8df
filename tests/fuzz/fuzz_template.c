/*
 * fuzz_template - random template source, rendered with a hostile context.
 *
 * Input: template source, optionally followed by a NUL byte and a JSON
 * context; without one (or when it does not parse) a built-in context is
 * used whose every string and key holds the marker "<\x7f".  Two extra
 * templates, "p" (a partial) and "base" (a layout with blocks in text, a
 * URL attribute and a JSON data block), let the input include and extend.
 *
 * Rules checked: nothing crashes or leaks (the sanitizers), compile or
 * render fail cleanly, a failed render leaves the buffer as it was, and -
 * unless the template says "raw" or holds a DEL byte itself - the marker
 * never reaches the output unescaped: a '<' from the data is never raw.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARK "<\x7f"

static json_t *hostile_context(void)
{
	static json_t *ctx;
	if (ctx == NULL)
		ctx = json_pack(
		        "{s:s, s:s, s:s, s:i, s:f, s:b, s:n, s:[s,s,{s:s}],"
		        " s:{s:s, s:[s]}, s:{s:{s:[s]}}}",
		        "x", MARK, "s", MARK "\"'&", "u",
		        "javascript:alert(1)" MARK, "n", 3, "r", 2.5, "b", 1,
		        "z", "xs", MARK, MARK "2", "a", MARK, "o", MARK, MARK,
		        "k", MARK, "deep", "a", "b", MARK);
	return ctx;
}

static bool contains(const uint8_t *s, size_t n, const char *what)
{
	size_t k = strlen(what);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, what, k) == 0)
			return true;
	return false;
}

static keel_tpl_set_t *make_set(const uint8_t *src, size_t n)
{
	static const char partial[] = "<b title=\"{{ x }}\">{{ x }}</b>";
	static const char base[] =
	        "<title>{% block t %}{% endblock %}</title>"
	        "<a href=\"{% block u %}/{% endblock %}\">{% block body %}x"
	        "{% endblock %}</a><script type=\"application/json\">"
	        "{% block data %}{% endblock %}</script>";
	keel_tpl_opts_t opts = {.max_iterations = 20000};
	keel_tpl_set_t *set = keel_tpl_set_new(&opts);
	if (set == NULL)
		abort();
	keel_tpl_set_add(set, "p", partial, sizeof partial - 1, NULL);
	keel_tpl_set_add(set, "base", base, sizeof base - 1, NULL);
	if (keel_tpl_set_add(set, "t", (const char *)src, n, NULL) != 0 ||
	    keel_tpl_set_compile(set, NULL) != 0) {
		keel_tpl_set_free(set);
		return NULL;
	}
	return set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t n = nul != NULL ? (size_t)(nul - data) : size;
	json_t *own = NULL;
	if (nul != NULL)
		own = json_loadb((const char *)nul + 1, size - n - 1,
		                 JSON_DECODE_ANY, NULL);
	keel_tpl_set_t *set = make_set(data, n);
	if (set != NULL) {
		keel_buf_t out;
		keel_buf_init(&out, 1 << 20);
		keel_buf_append(&out, "pre", 3);
		keel_tpl_error_t err;
		int rc = keel_tpl_render(
		        set, "t", own ? own : hostile_context(), &out, &err);
		if (rc != 0 && (out.len != 3 || err.code != rc))
			abort();
		bool checkable = own == NULL && !contains(data, n, "raw") &&
		                 memchr(data, 0x7f, n) == NULL;
		if (rc == 0 && checkable &&
		    contains((const uint8_t *)out.data, out.len, MARK))
			abort();
		keel_buf_deinit(&out);
		keel_tpl_set_free(set);
	}
	json_decref(own);
	return 0;
}
