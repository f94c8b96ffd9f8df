#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "keel/ip.h"

static keel_str_t ip_cs(const char *s)
{
	return (keel_str_t){s, strlen(s)};
}

/* xorshift64: fixed seed, so a failure reproduces. */
static uint64_t ip_rand(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static unsigned ip_below(uint64_t *st, unsigned n)
{
	return (unsigned)(ip_rand(st) % n);
}

/* Parse from an exact-size heap copy so ASan sees any read past the end. */
static int ip_parse_exact(const char *s, size_t len, keel_ip_t *out)
{
	char *copy = malloc(len ? len : 1);
	int r;

	cr_assert_not_null(copy);
	memcpy(copy, s, len);
	r = keel_ip_parse((keel_str_t){copy, len}, out);
	free(copy);
	return r;
}

static int ip_v4_exact(const char *s, size_t len, uint32_t *out)
{
	char *copy = malloc(len ? len : 1);
	int r;

	cr_assert_not_null(copy);
	memcpy(copy, s, len);
	r = keel_ipv4_parse((keel_str_t){copy, len}, out);
	free(copy);
	return r;
}

Test(ip, ipv4_valid_forms)
{
	static const struct {
		const char *text;
		uint32_t addr;
	} cases[] = {
	        {"0.0.0.0", 0},
	        {"255.255.255.255", 0xffffffffu},
	        {"127.0.0.1", 0x7f000001u},
	        {"10.20.30.40", 0x0a141e28u},
	        {"192.168.100.200", 0xc0a864c8u},
	        {"1.2.3.4", 0x01020304u},
	        {"100.0.99.9", 0x64006309u},
	        {"249.250.199.10", 0xf9fac70au},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		uint32_t a = 0;
		cr_assert_eq(keel_ipv4_parse(ip_cs(cases[i].text), &a), 0, "%s",
		             cases[i].text);
		cr_assert_eq(a, cases[i].addr, "%s -> %08x", cases[i].text, a);
	}
}

Test(ip, ipv4_rejects_lenient_and_malformed_forms)
{
	static const char *bad[] = {
	        "",           "1.2.3",          "1.2.3.4.5",    "01.2.3.4",
	        "1.2.3.04",   "00.0.0.0",       "0x7f.0.0.1",   "0x7f.1",
	        "127.1",      "127.0.1",        "017.0.0.1",    "2130706433",
	        "256.0.0.0",  "1.2.3.256",      "1.2.3.1000",   "1.2.3.0255",
	        " 1.2.3.4",   "1.2.3.4 ",       "1.2.3.4\n",    "1..2.3",
	        ".1.2.3.4",   "1.2.3.4.",       "1.2.3.-4",     "+1.2.3.4",
	        "1.2.3.4/8",  "a.b.c.d",        "1,2,3,4",      "...",
	        "1.2.3.4:80", "::ffff:1.2.3.4", "1.2.3.4%eth0", "1 .2.3.4",
	};
	uint32_t a = 0xdeadbeef;

	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_assert_eq(keel_ipv4_parse(ip_cs(bad[i]), &a), KEEL_EINVAL,
		             "accepted \"%s\"", bad[i]);
	cr_assert_eq(a, 0xdeadbeef, "output written on failure");
	cr_assert_eq(ip_v4_exact("1.2.3.4\0", 8, &a), KEEL_EINVAL);
	cr_assert_eq(keel_ipv4_parse((keel_str_t){NULL, 0}, &a), KEEL_EINVAL);
}

Test(ip, ipv4_reads_only_its_slice)
{
	uint32_t a = 0;

	/* The slice ends before the '5': it is 1.2.3.4, not 1.2.3.45. */
	cr_assert_eq(keel_ipv4_parse((keel_str_t){"1.2.3.45", 7}, &a), 0);
	cr_assert_eq(a, 0x01020304u);
	cr_assert_eq(ip_v4_exact("9.8.7.6", 7, &a), 0);
	cr_assert_eq(a, 0x09080706u);
	cr_assert_eq(ip_v4_exact("9.8.7.", 6, &a), KEEL_EINVAL);
}

Test(ip, ipv4_format_matches_inet_ntop)
{
	uint64_t st = 0x1234567;
	uint32_t edge[] = {0,           1,           0xffffffffu, 0x7f000001u,
	                   0x0a000000u, 0x64646464u, 0x09090909u};

	for (unsigned i = 0; i < 20000; i++) {
		uint32_t a = i < KEEL_COUNTOF(edge) ? edge[i]
		                                    : (uint32_t)ip_rand(&st);
		struct in_addr in = {htonl(a)};
		char mine[KEEL_IPV4_STRLEN], ref[INET_ADDRSTRLEN];
		uint32_t back = 0;
		int n = keel_ipv4_format(a, mine);

		cr_assert_not_null(inet_ntop(AF_INET, &in, ref, sizeof(ref)));
		cr_assert_str_eq(mine, ref);
		cr_assert_eq((size_t)n, strlen(ref));
		cr_assert_eq(keel_ipv4_parse(ip_cs(mine), &back), 0);
		cr_assert_eq(back, a);
	}
}

/* A valid dotted quad, sometimes with a leading zero slipped in. */
static void ip_gen_v4_text(uint64_t *st, char *buf, size_t cap)
{
	unsigned o[4];

	for (int k = 0; k < 4; k++)
		o[k] = ip_below(st, 4) == 0 ? ip_below(st, 10)
		                            : ip_below(st, 300);
	snprintf(buf, cap,
	         ip_below(st, 8) == 0 ? "%u.%u.%03u.%u" : "%u.%u.%u.%u", o[0],
	         o[1], o[2], o[3]);
}

/* Delete, insert, replace or duplicate bytes drawn from `alpha`. */
static void ip_mutate(uint64_t *st, char *buf, size_t cap, const char *alpha)
{
	size_t na = strlen(alpha);
	unsigned rounds = ip_below(st, 4);

	for (unsigned r = 0; r < rounds; r++) {
		size_t len = strlen(buf),
		       at = len ? ip_below(st, (unsigned)len) : 0;
		switch (ip_below(st, 4)) {
		case 0:
			if (len)
				memmove(buf + at, buf + at + 1, len - at);
			break;
		case 1:
			if (len + 2 < cap) {
				memmove(buf + at + 1, buf + at, len - at + 1);
				buf[at] = alpha[ip_below(st, (unsigned)na)];
			}
			break;
		case 2:
			if (len)
				buf[at] = alpha[ip_below(st, (unsigned)na)];
			break;
		default:
			if (len && 2 * len < cap) {
				size_t from = ip_below(st, (unsigned)len);
				memmove(buf + len, buf + from, len - from + 1);
			}
		}
	}
}

static void ip_random_text(uint64_t *st, char *buf, unsigned maxlen,
                           const char *alpha)
{
	unsigned len = ip_below(st, maxlen + 1);
	size_t na = strlen(alpha);

	for (unsigned i = 0; i < len; i++)
		buf[i] = alpha[ip_below(st, (unsigned)na)];
	buf[len] = '\0';
}

/*
 * glibc's inet_pton(AF_INET) is itself strict (four decimal octets, no
 * leading zeros), so here there is no documented difference: we must agree
 * on every string, and on the bytes whenever both accept.
 */
Test(ip, ipv4_agrees_with_inet_pton)
{
	uint64_t st = 0xfeedface;
	unsigned accepted = 0;

	for (unsigned i = 0; i < 200000; i++) {
		char buf[64];
		struct in_addr ref;
		uint32_t mine = 0;

		if (i % 2) {
			ip_gen_v4_text(&st, buf, sizeof(buf));
			ip_mutate(&st, buf, sizeof(buf), "0123456789.x ");
		} else {
			ip_random_text(&st, buf, 16, "0123456789....0x");
		}
		int theirs = inet_pton(AF_INET, buf, &ref);
		int ours = ip_v4_exact(buf, strlen(buf), &mine);
		cr_assert_eq(ours == 0, theirs == 1, "\"%s\": keel %d, libc %d",
		             buf, ours, theirs);
		if (theirs == 1) {
			cr_assert_eq(mine, ntohl(ref.s_addr), "\"%s\"", buf);
			accepted++;
		}
	}
	cr_assert_gt(accepted, 20000, "generator too weak: %u", accepted);
}

static void ip_check_v6(const char *text, const char *canonical)
{
	keel_ip_t ip;
	uint8_t ref[16];
	char out[KEEL_IP_STRLEN];

	cr_assert_eq(inet_pton(AF_INET6, text, ref), 1, "libc: %s", text);
	cr_assert_eq(keel_ip_parse(ip_cs(text), &ip), 0, "%s", text);
	cr_assert_eq(ip.family, KEEL_IP_V6);
	cr_assert_arr_eq(ip.bytes, ref, 16, "%s", text);
	cr_assert_eq(keel_ip_format(&ip, out), (int)strlen(canonical));
	cr_assert_str_eq(out, canonical, "%s", text);
}

Test(ip, ipv6_valid_forms_and_canonical_text)
{
	static const char *cases[][2] = {
	        {"::", "::"},
	        {"::1", "::1"},
	        {"1::", "1::"},
	        {"0:0:0:0:0:0:0:0", "::"},
	        {"0:0:0:0:0:0:0:1", "::1"},
	        {"2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"},
	        {"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
	        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
	        {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
	        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
	        {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
	        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
	        {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
	        {"1::3:4:5:6:7:8", "1:0:3:4:5:6:7:8"},
	        {"fe80::1", "fe80::1"},
	        {"FFFF:ffff:FfFf:ffff:ffff:ffff:ffff:ffff",
	         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
	        {"::FFFF:0:0", "::ffff:0.0.0.0"},
	        {"0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"},
	        {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
	        {"::192.0.2.1", "::c000:201"},
	        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
	        {"1::5:6:255.255.255.255", "1::5:6:ffff:ffff"},
	        {"0:0:0:0:0:ffff:1.2.3.4", "::ffff:1.2.3.4"},
	        {"0001:0002:0003:0004:0005:0006:0007:0008", "1:2:3:4:5:6:7:8"},
	        {"a:0:0:b:0:0:0:c", "a:0:0:b::c"},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++)
		ip_check_v6(cases[i][0], cases[i][1]);
}

Test(ip, ipv6_rejects_malformed_forms)
{
	static const char *bad[] = {
	        ":",
	        ":::",
	        "1:::2",
	        "::1::",
	        "1::2::3",
	        ":1::",
	        "1::2:",
	        ":1:2:3:4:5:6:7:8",
	        "1:2:3:4:5:6:7:8:",
	        "1:2:3:4:5:6:7",
	        "1:2:3:4:5:6:7:8:9",
	        "1:2:3:4::5:6:7:8",
	        "1:2:3:4:5:6:7:8::",
	        "::1:2:3:4:5:6:7:8",
	        "12345::",
	        "::00000",
	        "g::",
	        "::1%eth0",
	        "fe80::1%1",
	        "[::1]",
	        " ::1",
	        "::1 ",
	        "::1\n",
	        "1.2.3.4::",
	        "::1.2.3",
	        "::1.2.3.4.5",
	        "::01.2.3.4",
	        "::256.1.1.1",
	        "::1.2.3.4:1",
	        "1:2:3:4:5:6:7:1.2.3.4",
	        "1:2:3:4:5:6::1.2.3.4",
	        "::ffff:1.2.3.4/24",
	        "::-1",
	        "::+1",
	        "0x1::",
	        "::.1.2.3",
	        "::ffff:.1.2.3.4",
	};
	keel_ip_t ip = {.family = 99};

	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++) {
		uint8_t ref[16];

		cr_assert_eq(keel_ip_parse(ip_cs(bad[i]), &ip), KEEL_EINVAL,
		             "accepted \"%s\"", bad[i]);
		cr_assert_eq(inet_pton(AF_INET6, bad[i], ref), 0,
		             "libc accepts \"%s\": fix the table", bad[i]);
	}
	cr_assert_eq(ip.family, 99, "output written on failure");
	cr_assert_eq(ip_parse_exact("::1\0", 4, &ip), KEEL_EINVAL);
	cr_assert_eq(keel_ip_parse((keel_str_t){NULL, 0}, &ip), KEEL_EINVAL);
}

/* Random groups with many zeros, so every compression case turns up. */
static void ip_gen_v6_bytes(uint64_t *st, uint8_t b[16])
{
	for (int k = 0; k < 8; k++) {
		unsigned g =
		        ip_below(st, 2) ? 0 : (unsigned)ip_rand(st) & 0xffff;
		if (ip_below(st, 4) == 0)
			g &= 0xf;
		b[2 * k] = (uint8_t)(g >> 8);
		b[2 * k + 1] = (uint8_t)g;
	}
	if (ip_below(st, 10) == 0)
		memcpy(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
}

/* Print `b` in a random valid, usually non-canonical, spelling. */
static void ip_gen_v6_text(uint64_t *st, const uint8_t b[16], char *buf,
                           size_t cap)
{
	int groups = ip_below(st, 3) == 0 ? 6 : 8;
	int gap = ip_below(st, 2) ? (int)ip_below(st, 9) : -1;
	int gap_len = gap >= 0 ? 1 + (int)ip_below(st, 3) : 0;
	size_t n = 0;

	for (int k = 0; k < groups && n + 12 < cap; k++) {
		unsigned g = (unsigned)b[2 * k] << 8 | b[2 * k + 1];
		if (k == gap) {
			n += (size_t)snprintf(buf + n, cap - n, "::");
			k += gap_len - 1;
			continue;
		}
		if (k > 0 && k != gap + gap_len)
			buf[n++] = ':';
		n += (size_t)snprintf(buf + n, cap - n,
		                      ip_below(st, 2) ? "%x" : "%04X", g);
	}
	if (groups == 6)
		snprintf(buf + n, cap - n, "%s%u.%u.%u.%u",
		         n && buf[n - 1] == ':' ? "" : ":", b[12], b[13], b[14],
		         b[15]);
	else
		buf[n] = '\0';
}

/*
 * IPv6 must agree with glibc's inet_pton exactly, acceptance and bytes,
 * on random strings and on mutated valid ones (many of which are valid
 * but for other bytes than the original, or have the "::" in a place
 * where it hides non-zero groups and so must still parse).
 */
Test(ip, ipv6_agrees_with_inet_pton)
{
	uint64_t st = 0xabcdef12345;
	unsigned accepted = 0;

	for (unsigned i = 0; i < 200000; i++) {
		char buf[128];
		uint8_t b[16], ref[16];
		keel_ip_t ip;

		if (i % 3) {
			ip_gen_v6_bytes(&st, b);
			ip_gen_v6_text(&st, b, buf, 64);
			ip_mutate(&st, buf, sizeof(buf),
			          "0123456789abcdefABCDEF::..");
		} else {
			ip_random_text(&st, buf, 14, "0123:::::.aF");
		}
		int theirs = inet_pton(AF_INET6, buf, ref);
		int ours = ip_parse_exact(buf, strlen(buf), &ip);
		if (theirs == 1 && ours == 0) {
			cr_assert_eq(ip.family, KEEL_IP_V6, "\"%s\"", buf);
			cr_assert_arr_eq(ip.bytes, ref, 16, "\"%s\"", buf);
			accepted++;
		} else if (strchr(buf, ':')) {
			cr_assert_eq(ours == 0, theirs == 1, "\"%s\": keel %d",
			             buf, ours);
		}
	}
	cr_assert_gt(accepted, 40000, "generator too weak: %u", accepted);
}

/*
 * Our text must equal inet_ntop's, with one documented difference: glibc
 * prints IPv4-compatible addresses (first 96 bits zero, RFC 4291 2.5.5.1,
 * deprecated) as "::1.2.3.4"; RFC 5952 section 5 keeps the dotted tail for
 * IPv4-mapped ::ffff:0:0/96, so we print those in hex ("::102:304").
 */
Test(ip, ipv6_format_matches_inet_ntop)
{
	uint64_t st = 0x5eed;
	unsigned differences = 0;

	for (unsigned i = 0; i < 100000; i++) {
		keel_ip_t ip = {.family = KEEL_IP_V6}, back;
		char mine[KEEL_IP_STRLEN], ref[INET6_ADDRSTRLEN];

		ip_gen_v6_bytes(&st, ip.bytes);
		if (i % 50 == 0)
			memset(ip.bytes, 0, 12);
		int n = keel_ip_format(&ip, mine);
		cr_assert_eq((size_t)n, strlen(mine));
		cr_assert_not_null(
		        inet_ntop(AF_INET6, ip.bytes, ref, sizeof(ref)));
		static const uint8_t zero[12];
		if (memcmp(ip.bytes, zero, 12) == 0 && strchr(ref, '.')) {
			cr_assert_null(strchr(mine, '.'), "%s", mine);
			differences++;
		} else {
			cr_assert_str_eq(mine, ref);
		}
		cr_assert_eq(keel_ip_parse(ip_cs(mine), &back), 0, "%s", mine);
		cr_assert(keel_ip_eq(&ip, &back), "%s", mine);
	}
	cr_assert_gt(differences, 0, "the documented case was not exercised");
}

Test(ip, ip_parse_picks_family_and_eq_compares_it)
{
	keel_ip_t a, b, c;
	char out[KEEL_IP_STRLEN];

	cr_assert_eq(keel_ip_parse(ip_cs("192.0.2.1"), &a), 0);
	cr_assert_eq(a.family, KEEL_IP_V4);
	cr_assert_arr_eq(a.bytes, "\xc0\x00\x02\x01\0\0\0\0\0\0\0\0\0\0\0\0",
	                 16);
	cr_assert_eq(keel_ip_format(&a, out), 9);
	cr_assert_str_eq(out, "192.0.2.1");
	cr_assert_eq(keel_ip_parse(ip_cs("::ffff:192.0.2.1"), &b), 0);
	cr_assert_eq(b.family, KEEL_IP_V6);
	cr_assert_not(keel_ip_eq(&a, &b), "mapped and plain differ");
	c = keel_ip_unmap(&b);
	cr_assert(keel_ip_eq(&a, &c));
	c = keel_ip_unmap(&a);
	cr_assert(keel_ip_eq(&a, &c));
	cr_assert_eq(keel_ip_parse(ip_cs("::c000:201"), &c), 0);
	b = keel_ip_unmap(&c);
	cr_assert(keel_ip_eq(&b, &c), "only ::ffff: unmaps");
	cr_assert_not(keel_ip_eq(&a, &c));
	c.family = 5;
	cr_assert_eq(keel_ip_format(&c, out), KEEL_EINVAL);
	cr_assert_str_eq(out, "");
}

Test(ip, from_sockaddr_reads_both_families)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr_storage other = {.ss_family = AF_UNIX};
	keel_ip_t ip, want, plain;

	in.sin_addr.s_addr = htonl(0x0a000001u);
	cr_assert_eq(keel_ip_from_sockaddr((struct sockaddr *)&in, &ip), 0);
	cr_assert_eq(keel_ip_parse(ip_cs("10.0.0.1"), &want), 0);
	cr_assert(keel_ip_eq(&ip, &want));
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr), 1);
	cr_assert_eq(keel_ip_from_sockaddr((struct sockaddr *)&in6, &ip), 0);
	cr_assert_eq(ip.family, KEEL_IP_V6);
	plain = keel_ip_unmap(&ip);
	cr_assert(keel_ip_eq(&plain, &want));
	cr_assert_eq(keel_ip_from_sockaddr((struct sockaddr *)&other, &ip),
	             KEEL_EINVAL);
}

Test(ip, cidr_valid_forms)
{
	static const struct {
		const char *text, *canonical;
		int prefix;
	} cases[] = {
	        {"10.0.0.0/8", "10.0.0.0/8", 8},
	        {"0.0.0.0/0", "0.0.0.0/0", 0},
	        {"192.168.1.128/25", "192.168.1.128/25", 25},
	        {"192.0.2.7", "192.0.2.7/32", 32},
	        {"192.0.2.7/32", "192.0.2.7/32", 32},
	        {"172.16.0.0/12", "172.16.0.0/12", 12},
	        {"2001:DB8::/32", "2001:db8::/32", 32},
	        {"::/0", "::/0", 0},
	        {"::1", "::1/128", 128},
	        {"fe80::/10", "fe80::/10", 10},
	        {"2001:db8::8000/113", "2001:db8::8000/113", 113},
	        {"::ffff:0.0.0.0/96", "::ffff:0.0.0.0/96", 96},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++) {
		keel_cidr_t c, back;
		char out[KEEL_CIDR_STRLEN];

		cr_assert_eq(keel_cidr_parse(ip_cs(cases[i].text), &c), 0, "%s",
		             cases[i].text);
		cr_assert_eq(c.prefix, cases[i].prefix, "%s", cases[i].text);
		cr_assert_eq(keel_cidr_format(&c, out),
		             (int)strlen(cases[i].canonical));
		cr_assert_str_eq(out, cases[i].canonical);
		cr_assert_eq(keel_cidr_parse(ip_cs(out), &back), 0);
		cr_assert(keel_ip_eq(&c.net, &back.net));
		cr_assert_eq(c.prefix, back.prefix);
	}
}

Test(ip, cidr_rejects_bad_prefixes_and_host_bits)
{
	static const char *bad[] = {
	        "10.0.0.1/8",
	        "10.0.0.0/33",
	        "10.0.0.0/",
	        "10.0.0.0/08",
	        "10.0.0.0/-8",
	        "10.0.0.0/+8",
	        "10.0.0.0/8 ",
	        "10.0.0.0 /8",
	        "10.0.0.0/8/8",
	        "10.0.0.0/0x8",
	        "/8",
	        "10.0/8",
	        "2001:db8::1/32",
	        "::/129",
	        "::/1000",
	        "::/00",
	        "192.168.1.129/25",
	        "2001:db8::8000/112",
	        "",
	        "1.2.3.4/a",
	        "0.0.0.1/0",
	        "::1/127",
	        "[::]/0",
	        "::%eth0/64",
	};
	keel_cidr_t c = {.prefix = 77};

	for (size_t i = 0; i < KEEL_COUNTOF(bad); i++)
		cr_assert_eq(keel_cidr_parse(ip_cs(bad[i]), &c), KEEL_EINVAL,
		             "accepted \"%s\"", bad[i]);
	cr_assert_eq(c.prefix, 77, "output written on failure");
	cr_assert_eq(keel_cidr_parse((keel_str_t){NULL, 0}, &c), KEEL_EINVAL);
}

static bool ip_in(const char *cidr, const char *addr)
{
	keel_cidr_t c;
	keel_ip_t ip;

	cr_assert_eq(keel_cidr_parse(ip_cs(cidr), &c), 0, "%s", cidr);
	cr_assert_eq(keel_ip_parse(ip_cs(addr), &ip), 0, "%s", addr);
	return keel_cidr_match(&c, &ip);
}

Test(ip, cidr_match_table)
{
	static const struct {
		const char *cidr, *addr;
		bool in;
	} cases[] = {
	        {"10.0.0.0/8", "10.255.255.255", true},
	        {"10.0.0.0/8", "11.0.0.0", false},
	        {"10.0.0.0/8", "9.255.255.255", false},
	        {"0.0.0.0/0", "203.0.113.9", true},
	        {"0.0.0.0/0", "::1", false},
	        {"192.168.1.128/25", "192.168.1.128", true},
	        {"192.168.1.128/25", "192.168.1.255", true},
	        {"192.168.1.128/25", "192.168.1.127", false},
	        {"172.16.0.0/12", "172.31.1.1", true},
	        {"172.16.0.0/12", "172.32.0.0", false},
	        {"192.0.2.7", "192.0.2.7", true},
	        {"192.0.2.7", "192.0.2.6", false},
	        /* a dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d */
	        {"10.0.0.0/8", "::ffff:10.1.2.3", true},
	        {"10.0.0.0/8", "::ffff:11.1.2.3", false},
	        {"127.0.0.1", "::ffff:127.0.0.1", true},
	        {"127.0.0.1", "::127.0.0.1", false},
	        {"127.0.0.1", "::1", false},
	        {"2001:db8::/32", "2001:db8:ffff::1", true},
	        {"2001:db8::/32", "2001:db9::", false},
	        {"fe80::/10", "febf::1", true},
	        {"fe80::/10", "fec0::1", false},
	        {"::/0", "2001:db8::1", true},
	        {"::/0", "10.0.0.1", false},
	        {"::1", "::1", true},
	        {"::1", "::2", false},
	        {"::ffff:0.0.0.0/96", "::ffff:1.2.3.4", true},
	        {"::ffff:0.0.0.0/96", "1.2.3.4", false},
	        {"2001:db8::8000/113", "2001:db8::ffff", true},
	        {"2001:db8::8000/113", "2001:db8::7fff", false},
	};
	for (size_t i = 0; i < KEEL_COUNTOF(cases); i++)
		cr_assert_eq(ip_in(cases[i].cidr, cases[i].addr), cases[i].in,
		             "%s in %s", cases[i].addr, cases[i].cidr);
}

/*
 * Every prefix length against addresses just inside and just outside: flip
 * the last network bit (must leave the range) and the first host bit (must
 * stay in it).
 */
Test(ip, cidr_match_every_prefix_length)
{
	uint64_t st = 77;

	for (unsigned prefix = 0; prefix <= 128; prefix++) {
		keel_cidr_t c = {.net = {.family = KEEL_IP_V6}, .prefix = 0};
		keel_ip_t in, out;

		c.prefix = (uint8_t)prefix;
		for (unsigned bit = 0; bit < prefix; bit++)
			if (ip_rand(&st) & 1)
				c.net.bytes[bit / 8] |=
				        (uint8_t)(0x80 >> bit % 8);
		in = out = c.net;
		if (prefix < 128)
			in.bytes[prefix / 8] ^= (uint8_t)(0x80 >> prefix % 8);
		cr_assert(keel_cidr_match(&c, &in), "/%u", prefix);
		cr_assert(keel_cidr_match(&c, &c.net), "/%u", prefix);
		if (prefix > 0) {
			unsigned b = prefix - 1;
			out.bytes[b / 8] ^= (uint8_t)(0x80 >> b % 8);
			cr_assert_not(keel_cidr_match(&c, &out), "/%u", prefix);
		}
		char text[KEEL_CIDR_STRLEN];
		keel_cidr_t back;
		cr_assert_gt(keel_cidr_format(&c, text), 0);
		cr_assert_eq(keel_cidr_parse(ip_cs(text), &back), 0, "%s",
		             text);
		cr_assert(keel_ip_eq(&back.net, &c.net));
		cr_assert_eq(back.prefix, prefix);
	}
}
