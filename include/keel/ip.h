/*
 * keel/ip.h - IPv4 and IPv6 addresses and CIDR ranges: strict parsing,
 * canonical text and prefix matching.  The server uses it for its list of
 * trusted proxies and to read X-Forwarded-For, where a lenient parser is a
 * hole: inet_aton reads "127.1", "0x7f.1" and "017.0.0.1" as addresses, so a
 * check written against one spelling can be walked around with another.
 * Every parser here therefore accepts one spelling per value and nothing
 * around it: no spaces, no trailing bytes, no brackets ("[::1]": callers
 * strip them), no IPv6 zone ids ("fe80::1%eth0": a zone names an interface
 * of this host and means nothing in a header or a configuration file).
 *
 * Addresses live in keel_ip_t: a family and 16 bytes in network order.  An
 * IPv4 address uses bytes[0..3] with the rest zero; it is not stored as
 * IPv4-mapped IPv6, so "1.2.3.4" and "::ffff:1.2.3.4" stay different values
 * (keel_ip_unmap folds the second into the first when that is wanted).
 */
#ifndef KEEL_IP_H
#define KEEL_IP_H

#include "keel/str.h"

struct sockaddr;

/** Bytes for the longest IPv4 text plus its NUL: "255.255.255.255". */
#define KEEL_IPV4_STRLEN 16
/** Bytes for the longest text keel_ip_format writes, NUL included. */
#define KEEL_IP_STRLEN   46
/** Bytes for the longest text keel_cidr_format writes ("/128" added). */
#define KEEL_CIDR_STRLEN 50

/** keel_ip_t.family of an IPv4 address. */
#define KEEL_IP_V4 4
/** keel_ip_t.family of an IPv6 address. */
#define KEEL_IP_V6 6

/** An IPv4 or IPv6 address; plain value, copy it freely. */
typedef struct keel_ip {
	uint8_t family;    /* KEEL_IP_V4 or KEEL_IP_V6 */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4, rest 0 */
} keel_ip_t;

/** An address range: the first `prefix` bits of `net`; host bits are 0. */
typedef struct keel_cidr {
	keel_ip_t net;
	uint8_t prefix; /* 0..32 for IPv4, 0..128 for IPv6 */
} keel_cidr_t;

/**
 * Parse a strict dotted quad: four decimal octets 0..255 without leading
 * zeros ("0" is fine, "01" is not).  `*out` is host byte order
 * (127.0.0.1 -> 0x7f000001), written only on success; else KEEL_EINVAL.
 */
KEEL_API int keel_ipv4_parse(keel_str_t s, uint32_t *out);
/** Write `addr` (host byte order) as a dotted quad; returns its length. */
KEEL_API int keel_ipv4_format(uint32_t addr, char out[KEEL_IPV4_STRLEN]);

/**
 * Parse an IPv4 dotted quad or any RFC 4291 IPv6 text ("::", "1::",
 * "::ffff:192.0.2.1", hex digits in either case, 1-4 per group).  A text
 * with a ':' is read as IPv6.  Returns 0 or KEEL_EINVAL; `*out` only on 0.
 */
KEEL_API int keel_ip_parse(keel_str_t s, keel_ip_t *out);
/**
 * Write the canonical text: a dotted quad, or RFC 5952 IPv6 (lowercase, no
 * leading zeros, the longest run of two or more zero groups - the first on
 * a tie - as "::", IPv4-mapped as "::ffff:1.2.3.4").  Returns the length,
 * or KEEL_EINVAL for an unknown family.
 */
KEEL_API int keel_ip_format(const keel_ip_t *ip, char out[KEEL_IP_STRLEN]);
/** True when both have the same family and the same address bytes. */
KEEL_API bool keel_ip_eq(const keel_ip_t *a, const keel_ip_t *b);
/** `*ip` itself, except an IPv4-mapped IPv6 address becomes plain IPv4. */
KEEL_API keel_ip_t keel_ip_unmap(const keel_ip_t *ip);
/**
 * Read the address of an AF_INET or AF_INET6 socket address (port and IPv6
 * scope are dropped).  Returns 0, or KEEL_EINVAL for another family.
 */
KEEL_API int keel_ip_from_sockaddr(const struct sockaddr *sa, keel_ip_t *out);

/**
 * Parse "address/prefix" ("10.0.0.0/8", "2001:db8::/32"); a bare address is
 * /32 or /128.  The prefix is strict decimal (no sign, no leading zero)
 * within the family's range.  Host bits past the prefix must be zero:
 * "10.0.0.1/8" is refused rather than silently masked, because in a
 * trusted-proxy list it is more likely a typo than a wish.  KEEL_EINVAL.
 */
KEEL_API int keel_cidr_parse(keel_str_t s, keel_cidr_t *out);
/** Write "address/prefix" in canonical form; the length, or KEEL_EINVAL. */
KEEL_API int keel_cidr_format(const keel_cidr_t *cidr,
                              char out[KEEL_CIDR_STRLEN]);
/**
 * True when `ip` lies in `cidr`.  An IPv4 range also matches IPv4-mapped
 * IPv6 addresses, the form an IPv4 peer takes on a dual-stack socket; an
 * IPv6 range matches IPv6 addresses only (write IPv4 ranges as IPv4).
 */
KEEL_API bool keel_cidr_match(const keel_cidr_t *cidr, const keel_ip_t *ip);

#endif
