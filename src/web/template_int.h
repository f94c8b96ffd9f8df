/*
 * template_int.h - what the template files share: the compiled form of a
 * template (a flat node list with index ranges for bodies, an expression
 * pool, a string pool), the HTML context tracker, the parser and renderer
 * states.  Nothing here is public.
 *
 * A template's nodes are in source order.  A structured node (if, elif,
 * else, for, empty, block) stores `end`, the index just past its whole
 * construct, so a body is always the range [i + 1, next branch or end).
 * Rendering walks these ranges; it never looks at the source again except
 * to copy literal text.
 */
#ifndef KEEL_TEMPLATE_INT_H
#define KEEL_TEMPLATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "keel/template.h"

#define TPL_NONE        UINT32_MAX
#define TPL_MAX_SOURCE  ((uint32_t)16 << 20) /* bytes of one template */
#define TPL_MAX_NEST    32  /* open statements inside one template */
#define TPL_MAX_EXPR    32  /* expression nesting (parens, not) */
#define TPL_MAX_NAME    255 /* bytes of a template name */
#define TPL_BLOCKED_URL "about:invalid#keel-blocked"

/* ---------------------------------------------------------------- nodes */

enum tpl_node_kind {
	TN_TEXT,    /* literal text: u.text */
	TN_OUT,     /* {{ expr }}: u.out */
	TN_IF,      /* u.cond; body [i+1, next) */
	TN_ELIF,    /* u.cond; body [i+1, next) */
	TN_ELSE,    /* body [i+1, end) */
	TN_FOR,     /* u.loop; body [i+1, empty) */
	TN_EMPTY,   /* body [i+1, end) */
	TN_BLOCK,   /* u.block; default body [i+1, end) */
	TN_INCLUDE, /* u.incl */
};

/* Output modes written after the filters of an output tag. */
#define TPL_OUT_RAW  1u
#define TPL_OUT_JSON 2u

/* How an output tag is escaped, decided by the HTML analysis. */
enum tpl_esc {
	TPL_ESC_HTML,   /* entities for & < > " ' */
	TPL_ESC_URL,    /* as HTML, after the scheme check */
	TPL_ESC_SCRIPT, /* JSON inside <script type=json>: \u003c etc. */
	TPL_ESC_NONE,   /* | raw */
};

/* Include node flag: reached on every rendering (not under if/for). */
#define TPL_INC_ALWAYS 1u

typedef struct tpl_node {
	uint8_t kind;
	uint8_t flags; /* TN_OUT: TPL_OUT_*; TN_INCLUDE: TPL_INC_* */
	uint8_t esc;   /* TN_OUT: enum tpl_esc */
	uint32_t pos;  /* byte offset of the tag in the source */
	uint32_t end;  /* structured nodes: index past the construct */
	union {
		struct {
			uint32_t off, len;
		} text;
		struct {
			uint32_t expr;
		} out;
		struct {
			uint32_t expr, next;
		} cond;
		struct {
			uint32_t expr, key, val, empty; /* key: TPL_NONE */
		} loop;
		struct {
			uint32_t name, id; /* pool offset, set-wide block id */
		} block;
		struct {
			uint32_t name, target; /* pool offset, template index */
		} incl;
	} u;
} tpl_node_t;

/* ---------------------------------------------------------- expressions */

enum tpl_expr_kind {
	TX_PATH,  /* a: first segment, b: segment count */
	TX_STR,   /* a: pool offset, b: length */
	TX_INT,   /* num */
	TX_TRUE,  /* */
	TX_FALSE, /* */
	TX_NULL,  /* */
	TX_NOT,   /* a */
	TX_AND,   /* a, b */
	TX_OR,    /* a, b */
	TX_EQ,    /* a, b; TX_NE..TX_GE follow in this order */
	TX_NE,
	TX_LT,
	TX_LE,
	TX_GT,
	TX_GE,
	TX_FILTER, /* filter applied to a, with argument b or TPL_NONE */
};

enum tpl_filter { TF_LENGTH, TF_UPPER, TF_LOWER, TF_DEFAULT };

typedef struct tpl_expr {
	uint8_t kind;
	uint8_t filter;
	uint8_t height; /* of the tree below, leaves are 1 */
	uint32_t a, b;
	int64_t num;
} tpl_expr_t;

/* One step of a path: an object key (pool offset) or an array index. */
typedef struct tpl_seg {
	uint32_t name; /* TPL_NONE for an index */
	uint32_t len;
	int64_t index;
} tpl_seg_t;

/* --------------------------------------------------------- HTML context */

enum tpl_html_state {
	HS_DATA,
	HS_LT,          /* after '<' */
	HS_END_OPEN,    /* after "</" */
	HS_BANG,        /* after "<!" */
	HS_BANG_DASH,   /* after "<!-" */
	HS_DECL,        /* <!DOCTYPE ..>, <?..>: up to '>' */
	HS_CMT_START,   /* just after "<!--" */
	HS_CMT_START_D, /* "<!---" */
	HS_CMT,         /* comment text */
	HS_CMT_D1,      /* '-' */
	HS_CMT_D2,      /* "--" */
	HS_CMT_BANG,    /* "--!" */
	HS_TAG_NAME,    /* reading a tag name into buf */
	HS_BEFORE_ATTR, /* inside a tag, between attributes */
	HS_ATTR_NAME,   /* reading an attribute name into buf */
	HS_AFTER_ATTR,  /* spaces after an attribute name */
	HS_BEFORE_VAL,  /* after '=' */
	HS_VAL_DQ,      /* "value" */
	HS_VAL_SQ,      /* 'value' */
	HS_VAL_UNQ,     /* value without quotes */
	HS_SELF_CLOSE,  /* '/' inside a tag */
	HS_RAW,         /* text of a raw-text element (elem) */
	HS_RAW_LT,      /* '<' inside raw text */
	HS_RAW_SLASH,   /* "</" inside raw text */
	HS_RAW_NAME,    /* "</" + len bytes of the element's name */
};

/* Elements whose content is not parsed as tags. */
enum tpl_elem {
	HE_NONE,
	HE_SCRIPT,
	HE_STYLE,
	HE_TEXTAREA,
	HE_TITLE,
	HE_XMP,
	HE_IFRAME,
	HE_NOEMBED,
	HE_NOFRAMES,
	HE_COUNT
};

/* What an attribute's value means. */
enum tpl_attr {
	HA_NORMAL,
	HA_URL,  /* href, src, ...: scheme checked */
	HA_JS,   /* on*: script */
	HA_CSS,  /* style */
	HA_HTML, /* srcdoc: a document */
	HA_TYPE, /* type of a <script>: decides data block */
};

/* How much of a URL attribute's scheme is known; joins take the max. */
enum tpl_url {
	HU_SAFE,      /* a safe scheme or a relative URL is fixed */
	HU_EMPTY,     /* nothing yet: an output is checked at render */
	HU_UNDECIDED, /* text that may still become a scheme */
	HU_UNSAFE,    /* javascript:, data:, ... written in the template */
};

#define HF_END_TAG    1u /* the tag being read is an end tag */
#define HF_DATA_BLOCK 2u /* <script> with a JSON type */
#define HF_BUF_LOST   0xffu

#define TPL_HTML_BUF 32

/* The HTML tokenizer state between two pieces of literal text. */
typedef struct tpl_html {
	uint8_t st;   /* enum tpl_html_state */
	uint8_t elem; /* raw-text element of the open tag or the raw text */
	uint8_t attr; /* enum tpl_attr of the current attribute */
	uint8_t url;  /* enum tpl_url inside a URL attribute value */
	uint8_t flags;
	uint8_t len;            /* bytes in buf, HF_BUF_LOST when unknown */
	char buf[TPL_HTML_BUF]; /* lower-case name or URL scheme so far */
} tpl_html_t;

void keel__tpl_html_init(tpl_html_t *h);
void keel__tpl_html_feed(tpl_html_t *h, const char *s, size_t n);
/* Escaping for an output tag here (0), or KEEL_EINVAL with *why set. */
int keel__tpl_html_output(tpl_html_t *h, unsigned flags, uint8_t *esc,
                          const char **why);
/* Merge two paths' states into *acc; false when no state covers both. */
bool keel__tpl_html_join(tpl_html_t *acc, const tpl_html_t *other);
bool keel__tpl_html_eq(const tpl_html_t *a, const tpl_html_t *b);
/* Whether a block from `start` may end in `end`; *after is the state to
 * go on with (the same for every definition of the block). */
bool keel__tpl_html_block_end(const tpl_html_t *start, const tpl_html_t *end,
                              tpl_html_t *after);
bool keel__tpl_html_in_text(const tpl_html_t *h);

/* ------------------------------------------------------------ templates */

/* Which definition fills a block when a given template is rendered. */
typedef struct tpl_slot {
	uint32_t tpl, node; /* TPL_NONE when the chain has no such block */
	tpl_html_t html;    /* context where the block sits */
} tpl_slot_t;

typedef struct tpl {
	char *name;
	char *src;
	uint32_t len;
	tpl_node_t *nodes;
	uint32_t n_nodes, cap_nodes;
	tpl_expr_t *exprs;
	uint32_t n_exprs, cap_exprs;
	tpl_seg_t *segs;
	uint32_t n_segs, cap_segs;
	char *pool;
	uint32_t n_pool, cap_pool;
	uint32_t extends;     /* pool offset of the parent's name or NONE */
	uint32_t extends_pos; /* where the extends tag is */
	uint32_t idx;         /* place in the set */
	/* filled by compile */
	uint32_t parent, root, depth;
	tpl_slot_t *slots; /* one per set-wide block id */
	tpl_html_t end;    /* context after the whole rendering */
	uint8_t mark;      /* graph walks */
} tpl_t;

/* A string -> index table (template names, block names). */
typedef struct tpl_names {
	const char **keys;
	uint32_t *vals;
	uint32_t cap, n;
} tpl_names_t;

int keel__tpl_names_put(tpl_names_t *m, const char *key, uint32_t val);
uint32_t keel__tpl_names_get(const tpl_names_t *m, const char *key);
void keel__tpl_names_free(tpl_names_t *m);

struct keel_tpl_set {
	tpl_t **tpls;
	uint32_t n, cap;
	keel_tpl_opts_t opts;
	tpl_names_t by_name;
	tpl_names_t blocks; /* block name -> id */
	bool compiled;
};

/* Grow *arr (elements of `size`) so that `need` fit; 0 or KEEL_ENOMEM. */
int keel__tpl_grow(void *arr, uint32_t *cap, size_t size, uint32_t need);
/* Append a copy of s[0..n) + NUL to the pool; its offset or TPL_NONE. */
uint32_t keel__tpl_pool_add(tpl_t *t, const char *s, size_t n);
/* Fill *err (may be NULL) for template t at byte pos; returns code. */
int keel__tpl_fail(keel_tpl_error_t *err, int code, const tpl_t *t,
                   uint32_t pos, const char *fmt, ...) KEEL_PRINTF(5, 6);
void keel__tpl_free(tpl_t *t);

/* --------------------------------------------------------------- lexing */

enum tpl_piece_kind { TP_TEXT, TP_OUT, TP_STMT, TP_EOF };

typedef struct tpl_piece {
	uint8_t kind;
	uint32_t pos;      /* start of the tag or text */
	uint32_t off, len; /* text, or the inside of the tag */
} tpl_piece_t;

typedef struct tpl_lex {
	const tpl_t *t;
	uint32_t at;
	bool trim_next; /* the last tag ended with '-' */
} tpl_lex_t;

int keel__tpl_lex_next(tpl_lex_t *lx, tpl_piece_t *p, keel_tpl_error_t *err);

enum tpl_tok_kind {
	TT_END,
	TT_IDENT,
	TT_STR,
	TT_INT,
	TT_DOT,
	TT_LBRACK,
	TT_RBRACK,
	TT_LPAREN,
	TT_RPAREN,
	TT_PIPE,
	TT_COMMA,
	TT_EQ,
	TT_NE,
	TT_LT,
	TT_LE,
	TT_GT,
	TT_GE,
};

typedef struct tpl_tok {
	uint8_t kind;
	uint32_t off, len; /* the token's bytes in the source */
} tpl_tok_t;

/* ---------------------------------------------------------------- parse */

typedef struct tpl_open {
	uint8_t kind;    /* TN_IF, TN_FOR, TN_BLOCK */
	uint32_t node;   /* the opening node */
	uint32_t branch; /* if: the latest branch node; for: empty or NONE */
} tpl_open_t;

typedef struct tpl_parser {
	tpl_t *t;
	keel_tpl_error_t *err;
	tpl_lex_t lx;
	tpl_open_t open[TPL_MAX_NEST];
	unsigned depth;
	unsigned conds;   /* open if/for statements */
	bool content;     /* something other than blank text seen */
	uint32_t tag_end; /* end of the current tag's inside */
	uint32_t at;      /* next byte to tokenize */
	tpl_tok_t tok;    /* current token */
} tpl_parser_t;

int keel__tpl_parse(tpl_t *t, keel_tpl_error_t *err);
int keel__tpl_tok_next(tpl_parser_t *p);
bool keel__tpl_tok_is(const tpl_parser_t *p, const char *word);
int keel__tpl_tok_string(tpl_parser_t *p, uint32_t *off, uint32_t *len);
/* Parse an expression; its index in *out. */
int keel__tpl_parse_expr(tpl_parser_t *p, uint32_t *out);

/* -------------------------------------------------------------- compile */

int keel__tpl_analyze(keel_tpl_set_t *set, tpl_t *t, keel_tpl_error_t *err);

/* --------------------------------------------------------------- render */

enum tpl_val_kind {
	TV_UNDEF,
	TV_NULL,
	TV_BOOL,
	TV_INT,
	TV_REAL,
	TV_STR,
	TV_ARRAY,
	TV_OBJECT,
	TV_LOOP,
};

#define TPL_FOLD_UPPER 1u
#define TPL_FOLD_LOWER 2u

struct tpl_scope;

/* A value during evaluation; borrows from the context or the template. */
typedef struct tpl_val {
	uint8_t kind;
	uint8_t fold;       /* strings: case change applied when printed */
	const json_t *json; /* where it came from, or NULL */
	union {
		bool b;
		int64_t i;
		double r;
		keel_str_t s;
		const struct tpl_scope *loop;
	} u;
} tpl_val_t;

/* One running {% for %}: its variables and position. */
typedef struct tpl_scope {
	const struct tpl_scope *up;
	const char *key_name; /* NULL for a one-variable loop */
	const char *val_name;
	tpl_val_t key, val;
	size_t index, length;
} tpl_scope_t;

typedef struct tpl_render {
	const keel_tpl_set_t *set;
	const json_t *ctx;
	keel_buf_t *out;
	keel_tpl_error_t *err;
	const tpl_scope_t *scope;
	const tpl_t *table; /* template whose block table is in force */
	const tpl_t *cur;   /* template of the node being rendered */
	uint32_t pos;       /* its tag, for errors */
	unsigned depth;
	uint64_t iterations;
} tpl_render_t;

/* ASCII case change of one byte for | upper and | lower. */
static inline char keel__tpl_fold(char c, unsigned fold)
{
	if (fold == TPL_FOLD_UPPER && c >= 'a' && c <= 'z')
		return (char)(c - ('a' - 'A'));
	if (fold == TPL_FOLD_LOWER && c >= 'A' && c <= 'Z')
		return (char)(c + ('a' - 'A'));
	return c;
}

int keel__tpl_eval(tpl_render_t *r, const tpl_t *t, uint32_t expr,
                   tpl_val_t *out);
/* "user.items[0]" for a path expression, "value" for anything else. */
void keel__tpl_expr_text(const tpl_t *t, uint32_t expr, char *buf, size_t size);
bool keel__tpl_truthy(const tpl_val_t *v);
tpl_val_t keel__tpl_from_json(const json_t *j);
const char *keel__tpl_kind_name(const tpl_val_t *v);
/* Append bytes to the output; fills r->err on failure. */
int keel__tpl_put(tpl_render_t *r, const char *s, size_t n);
/* Print v at an output tag with flags and escaping. */
int keel__tpl_write(tpl_render_t *r, const tpl_val_t *v, unsigned flags,
                    unsigned esc);
/* Render the compiled template t (with its own blocks) into r. */
int keel__tpl_render_tpl(tpl_render_t *r, const tpl_t *t);

#endif
