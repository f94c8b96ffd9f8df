/*
 * Writing file names into places with their own syntax.  A file may be
 * called `"><script>` or `a b?c#d`: in a URL every byte outside the
 * unreserved set is percent-encoded (which also makes it safe inside an
 * HTML attribute), and in HTML text the five characters with meaning are
 * replaced by character references.
 */
#include "static_int.h"

static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int keel__static_url_encode(keel_buf_t *b, keel_str_t s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		int rc;
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			rc = keel_buf_append_char(b, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = keel_buf_append(b, esc, 3);
		}
		if (rc < 0)
			return rc;
	}
	return KEEL_OK;
}

int keel__static_html_escape(keel_buf_t *b, keel_str_t s)
{
	for (size_t i = 0; i < s.len; i++) {
		const char *ref = NULL;
		switch (s.ptr[i]) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\'': ref = "&#39;"; break;
		default: break;
		}
		int rc = ref ? keel_buf_append_str(b, keel_str_from_cstr(ref))
		             : keel_buf_append_char(b, s.ptr[i]);
		if (rc < 0)
			return rc;
	}
	return KEEL_OK;
}
