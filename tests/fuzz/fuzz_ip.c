/*
 * Fuzz the IP parsers against glibc: acceptance and bytes must match
 * inet_pton for IPv4 and IPv6, and whatever parses must format to text that
 * parses back to the same value (IPv4 text must even come back byte for
 * byte: a strict parser has one spelling per address).  abort() on any
 * mismatch so libFuzzer keeps the input.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "keel/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

static void check_v4(keel_str_t s, const char *text, int has_nul)
{
	uint32_t mine;
	struct in_addr ref;
	char out[KEEL_IPV4_STRLEN];
	int ours = keel_ipv4_parse(s, &mine);

	if (has_nul) {
		must(ours != 0);
		return;
	}
	must((ours == 0) == (inet_pton(AF_INET, text, &ref) == 1));
	if (ours != 0)
		return;
	must(mine == ntohl(ref.s_addr));
	must(keel_ipv4_format(mine, out) == (int)s.len);
	must(memcmp(out, text, s.len) == 0);
}

/* glibc prints IPv4-compatible ::a.b.c.d dotted; we do not (see test_ip). */
static void check_v6_text(const keel_ip_t *ip, const char *mine)
{
	static const uint8_t zero[12];
	char ref[INET6_ADDRSTRLEN];

	must(inet_ntop(AF_INET6, ip->bytes, ref, sizeof(ref)) != NULL);
	if (memcmp(ip->bytes, zero, 12) == 0 && strchr(ref, '.'))
		must(strchr(mine, '.') == NULL);
	else
		must(strcmp(mine, ref) == 0);
}

/* Bytes must match inet_pton; then format -> parse must give them back. */
static void check_ip(keel_str_t s, const char *text, int has_nul)
{
	keel_ip_t ip, back;
	uint8_t ref[16];
	char out[KEEL_IP_STRLEN];
	int ours = keel_ip_parse(s, &ip);

	if (has_nul) {
		must(ours != 0);
		return;
	}
	if (memchr(s.ptr, ':', s.len) != NULL) {
		must((ours == 0) == (inet_pton(AF_INET6, text, ref) == 1));
		must(ours != 0 || memcmp(ip.bytes, ref, 16) == 0);
	}
	if (ours != 0)
		return;
	int n = keel_ip_format(&ip, out);
	must(n > 0 && (size_t)n == strlen(out));
	must(keel_ip_parse((keel_str_t){out, (size_t)n}, &back) == 0);
	must(keel_ip_eq(&ip, &back));
	if (ip.family == KEEL_IP_V6)
		check_v6_text(&ip, out);
	else
		must(strcmp(out, text) == 0);
}

static void check_cidr(keel_str_t s)
{
	keel_cidr_t c, back;
	char out[KEEL_CIDR_STRLEN];

	if (keel_cidr_parse(s, &c) != 0)
		return;
	must(c.prefix <= (c.net.family == KEEL_IP_V4 ? 32 : 128));
	must(keel_cidr_match(&c, &c.net));
	int n = keel_cidr_format(&c, out);
	must(n > 0 && (size_t)n == strlen(out));
	must(keel_cidr_parse((keel_str_t){out, (size_t)n}, &back) == 0);
	must(keel_ip_eq(&c.net, &back.net) && c.prefix == back.prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256];
	keel_str_t s = {(const char *)data, size};
	int has_nul;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	has_nul = memchr(data, '\0', size) != NULL;
	check_v4(s, text, has_nul);
	check_ip(s, text, has_nul);
	check_cidr(s);
	return 0;
}
