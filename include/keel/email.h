/*
 * keel/email.h - syntax check for an email address given at sign-up or in a
 * profile.  It answers "is this shaped like an address we can store and
 * send to", not "does this mailbox exist" (only a confirmation mail can).
 *
 * The accepted language is a deliberate subset of RFC 5321/5322 - the part
 * real mail systems deliver to - and is exactly this POSIX extended regular
 * expression (KEEL_EMAIL_REGEX below) plus four length limits:
 *
 *   ^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*
 *   @([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+
 *   (([A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?
 *   |[0-9]+(-+[0-9]+)+)$
 *
 *   (the macro joins these lines into one string)
 *
 * - whole address at most 254 bytes (the 256-byte SMTP path minus "<>");
 * - local part (before '@') 1..64 bytes: a dot-atom, runs of RFC 5322
 *   "atext" (letters, digits, !#$%&'*+-/=?^_`{|}~) joined by single dots,
 *   no dot first or last.  Quoted local parts ("a b"@x.org) and comments
 *   are refused: legal, but nearly unused and a source of injection bugs;
 * - exactly one '@';
 * - domain at most 253 bytes, two or more labels joined by dots, each
 *   1..63 letters, digits or hyphens, not starting or ending with '-'; the
 *   last label is not all digits, so "a@192.0.2.1" is not taken for a
 *   domain name, and IP literals ("a@[192.0.2.1]") are refused;
 * - ASCII only.  Internationalised addresses (RFC 6531 UTF-8 local parts,
 *   Unicode domains) are refused: they need SMTPUTF8 support at every hop
 *   and IDNA processing, and lookalike characters make them an impersonation
 *   risk; a user with one can register its punycode ("xn--") domain form.
 */
#ifndef KEEL_EMAIL_H
#define KEEL_EMAIL_H

#include "keel/str.h"

/** The longest address keel_email_check accepts, in bytes. */
#define KEEL_EMAIL_MAX        254
/** The longest local part (before the '@'), in bytes. */
#define KEEL_EMAIL_LOCAL_MAX  64
/** The longest domain (after the '@'), in bytes. */
#define KEEL_EMAIL_DOMAIN_MAX 253
/** The longest domain label (between dots), in bytes. */
#define KEEL_EMAIL_LABEL_MAX  63

/**
 * The POSIX ERE (regcomp with REG_EXTENDED, C locale) equal to
 * keel_email_check once the four length limits are applied too.
 */
#define KEEL_EMAIL_REGEX                                                       \
	"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"                                     \
	"(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"                                \
	"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+"                        \
	"(([A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?"      \
	"|[0-9]+(-+[0-9]+)+)$"

/**
 * Check `s` against the rules above (no NUL needed, nothing allocated).
 * Returns 0 when it is an acceptable address, else KEEL_EINVAL.
 */
KEEL_API int keel_email_check(keel_str_t s);

#endif
