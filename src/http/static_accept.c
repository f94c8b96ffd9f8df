/*
 * Accept-Encoding (RFC 9110 12.5.3): a list of content codings, each with
 * an optional weight "q" from 0 to 1 with at most three decimals.  q=0
 * means "not acceptable", which is why the weight has to be parsed and
 * not just the names looked for: "gzip;q=0" refuses gzip.
 */
#include "keel/static.h"

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 when malformed.
 */
static int qvalue_parse(keel_str_t v)
{
	if (v.len == 0 || v.len > 5 || (v.ptr[0] != '0' && v.ptr[0] != '1'))
		return -1;
	int q = (v.ptr[0] - '0') * 1000;
	if (v.len == 1)
		return q;
	if (v.ptr[1] != '.')
		return -1;
	int scale = 100;
	for (size_t i = 2; i < v.len; i++, scale /= 10) {
		char c = v.ptr[i];
		if (c < '0' || c > '9' || (q == 1000 && c != '0'))
			return -1;
		q += (c - '0') * scale;
	}
	return q;
}

/* The weight among an element's parameters (";q=0.5;x=y"); 1000 when
 * absent, 0 when malformed. */
static int weight(keel_str_t params)
{
	while (params.len > 0) {
		keel_str_t p = keel_str_trim(keel_str_cut(&params, ';'));
		keel_str_t name = keel_str_trim(keel_str_cut(&p, '='));
		if (!keel_str_eq_nocase(name, KEEL_STR("q")))
			continue;
		int q = qvalue_parse(keel_str_trim(p));
		return q < 0 ? 0 : q;
	}
	return 1000;
}

/* "x-gzip" is an alias the RFC asks recipients to treat as "gzip". */
static keel_str_t canonical(keel_str_t coding)
{
	return keel_str_eq_nocase(coding, KEEL_STR("x-gzip")) ? KEEL_STR("gzip")
	                                                      : coding;
}

int keel_static_accept_q(keel_str_t value, keel_str_t coding)
{
	int named = KEEL_ENOENT, star = KEEL_ENOENT;
	coding = canonical(coding);
	while (value.len > 0) {
		keel_str_t params = keel_str_cut(&value, ',');
		keel_str_t name =
		        canonical(keel_str_trim(keel_str_cut(&params, ';')));
		if (name.len == 0)
			continue;
		int q = weight(params);
		if (name.len == 1 && name.ptr[0] == '*') {
			if (star == KEEL_ENOENT)
				star = q;
		} else if (keel_str_eq_nocase(name, coding) &&
		           named == KEEL_ENOENT) {
			named = q;
		}
	}
	return named != KEEL_ENOENT ? named : star;
}
