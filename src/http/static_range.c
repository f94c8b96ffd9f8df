/*
 * Range requests (RFC 9110 14.1-14.2): "bytes=" followed by a list of
 * first-last, first- (to the end) or -n (the last n bytes).  Only one
 * range is served; several are answered with the whole representation,
 * which the RFC allows and which spares the multipart/byteranges framing
 * and the classic abuse of asking for thousands of overlapping ranges.
 */
#include "keel/static.h"

/* Digits as a number, saturating: a position past 2^64 is still "past
 * the end", not a syntax error.  False for anything but digits. */
static bool pos_parse(keel_str_t s, uint64_t *out)
{
	int rc = keel_str_to_u64(s, out);
	if (rc == KEEL_ERANGE)
		*out = UINT64_MAX;
	return rc == KEEL_OK || rc == KEEL_ERANGE;
}

/*
 * One range-spec against `size` (> 0): 0 with *first and *len when it
 * can be served, KEEL_ERANGE when it lies past the end (or is "-0"),
 * KEEL_EINVAL when it is not a range-spec at all.
 */
static int spec_parse(keel_str_t spec, uint64_t size, uint64_t *first,
                      uint64_t *len)
{
	ptrdiff_t dash = keel_str_index(spec, '-');
	if (dash < 0)
		return KEEL_EINVAL;
	keel_str_t a = keel_str_sub(spec, 0, (size_t)dash);
	keel_str_t b = keel_str_sub(spec, (size_t)dash + 1, spec.len);
	uint64_t lo, hi = UINT64_MAX;
	if (a.len == 0) {
		if (!pos_parse(b, &hi))
			return KEEL_EINVAL;
		if (hi == 0)
			return KEEL_ERANGE;
		*len = hi < size ? hi : size;
		*first = size - *len;
		return KEEL_OK;
	}
	if (!pos_parse(a, &lo) || (b.len > 0 && !pos_parse(b, &hi)))
		return KEEL_EINVAL;
	if (hi < lo)
		return KEEL_EINVAL;
	if (lo >= size)
		return KEEL_ERANGE;
	if (hi > size - 1)
		hi = size - 1;
	*first = lo;
	*len = hi - lo + 1;
	return KEEL_OK;
}

/*
 * The whole list is checked before answering: a malformed element makes
 * the header void (send everything); 416 only when every element is
 * well-formed and none can be satisfied.  An empty representation is
 * always sent whole: no range of it can be described.
 */
int keel_static_range_parse(keel_str_t value, uint64_t size, uint64_t *first,
                            uint64_t *len)
{
	keel_str_t v = keel_str_trim(value);
	if (v.len < 6 ||
	    !keel_str_eq_nocase(keel_str_sub(v, 0, 5), KEEL_STR("bytes")) ||
	    v.ptr[5] != '=' || size == 0)
		return KEEL_ENOENT;
	keel_str_t set = keel_str_sub(v, 6, v.len);
	size_t count = 0, ok = 0;
	uint64_t f = 0, l = 0;
	while (set.len > 0) {
		keel_str_t spec = keel_str_trim(keel_str_cut(&set, ','));
		if (spec.len == 0)
			continue;
		count++;
		int rc = spec_parse(spec, size, &f, &l);
		if (rc == KEEL_EINVAL)
			return KEEL_ENOENT;
		ok += rc == KEEL_OK;
	}
	if (count == 0 || (ok > 0 && count > 1))
		return KEEL_ENOENT;
	if (ok == 0)
		return KEEL_ERANGE;
	*first = f;
	*len = l;
	return KEEL_OK;
}
