/*
 * From the raw path of a request-target to the path the router and the
 * static file server may trust: percent-decoded exactly once, dot segments
 * removed after decoding (so "%2e%2e" is ".." too), and nothing left that
 * could change meaning in a later layer.
 */
#include "http/internal.h"
#include "keel/utf8.h"

/*
 * The decoded byte of "%XX" at s[i], or -1.  An escape that would produce
 * a control byte, '/' or '\' is refused: "%2F" would let one segment
 * carry a separator past the router and "%5C" is a separator to Windows
 * tools and some proxies; "%00" ends strings in C and "%0A" forges log
 * lines.  RFC 3986 allows all of them; no honest client needs them.
 */
static int unescape(keel_str_t s, size_t i)
{
	if (i + 2 >= s.len)
		return -1;
	int hi = keel__http_hexval((unsigned char)s.ptr[i + 1]);
	int lo = keel__http_hexval((unsigned char)s.ptr[i + 2]);
	if (hi < 0 || lo < 0)
		return -1;
	int c = hi * 16 + lo;
	if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
		return -1;
	return c;
}

/*
 * Decode one raw segment s[from..to) (no '/') to out[*w...].  Raw bytes
 * must be path bytes, as in a request-target.
 */
static bool decode_segment(keel_str_t s, size_t from, size_t to, char *out,
                           size_t *w)
{
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!keel__http_is(c, KEEL__HTTP_PATH))
			return false;
		if (c == '%') {
			int v = unescape(s, i);
			if (v < 0 || i + 2 >= to)
				return false;
			c = (unsigned char)v;
			i += 2;
		}
		out[(*w)++] = (char)c;
	}
	return true;
}

/* Drop the last segment of out[0..*w), the effect of "..". */
static bool pop_segment(const char *out, size_t *w)
{
	if (*w == 0)
		return false; /* above the root: refused, not clamped */
	while (out[*w - 1] != '/')
		(*w)--;
	(*w)--;
	return true;
}

/* A decoded segment of one or two dots. */
static int dots(const char *seg, size_t n)
{
	if (n == 1 && seg[0] == '.')
		return 1;
	return n == 2 && seg[0] == '.' && seg[1] == '.' ? 2 : 0;
}

/*
 * RFC 3986 5.2.4 done one segment at a time: each segment is decoded onto
 * the output, then taken back if it was "." or "..".  A path ending in a
 * dot segment keeps its trailing '/', as the RFC's algorithm does.  The
 * output never outgrows the input, which lets out_cap be raw.len.
 */
int keel_http_path_decode(keel_str_t raw, char *out, size_t out_cap,
                          size_t *out_len)
{
	if (out_cap < raw.len)
		return KEEL_ENOMEM;
	if (raw.len == 0 || raw.ptr[0] != '/')
		return KEEL_EINVAL;
	size_t w = 0, i = 0;
	int last = 0;
	while (i < raw.len) {
		size_t end = i + 1;
		while (end < raw.len && raw.ptr[end] != '/')
			end++;
		size_t seg = w;
		out[w++] = '/';
		if (!decode_segment(raw, i + 1, end, out, &w))
			return KEEL_EINVAL;
		last = dots(out + seg + 1, w - seg - 1);
		if (last != 0)
			w = seg;
		if (last == 2 && !pop_segment(out, &w))
			return KEEL_EINVAL;
		i = end;
	}
	if (last != 0 || w == 0)
		out[w++] = '/';
	/* Strict UTF-8: overlong forms such as "%C0%AE" for '.' are the
	 * classic way to slip a dot segment past a lenient decoder. */
	if (!keel_utf8_valid((keel_str_t){out, w}))
		return KEEL_EINVAL;
	*out_len = w;
	return KEEL_OK;
}
