/*
 * Entity-tag lists (RFC 9110 8.8.3, 13.1): what If-None-Match, If-Match
 * and If-Range carry.  A tag is an opaque quoted string, optionally marked
 * weak with "W/".  Strong comparison (If-Range, If-Match) requires both
 * tags strong and equal; weak comparison (If-None-Match) ignores the mark.
 */
#include "keel/static.h"

/* etagc: '!' and '#'..'~' and obs-text; no space, no '"', no controls. */
static bool is_etagc(unsigned char ch)
{
	return ch == 0x21 || (ch >= 0x23 && ch <= 0x7e) || ch >= 0x80;
}

/*
 * Take one entity-tag from the start of *s: *weak tells whether it was
 * marked, *tag gets the quoted part (quotes included).  False when the
 * bytes there are not a tag.
 */
static bool take_tag(keel_str_t *s, bool *weak, keel_str_t *tag)
{
	size_t i = 0;
	*weak = s->len >= 2 && s->ptr[0] == 'W' && s->ptr[1] == '/';
	if (*weak)
		i = 2;
	if (i >= s->len || s->ptr[i] != '"')
		return false;
	size_t start = i++;
	while (i < s->len && s->ptr[i] != '"') {
		if (!is_etagc((unsigned char)s->ptr[i]))
			return false;
		i++;
	}
	if (i >= s->len)
		return false;
	i++;
	*tag = (keel_str_t){s->ptr + start, i - start};
	*s = keel_str_sub(*s, i, s->len - i);
	return true;
}

/*
 * Walk the list element by element.  Empty elements (",,") are allowed
 * by the list syntax; anything else that is not "tag OWS [, ...]" stops
 * the walk with no match, so a garbled header can never produce a 304.
 */
bool keel_static_etag_match(keel_str_t list, keel_str_t etag, bool strong)
{
	bool our_weak, weak;
	keel_str_t ours, tag;
	if (!take_tag(&etag, &our_weak, &ours) || etag.len != 0)
		return false;
	list = keel_str_trim(list);
	if (list.len == 1 && list.ptr[0] == '*')
		return true;
	while (list.len > 0) {
		if (list.ptr[0] == ',' || list.ptr[0] == ' ' ||
		    list.ptr[0] == '\t') {
			list = keel_str_sub(list, 1, list.len - 1);
			continue;
		}
		if (!take_tag(&list, &weak, &tag))
			return false;
		if (keel_str_eq(tag, ours) && (!strong || (!weak && !our_weak)))
			return true;
		list = keel_str_trim(list);
		if (list.len > 0 && list.ptr[0] != ',')
			return false;
	}
	return false;
}
