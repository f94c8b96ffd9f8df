/*
 * The byte classes of RFC 9110 (tokens, field values) and RFC 3986 (path,
 * query, host) as one lookup table, so that each parser loop tests
 * a byte with a single load instead of a chain of comparisons.
 */
#include "http/internal.h"

#define T KEEL__HTTP_TCHAR
#define P KEEL__HTTP_PATH
#define Q KEEL__HTTP_QUERY
#define V KEEL__HTTP_VALUE
#define H KEEL__HTTP_HEX
#define R KEEL__HTTP_HOST

/* Shorthands for the combinations that recur, to keep the rows short. */
#define HEXC (T | P | Q | V | H | R) /* 0-9 A-F a-f */
#define WORD (T | P | Q | V | R)     /* G-Z g-z - . ! $ % & ' * + _ ~ */
#define SUBP (P | Q | V | R)         /* ( ) , ; = */

/*
 * The path admits, besides RFC 3986 pchar and '/', the bytes '|' '^' '['
 * ']' that browsers send unescaped; the query admits every visible byte but
 * '#', for the same reason.
 */
/* clang-format off */
const uint8_t keel__http_ascii[128] = {
	/* 00  . . . . . . . . */
	0, 0, 0, 0, 0, 0, 0, 0,
	/* 08  . . . . . . . .  (HTAB at 09) */
	0, V, 0, 0, 0, 0, 0, 0,
	/* 10  . . . . . . . . */
	0, 0, 0, 0, 0, 0, 0, 0,
	/* 18  . . . . . . . . */
	0, 0, 0, 0, 0, 0, 0, 0,
	/* 20  SP ! " # $ % & ' */
	V, WORD, Q | V, T | V, WORD, WORD, WORD, WORD,
	/* 28  ( ) * + , - . / */
	SUBP, SUBP, WORD, WORD, SUBP, WORD, WORD, P | Q | V,
	/* 30  0 1 2 3 4 5 6 7 */
	HEXC, HEXC, HEXC, HEXC, HEXC, HEXC, HEXC, HEXC,
	/* 38  8 9 : ; < = > ? */
	HEXC, HEXC, P | Q | V, SUBP, Q | V, SUBP, Q | V, Q | V,
	/* 40  @ A B C D E F G */
	P | Q | V, HEXC, HEXC, HEXC, HEXC, HEXC, HEXC, WORD,
	/* 48  H I J K L M N O */
	WORD, WORD, WORD, WORD, WORD, WORD, WORD, WORD,
	/* 50  P Q R S T U V W */
	WORD, WORD, WORD, WORD, WORD, WORD, WORD, WORD,
	/* 58  X Y Z [ \ ] ^ _ */
	WORD, WORD, WORD, P | Q | V, Q | V, P | Q | V, T | P | Q | V, WORD,
	/* 60  ` a b c d e f g */
	T | Q | V, HEXC, HEXC, HEXC, HEXC, HEXC, HEXC, WORD,
	/* 68  h i j k l m n o */
	WORD, WORD, WORD, WORD, WORD, WORD, WORD, WORD,
	/* 70  p q r s t u v w */
	WORD, WORD, WORD, WORD, WORD, WORD, WORD, WORD,
	/* 78  x y z { | } ~ DEL */
	WORD, WORD, WORD, Q | V, T | P | Q | V, Q | V, WORD, 0,
};
/* clang-format on */
