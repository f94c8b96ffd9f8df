/*
 * IPv4/IPv6 text <-> bytes and CIDR matching.  The parsers walk the slice
 * once with an index and never look past s.len, so they work on slices of a
 * header buffer without a terminating NUL.
 */
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "keel/ip.h"

/* Parser state for the colon-separated body of an IPv6 text. */
struct v6_text {
	uint16_t groups[8];
	int n;   /* groups read so far; an IPv4 tail counts as two */
	int gap; /* index of the group the "::" stood before, or -1 */
};

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One decimal octet at s[*i]: 1-3 digits, at most 255, and a leading zero
 * only when the octet is exactly "0".  Refusing "010" is what keeps us from
 * agreeing with inet_aton, which would read it as octal 8.
 */
static int parse_octet(keel_str_t s, size_t *i, uint32_t *out)
{
	size_t p = *i;
	uint32_t v = 0;

	while (p < s.len && is_digit(s.ptr[p]) && p - *i < 4)
		v = v * 10 + (uint32_t)(s.ptr[p++] - '0');
	if (p == *i || p - *i > 3 || v > 255)
		return KEEL_EINVAL;
	if (p - *i > 1 && s.ptr[*i] == '0')
		return KEEL_EINVAL;
	*i = p;
	*out = v;
	return KEEL_OK;
}

int keel_ipv4_parse(keel_str_t s, uint32_t *out)
{
	uint32_t addr = 0, octet;
	size_t i = 0;

	if (s.ptr == NULL)
		return KEEL_EINVAL;
	for (int k = 0; k < 4; k++) {
		if (k > 0 && (i >= s.len || s.ptr[i++] != '.'))
			return KEEL_EINVAL;
		if (parse_octet(s, &i, &octet) < 0)
			return KEEL_EINVAL;
		addr = addr << 8 | octet;
	}
	if (i != s.len)
		return KEEL_EINVAL;
	*out = addr;
	return KEEL_OK;
}

static size_t put_dec(char *p, unsigned v)
{
	size_t n = 0;

	if (v >= 100)
		p[n++] = (char)('0' + v / 100);
	if (v >= 10)
		p[n++] = (char)('0' + v / 10 % 10);
	p[n++] = (char)('0' + v % 10);
	return n;
}

int keel_ipv4_format(uint32_t addr, char out[KEEL_IPV4_STRLEN])
{
	size_t n = 0;

	for (int shift = 24; shift >= 0; shift -= 8) {
		n += put_dec(out + n, (addr >> shift) & 0xff);
		if (shift > 0)
			out[n++] = '.';
	}
	out[n] = '\0';
	return (int)n;
}

/*
 * Up to four hex digits at s[*i].  Returns how many were read (0..4), or -1
 * when a fifth follows: "12345" must fail, not be read as "1234" + junk.
 */
static int v6_hex_group(keel_str_t s, size_t *i, uint16_t *out)
{
	unsigned v = 0;
	int n = 0, d;

	while (*i < s.len && (d = hex_value(s.ptr[*i])) >= 0) {
		if (n == 4)
			return -1;
		v = v << 4 | (unsigned)d;
		n++;
		(*i)++;
	}
	*out = (uint16_t)v;
	return n;
}

/* An embedded IPv4 address may only fill the last 32 bits. */
static int v6_take_v4_tail(keel_str_t s, size_t from, struct v6_text *t)
{
	uint32_t v4;
	keel_str_t tail = {s.ptr + from, s.len - from};

	if (t->n > 6 || keel_ipv4_parse(tail, &v4) < 0)
		return KEEL_EINVAL;
	t->groups[t->n++] = (uint16_t)(v4 >> 16);
	t->groups[t->n++] = (uint16_t)(v4 & 0xffff);
	return KEEL_OK;
}

/*
 * What may follow a group: the end, ':' and another group, or "::" (once).
 * Returns 1 at the end of the text, 0 when a group must follow (so a lone
 * ':' at the end fails on the empty group after it), or KEEL_EINVAL.
 */
static int v6_separator(keel_str_t s, size_t *i, struct v6_text *t)
{
	if (*i == s.len)
		return 1;
	if (s.ptr[(*i)++] != ':')
		return KEEL_EINVAL;
	if (*i < s.len && s.ptr[*i] == ':') {
		if (t->gap >= 0)
			return KEEL_EINVAL;
		t->gap = t->n;
		(*i)++;
		return *i == s.len;
	}
	return 0;
}

/* Reads groups left to right, noting where "::" stood. */
static int v6_scan(keel_str_t s, struct v6_text *t)
{
	size_t i = 0;
	int r;

	t->n = 0;
	t->gap = -1;
	if (s.len >= 2 && s.ptr[0] == ':' && s.ptr[1] == ':') {
		t->gap = 0;
		i = 2;
		if (i == s.len)
			return KEEL_OK;
	}
	do {
		size_t start = i;
		uint16_t g;
		int digits = v6_hex_group(s, &i, &g);

		if (digits >= 0 && i < s.len && s.ptr[i] == '.')
			return v6_take_v4_tail(s, start, t);
		if (digits <= 0 || t->n == 8)
			return KEEL_EINVAL;
		t->groups[t->n++] = g;
	} while ((r = v6_separator(s, &i, t)) == 0);
	return r < 0 ? r : KEEL_OK;
}

/*
 * Without "::" there must be exactly eight groups; with it at most seven,
 * because "::" stands for at least one zero group.
 */
static int v6_parse(keel_str_t s, uint8_t bytes[16])
{
	struct v6_text t;
	uint16_t full[8] = {0};
	int tail;

	if (s.ptr == NULL || v6_scan(s, &t) < 0)
		return KEEL_EINVAL;
	if (t.gap < 0 ? t.n != 8 : t.n > 7)
		return KEEL_EINVAL;
	tail = t.gap < 0 ? 0 : t.n - t.gap;
	for (int k = 0; k < t.n - tail; k++)
		full[k] = t.groups[k];
	for (int k = 0; k < tail; k++)
		full[8 - tail + k] = t.groups[t.n - tail + k];
	for (int k = 0; k < 8; k++) {
		bytes[2 * k] = (uint8_t)(full[k] >> 8);
		bytes[2 * k + 1] = (uint8_t)(full[k] & 0xff);
	}
	return KEEL_OK;
}

int keel_ip_parse(keel_str_t s, keel_ip_t *out)
{
	keel_ip_t ip;
	uint32_t v4;

	memset(&ip, 0, sizeof(ip));
	if (s.ptr != NULL && memchr(s.ptr, ':', s.len) != NULL) {
		if (v6_parse(s, ip.bytes) < 0)
			return KEEL_EINVAL;
		ip.family = KEEL_IP_V6;
	} else {
		if (keel_ipv4_parse(s, &v4) < 0)
			return KEEL_EINVAL;
		ip.family = KEEL_IP_V4;
		for (int k = 0; k < 4; k++)
			ip.bytes[k] = (uint8_t)(v4 >> (24 - 8 * k));
	}
	*out = ip;
	return KEEL_OK;
}

static uint32_t load_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static bool is_v4_mapped(const keel_ip_t *ip)
{
	return ip->family == KEEL_IP_V6 &&
	       memcmp(ip->bytes, v4_mapped_prefix, 12) == 0;
}

static size_t put_hex(char *p, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	for (int shift = 12; shift >= 0; shift -= 4)
		if ((v >> shift) != 0 || shift == 0)
			p[n++] = digits[(v >> shift) & 0xf];
	return n;
}

/*
 * RFC 5952 section 4.2: compress the longest run of zero groups, but only
 * a run of two or more, and the first run when two are equally long.
 */
static void longest_zero_run(const uint16_t g[8], int *start, int *len)
{
	*start = -1;
	*len = 0;
	for (int k = 0; k < 8;) {
		int n = 0;

		while (k + n < 8 && g[k + n] == 0)
			n++;
		if (n >= 2 && n > *len) {
			*start = k;
			*len = n;
		}
		k += n > 0 ? n : 1;
	}
}

static int format_v6(const uint8_t b[16], char *out)
{
	uint16_t g[8];
	int start, len;
	size_t n = 0;

	for (int k = 0; k < 8; k++)
		g[k] = (uint16_t)(b[2 * k] << 8 | b[2 * k + 1]);
	longest_zero_run(g, &start, &len);
	for (int k = 0; k < 8; k++) {
		if (k == start) {
			out[n++] = ':';
			out[n++] = ':';
			k += len - 1;
			continue;
		}
		if (k > 0 && k != start + len)
			out[n++] = ':';
		n += put_hex(out + n, g[k]);
	}
	out[n] = '\0';
	return (int)n;
}

int keel_ip_format(const keel_ip_t *ip, char out[KEEL_IP_STRLEN])
{
	out[0] = '\0';
	if (ip->family == KEEL_IP_V4)
		return keel_ipv4_format(load_be32(ip->bytes), out);
	if (ip->family != KEEL_IP_V6)
		return KEEL_EINVAL;
	if (is_v4_mapped(ip)) {
		memcpy(out, "::ffff:", 7);
		return 7 + keel_ipv4_format(load_be32(ip->bytes + 12), out + 7);
	}
	return format_v6(ip->bytes, out);
}

bool keel_ip_eq(const keel_ip_t *a, const keel_ip_t *b)
{
	size_t n = a->family == KEEL_IP_V4 ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

keel_ip_t keel_ip_unmap(const keel_ip_t *ip)
{
	keel_ip_t v4;

	if (!is_v4_mapped(ip))
		return *ip;
	memset(&v4, 0, sizeof(v4));
	v4.family = KEEL_IP_V4;
	memcpy(v4.bytes, ip->bytes + 12, 4);
	return v4;
}

int keel_ip_from_sockaddr(const struct sockaddr *sa, keel_ip_t *out)
{
	keel_ip_t ip;

	memset(&ip, 0, sizeof(ip));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		ip.family = KEEL_IP_V4;
		memcpy(ip.bytes, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		ip.family = KEEL_IP_V6;
		memcpy(ip.bytes, &in6->sin6_addr, 16);
	} else {
		return KEEL_EINVAL;
	}
	*out = ip;
	return KEEL_OK;
}

/* Mask of the bits of byte `k` that lie inside a `prefix`-bit prefix. */
static uint8_t prefix_mask(unsigned prefix, size_t k)
{
	if (prefix >= 8 * (k + 1))
		return 0xff;
	if (prefix <= 8 * k)
		return 0;
	return (uint8_t)(0xff << (8 - (prefix - 8 * k)));
}

static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	for (size_t k = 0; 8 * k < prefix; k++)
		if ((a[k] ^ b[k]) & prefix_mask(prefix, k))
			return false;
	return true;
}

/* The prefix length: 1-3 digits, no leading zero, at most `max`. */
static int parse_prefix(keel_str_t s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (s.len == 0 || s.len > 3 || (s.len > 1 && s.ptr[0] == '0'))
		return KEEL_EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(s.ptr[i]))
			return KEEL_EINVAL;
		v = v * 10 + (unsigned)(s.ptr[i] - '0');
	}
	if (v > max)
		return KEEL_EINVAL;
	*out = v;
	return KEEL_OK;
}

int keel_cidr_parse(keel_str_t s, keel_cidr_t *out)
{
	const char *slash = s.ptr ? memchr(s.ptr, '/', s.len) : NULL;
	keel_str_t addr = s;
	keel_cidr_t c;
	unsigned max, prefix;

	if (slash != NULL)
		addr.len = (size_t)(slash - s.ptr);
	if (keel_ip_parse(addr, &c.net) < 0)
		return KEEL_EINVAL;
	max = prefix = c.net.family == KEEL_IP_V4 ? 32 : 128;
	if (slash != NULL) {
		keel_str_t p = {slash + 1, s.len - addr.len - 1};
		if (parse_prefix(p, max, &prefix) < 0)
			return KEEL_EINVAL;
	}
	for (size_t k = 0; k < max / 8; k++)
		if (c.net.bytes[k] & (uint8_t)~prefix_mask(prefix, k))
			return KEEL_EINVAL;
	c.prefix = (uint8_t)prefix;
	*out = c;
	return KEEL_OK;
}

int keel_cidr_format(const keel_cidr_t *cidr, char out[KEEL_CIDR_STRLEN])
{
	int n = keel_ip_format(&cidr->net, out);

	if (n < 0)
		return n;
	out[n++] = '/';
	n += (int)put_dec(out + n, cidr->prefix);
	out[n] = '\0';
	return n;
}

bool keel_cidr_match(const keel_cidr_t *cidr, const keel_ip_t *ip)
{
	if (cidr->net.family == KEEL_IP_V4 && is_v4_mapped(ip))
		return same_prefix(cidr->net.bytes, ip->bytes + 12,
		                   cidr->prefix);
	if (cidr->net.family != ip->family)
		return false;
	return same_prefix(cidr->net.bytes, ip->bytes, cidr->prefix);
}
