/*
 * application/x-www-form-urlencoded bodies: counted, decoded in one pass
 * into the arena, then looked up by name.
 */
#include <string.h>

#include "keel/form.h"
#include "keel/http.h"
#include "keel/req.h"
#include "keel/utf8.h"

/* UTF-8 without NUL: %00 is refused by the decoder, and a raw NUL byte
 * must not slip past it either. */
static bool valid_text(keel_str_t s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	for (size_t i = 0; i < s.len;) {
		size_t n = keel_utf8_seq(p + i, s.len - i);
		if (n == 0 || p[i] == 0)
			return false;
		i += n;
	}
	return true;
}

/* Non-empty '&'-separated pairs, counting no further than `stop`. */
static size_t count_pairs(keel_str_t body, size_t stop)
{
	size_t n = 0;
	while (body.len > 0 && n < stop)
		if (keel_str_cut(&body, '&').len > 0)
			n++;
	return n;
}

/*
 * Counting first means an oversized form is refused before any memory is
 * taken, and the field array is allocated once at its exact size.  All
 * decoded text shares one buffer of body.len bytes: decoding never
 * lengthens a pair, so it cannot overflow.
 */
int keel_form_parse(keel_arena_t *a, keel_str_t body, size_t max_fields,
                    keel_form_t *form)
{
	form->fields = NULL;
	form->count = 0;
	size_t n = count_pairs(body, max_fields < SIZE_MAX ? max_fields + 1
	                                                   : SIZE_MAX);
	if (n > max_fields)
		return KEEL_ELIMIT;
	keel_form_field_t *fields =
	        keel_arena_calloc(a, n ? n : 1, sizeof(*fields));
	char *buf = keel_arena_alloc(a, body.len);
	if (!fields || !buf)
		return KEEL_ENOMEM;
	keel_http_query_iter_t it;
	keel_http_query_init(&it, body);
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		keel_form_field_t *f = &fields[i];
		if (keel_http_query_next(&it, buf + used, body.len - used,
		                         &f->name, &f->value) != KEEL_OK ||
		    !valid_text(f->name) || !valid_text(f->value))
			return KEEL_EINVAL;
		used += f->name.len + f->value.len;
	}
	form->fields = fields;
	form->count = n;
	return KEEL_OK;
}

/* The media type before any parameters, compared without case. */
static bool is_urlencoded(const keel_req_t *req)
{
	keel_str_t ct;
	if (keel_req_header(req, "Content-Type", &ct) != KEEL_OK)
		return false;
	keel_str_t type = keel_str_trim(keel_str_cut(&ct, ';'));
	return keel_str_eq_nocase(
	        type, KEEL_STR("application/x-www-form-urlencoded"));
}

int keel_req_form(keel_req_t *req, keel_form_t *form)
{
	form->fields = NULL;
	form->count = 0;
	if (!is_urlencoded(req))
		return 415;
	int rc = keel_form_parse(keel_req_arena(req), keel_req_body(req),
	                         KEEL_FORM_MAX_FIELDS, form);
	switch (rc) {
	case KEEL_OK: return 0;
	case KEEL_ELIMIT: return 413;
	case KEEL_ENOMEM: return 500;
	default: return 400;
	}
}

int keel_form_next(const keel_form_t *form, const char *name, size_t *pos,
                   keel_str_t *value)
{
	keel_str_t want = keel_str_from_cstr(name);
	for (size_t i = *pos; i < form->count; i++) {
		if (keel_str_eq(form->fields[i].name, want)) {
			*value = form->fields[i].value;
			*pos = i + 1;
			return KEEL_OK;
		}
	}
	*pos = form->count;
	return KEEL_ENOENT;
}

int keel_form_get(const keel_form_t *form, const char *name, keel_str_t *value)
{
	size_t pos = 0;
	return keel_form_next(form, name, &pos, value);
}
