/*
 * fuzz_http_fields - the header-value parsers behind conditional and
 * partial responses and content negotiation: entity-tag lists
 * (If-None-Match, If-Match), Range, Accept-Encoding q-values, HTTP dates
 * and comma-separated token lists (Cache-Control, Vary).  The first byte
 * picks the size for Range and the comparison; the rest is the value.
 * Invariants: a range lies inside the representation and is never empty;
 * a q-value is 0..1000; a parsed date formats and parses back to itself
 * when in 1970..9999; "*" matches any tag; strong matching implies weak.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keel/http.h"
#include "keel/static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static void check_range(keel_str_t v, uint64_t total)
{
	uint64_t first = 0, len = 0;
	int rc = keel_static_range_parse(v, total, &first, &len);
	CHECK(rc == 0 || rc == KEEL_ERANGE || rc == KEEL_ENOENT);
	if (rc == 0)
		CHECK(len > 0 && first < total && len <= total - first);
}

static void check_etags(keel_str_t v)
{
	static const char *const tags[] = {"\"a\"", "W/\"a\"", "\"\"",
	                                   "\"xyzzy\""};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		keel_str_t tag = keel_str_from_cstr(tags[i]);
		bool strong = keel_static_etag_match(v, tag, true);
		bool weak = keel_static_etag_match(v, tag, false);
		CHECK(!strong || weak);
	}
	CHECK(keel_static_etag_match(KEEL_STR("*"), KEEL_STR("\"a\""), false));
}

static void check_date(keel_str_t v)
{
	int64_t t = 0, back = 0;
	char out[64];
	if (keel_static_date_parse(v, &t) != 0)
		return;
	if (keel_static_date_format(t, out, sizeof(out)) != 0)
		return; /* outside 1970..9999 */
	CHECK(keel_static_date_parse(keel_str_from_cstr(out), &back) == 0);
	CHECK(back == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint64_t total = (uint64_t)data[0] * 977u; /* 0 included */
	keel_str_t v = {(const char *)data + 1, size - 1};
	check_range(v, total);
	check_etags(v);
	check_date(v);
	int q = keel_static_accept_q(v, KEEL_STR("gzip"));
	CHECK(q == KEEL_ENOENT || (q >= 0 && q <= 1000));
	(void)keel_http_list_has(v, KEEL_STR("no-store"));
	(void)keel_http_list_has(v, KEEL_STR(""));
	return 0;
}
