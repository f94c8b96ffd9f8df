/*
 * The request JSON body reader: media-type and depth checks in front of
 * jansson, errors turned into statuses and safe messages, the parsed tree
 * tied to the request's lifetime; plus typed getters for handlers.
 */
#include "keel/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "keel/req.h"

/*
 * RFC 8259 defines no parameters for application/json, but clients send
 * "; charset=utf-8" so often that refusing it would be pedantry.  Any
 * other parameter or charset means the sender believes the body is
 * something keel would misread: 415.  Type, names and the charset value
 * are case-insensitive; the value may be quoted; empty parameters (";;")
 * are allowed by RFC 9110's grammar.
 */
static bool is_json_media_type(keel_str_t v)
{
	keel_str_t type = keel_str_trim(keel_str_cut(&v, ';'));
	if (!keel_str_eq_nocase(type, KEEL_STR("application/json")))
		return false;
	while (v.len > 0) {
		keel_str_t param = keel_str_trim(keel_str_cut(&v, ';'));
		if (param.len == 0)
			continue;
		keel_str_t name = keel_str_cut(&param, '=');
		if (!keel_str_eq_nocase(name, KEEL_STR("charset")))
			return false;
		if (!keel_str_eq_nocase(param, KEEL_STR("utf-8")) &&
		    !keel_str_eq_nocase(param, KEEL_STR("\"utf-8\"")))
			return false;
	}
	return true;
}

/*
 * jansson's parser recurses once per nesting level and allows 2048 of
 * them, about 600 KiB of stack: far more than a 128 KiB handler
 * coroutine has.  So brackets are counted before jansson sees the body.
 * Strings are skipped the way jansson's lexer reads them (a backslash
 * escapes the next byte); on malformed input the two may disagree only
 * after the point where jansson stops with an error, so jansson never
 * nests deeper than this count.
 */
size_t keel_json_depth(keel_str_t body)
{
	size_t depth = 0, max = 0;
	bool in_string = false;
	for (size_t i = 0; i < body.len; i++) {
		char c = body.ptr[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				max = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return max;
}

/* Fills *err (when there is one) and returns `rc`, for one-line exits. */
KEEL_PRINTF(4, 5)
static int refuse(keel_json_error_t *err, int rc, int status, const char *fmt,
                  ...)
{
	if (err == NULL)
		return rc;
	err->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * jansson's error text may quote the offending input ("near '...'"),
 * which can be any bytes; the message goes into a JSON error body and a
 * log line, so everything outside printable ASCII becomes '?'.
 */
static void sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* A failed json_loadb as a keel code, status and message. */
static int parse_error(const json_error_t *je, keel_json_error_t *err)
{
	char text[JSON_ERROR_TEXT_LENGTH];
	enum json_error_code code = json_error_code(je);
	if (code == json_error_out_of_memory)
		return refuse(err, KEEL_ENOMEM, 500, "out of memory");
	if (code == json_error_stack_overflow)
		return refuse(err, KEEL_ELIMIT, 400, "JSON nested too deeply");
	if (code == json_error_null_character)
		snprintf(text, sizeof(text), "\\u0000 is not allowed");
	else
		snprintf(text, sizeof(text), "%.*s",
		         (int)(JSON_ERROR_TEXT_LENGTH - 2), je->text);
	sanitize(text);
	if (err != NULL) {
		err->line = je->line;
		err->column = je->column;
		err->position = je->position > 0 ? (size_t)je->position : 0;
	}
	return refuse(err, KEEL_EINVAL, 400,
	              "invalid JSON at line %d, column %d (byte %d): %s",
	              je->line, je->column, je->position, text);
}

static void release_json(void *json)
{
	json_decref(json);
}

/*
 * The order of the checks puts the cheap ones first and the ones that
 * protect jansson (depth) before jansson runs.
 */
int keel_req_json(keel_req_t *req, json_t **out, keel_json_error_t *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	keel_str_t ct, body = keel_req_body(req);
	if (keel_req_header(req, "Content-Type", &ct) != 0 ||
	    !is_json_media_type(ct))
		return refuse(err, KEEL_ENOENT, 415,
		              "Content-Type must be application/json");
	if (body.len == 0)
		return refuse(err, KEEL_EINVAL, 400, "request body is empty");
	if (keel_json_depth(body) > KEEL_JSON_MAX_DEPTH)
		return refuse(err, KEEL_ELIMIT, 400,
		              "JSON nested deeper than %d levels",
		              KEEL_JSON_MAX_DEPTH);
	json_error_t je;
	json_t *json =
	        json_loadb(body.ptr, body.len,
	                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (json == NULL)
		return parse_error(&je, err);
	if (keel_arena_defer(keel_req_arena(req), release_json, json) != 0) {
		json_decref(json);
		return refuse(err, KEEL_ENOMEM, 500, "out of memory");
	}
	*out = json;
	return 0;
}

/* The member `key` of `obj`, or NULL when absent or obj is no object. */
static json_t *member(const json_t *obj, const char *key)
{
	if (obj == NULL || key == NULL || !json_is_object(obj))
		return NULL;
	return json_object_get(obj, key);
}

int keel_json_get_str(const json_t *obj, const char *key, keel_str_t *out)
{
	json_t *v = member(obj, key);
	if (v == NULL)
		return KEEL_ENOENT;
	if (!json_is_string(v))
		return KEEL_EINVAL;
	*out = (keel_str_t){json_string_value(v), json_string_length(v)};
	return 0;
}

int keel_json_get_int(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = member(obj, key);
	if (v == NULL)
		return KEEL_ENOENT;
	if (!json_is_integer(v))
		return KEEL_EINVAL;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int keel_json_get_double(const json_t *obj, const char *key, double *out)
{
	json_t *v = member(obj, key);
	if (v == NULL)
		return KEEL_ENOENT;
	if (!json_is_number(v))
		return KEEL_EINVAL;
	*out = json_number_value(v);
	return 0;
}

int keel_json_get_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v = member(obj, key);
	if (v == NULL)
		return KEEL_ENOENT;
	if (!json_is_boolean(v))
		return KEEL_EINVAL;
	*out = json_is_true(v);
	return 0;
}
