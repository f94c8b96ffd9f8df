/*
 * The HTML context tracker behind auto-escaping.  The literal text of a
 * template is fed through a cut-down version of the HTML tokenizer (data,
 * tags, attributes and their quoting, comments, raw-text elements) so
 * that at every output tag we know where the value will land and how it
 * must be escaped, or that no escaping can make it safe there.
 *
 * The tracker only has to be right about the spots where escaping
 * differs; where it cannot follow the markup (an output that might have
 * changed the state) it assumes the state that escapes most or refuses.
 */
#include <string.h>

#include "template_int.h"

#define HF_TYPE_SEEN 4u /* the <script> already had a type attribute */
#define HF_LONG      8u /* buf overflowed or is unknown */

static const char *const elem_names[HE_COUNT] = {[HE_NONE] = "",
                                                 [HE_SCRIPT] = "script",
                                                 [HE_STYLE] = "style",
                                                 [HE_TEXTAREA] = "textarea",
                                                 [HE_TITLE] = "title",
                                                 [HE_XMP] = "xmp",
                                                 [HE_IFRAME] = "iframe",
                                                 [HE_NOEMBED] = "noembed",
                                                 [HE_NOFRAMES] = "noframes"};

/* Attributes holding a URL: an output there gets the scheme check. */
static const char *const url_attrs[] = {
        "href",     "src",        "action",   "formaction", "poster",
        "cite",     "background", "longdesc", "usemap",     "data",
        "codebase", "manifest",   "ping",     "srcset",     "xlink:href",
        "icon",     "lowsrc",     "dynsrc",   "classid",    "profile"};

static const char *const safe_schemes[] = {"http", "https", "mailto", "tel"};

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static void buf_reset(tpl_html_t *h)
{
	h->len = 0;
	h->flags &= (uint8_t)~HF_LONG;
}

static void buf_add(tpl_html_t *h, unsigned char c)
{
	if (h->len < TPL_HTML_BUF)
		h->buf[h->len++] = lower(c);
	else
		h->flags |= HF_LONG;
}

static bool buf_is(const tpl_html_t *h, const char *s)
{
	size_t n = strlen(s);
	return !(h->flags & HF_LONG) && h->len == n &&
	       memcmp(h->buf, s, n) == 0;
}

void keel__tpl_html_init(tpl_html_t *h)
{
	memset(h, 0, sizeof *h);
	h->st = HS_DATA;
}

/* ------------------------------------------------------------ tag parts */

static void start_tag(tpl_html_t *h, unsigned char c, uint8_t flags)
{
	h->st = HS_TAG_NAME;
	h->elem = HE_NONE;
	h->attr = HA_NORMAL;
	h->url = HU_SAFE;
	h->flags = flags;
	buf_reset(h);
	buf_add(h, c);
}

static void end_tag_name(tpl_html_t *h)
{
	h->elem = HE_NONE;
	if (h->flags & HF_END_TAG)
		return;
	for (uint8_t e = HE_SCRIPT; e < HE_COUNT; e++)
		if (buf_is(h, elem_names[e]))
			h->elem = e;
}

static uint8_t attr_kind(const tpl_html_t *h)
{
	if (h->len >= 2 && h->buf[0] == 'o' && h->buf[1] == 'n')
		return HA_JS;
	for (size_t i = 0; i < KEEL_COUNTOF(url_attrs); i++)
		if (buf_is(h, url_attrs[i]))
			return HA_URL;
	if (buf_is(h, "style"))
		return HA_CSS;
	if (buf_is(h, "srcdoc"))
		return HA_HTML;
	if (buf_is(h, "type") && h->elem == HE_SCRIPT &&
	    !(h->flags & HF_TYPE_SEEN))
		return HA_TYPE;
	return HA_NORMAL;
}

static void end_attr_name(tpl_html_t *h)
{
	h->attr = attr_kind(h);
	if (h->attr == HA_TYPE)
		h->flags |= HF_TYPE_SEEN;
}

static void start_value(tpl_html_t *h, uint8_t st)
{
	h->st = st;
	h->url = h->attr == HA_URL ? HU_EMPTY : HU_SAFE;
	buf_reset(h);
}

/* The type attribute of a <script> decides whether it is a data block,
 * which browsers never run, compared without case or outer spaces. */
static void end_value(tpl_html_t *h)
{
	if (h->attr == HA_TYPE) {
		size_t a = 0, b = h->len;
		while (a < b && is_ws((unsigned char)h->buf[a]))
			a++;
		while (b > a && is_ws((unsigned char)h->buf[b - 1]))
			b--;
		bool json =
		        !(h->flags & HF_LONG) &&
		        ((b - a == 16 &&
		          memcmp(h->buf + a, "application/json", 16) == 0) ||
		         (b - a == 19 &&
		          memcmp(h->buf + a, "application/ld+json", 19) == 0));
		if (json)
			h->flags |= HF_DATA_BLOCK;
	}
	h->st = HS_BEFORE_ATTR;
	h->attr = HA_NORMAL;
	h->url = HU_SAFE;
	buf_reset(h);
}

static void close_tag(tpl_html_t *h)
{
	bool opens_raw = !(h->flags & HF_END_TAG) && h->elem != HE_NONE;
	uint8_t keep = h->elem == HE_SCRIPT ? (h->flags & HF_DATA_BLOCK) : 0;
	h->st = opens_raw ? HS_RAW : HS_DATA;
	if (!opens_raw)
		h->elem = HE_NONE;
	h->flags = opens_raw ? keep : 0;
	h->attr = HA_NORMAL;
	h->url = HU_SAFE;
	h->len = 0;
}

/*
 * A URL attribute's literal text decides its scheme: a safe scheme or a
 * leading '/', '?' or '#' makes later outputs plain escaping; any other
 * scheme, or a character reference that could hide one, makes them
 * refused.  Browsers drop tabs and newlines inside URLs, so do we.
 */
static void url_char(tpl_html_t *h, unsigned char c)
{
	if (h->url == HU_SAFE || h->url == HU_UNSAFE || c == '\t' ||
	    c == '\n' || c == '\r')
		return;
	if (h->url == HU_EMPTY && c <= ' ')
		return;
	if (c == '/' || c == '?' || c == '#') {
		h->url = HU_SAFE;
	} else if (c == ':') {
		h->url = HU_UNSAFE;
		for (size_t i = 0; i < KEEL_COUNTOF(safe_schemes); i++)
			if (buf_is(h, safe_schemes[i]))
				h->url = HU_SAFE;
	} else if (c == '&') {
		h->url = HU_UNSAFE;
	} else {
		buf_add(h, c);
		h->url = HU_UNDECIDED;
	}
}

static void value_char(tpl_html_t *h, unsigned char c)
{
	if (h->attr == HA_URL)
		url_char(h, c);
	else if (h->attr == HA_TYPE)
		buf_add(h, c);
}

/* ------------------------------------------------------------ tokenizer */

/* Each step returns true when `c` must be seen again in the new state. */
static bool step_markup(tpl_html_t *h, unsigned char c)
{
	switch (h->st) {
	case HS_DATA:
		if (c == '<')
			h->st = HS_LT;
		return false;
	case HS_LT:
		if (is_alpha(c))
			start_tag(h, c, 0);
		else if (c == '/' || c == '!' || c == '?')
			h->st = c == '/'   ? HS_END_OPEN
			        : c == '!' ? HS_BANG
			                   : HS_DECL;
		else
			h->st = HS_DATA;
		return h->st == HS_DATA;
	case HS_END_OPEN:
		if (is_alpha(c))
			start_tag(h, c, HF_END_TAG);
		else
			h->st = c == '>' ? HS_DATA : HS_DECL;
		return false;
	case HS_BANG:
	case HS_BANG_DASH:
		if (c == '-')
			h->st = h->st == HS_BANG ? HS_BANG_DASH : HS_CMT_START;
		else
			h->st = c == '>' ? HS_DATA : HS_DECL;
		return false;
	case HS_DECL:
		if (c == '>')
			h->st = HS_DATA;
		return false;
	default: break;
	}
	return false;
}

static bool step_comment(tpl_html_t *h, unsigned char c)
{
	switch (h->st) {
	case HS_CMT_START:
	case HS_CMT_START_D:
		if (c == '>') {
			h->st = HS_DATA;
			return false;
		}
		if (c == '-') {
			h->st = h->st == HS_CMT_START ? HS_CMT_START_D
			                              : HS_CMT_D2;
			return false;
		}
		h->st = HS_CMT;
		return true;
	case HS_CMT:
		if (c == '-')
			h->st = HS_CMT_D1;
		return false;
	case HS_CMT_D1: h->st = c == '-' ? HS_CMT_D2 : HS_CMT; return false;
	case HS_CMT_D2:
		h->st = c == '>'   ? HS_DATA
		        : c == '!' ? HS_CMT_BANG
		        : c == '-' ? HS_CMT_D2
		                   : HS_CMT;
		return false;
	case HS_CMT_BANG:
		h->st = c == '>' ? HS_DATA : c == '-' ? HS_CMT_D1 : HS_CMT;
		return false;
	default: return false;
	}
}

/* Tag name, attribute names and the '/' of a self-closing tag. */
static bool step_tag(tpl_html_t *h, unsigned char c)
{
	uint8_t st = h->st;
	if (st == HS_TAG_NAME || st == HS_ATTR_NAME) {
		if (!is_ws(c) && c != '/' && c != '>' &&
		    (st == HS_TAG_NAME || c != '=')) {
			buf_add(h, c);
			return false;
		}
		if (st == HS_TAG_NAME)
			end_tag_name(h);
		else
			end_attr_name(h);
		h->st = st == HS_ATTR_NAME && c == '='   ? HS_BEFORE_VAL
		        : st == HS_ATTR_NAME && is_ws(c) ? HS_AFTER_ATTR
		                                         : HS_BEFORE_ATTR;
		return c != '=' && !is_ws(c);
	}
	if (is_ws(c))
		return false;
	if (c == '>') {
		close_tag(h);
		return false;
	}
	if (c == '/') {
		h->st = HS_SELF_CLOSE;
		return false;
	}
	if (st == HS_SELF_CLOSE) {
		h->st = HS_BEFORE_ATTR;
		return true;
	}
	if (st == HS_AFTER_ATTR && c == '=') {
		h->st = HS_BEFORE_VAL;
		return false;
	}
	h->st = HS_ATTR_NAME;
	h->attr = HA_NORMAL;
	buf_reset(h);
	buf_add(h, c);
	return false;
}

static bool step_value(tpl_html_t *h, unsigned char c)
{
	switch (h->st) {
	case HS_BEFORE_VAL:
		if (is_ws(c))
			return false;
		if (c == '>') {
			close_tag(h);
			return false;
		}
		start_value(h, c == '"'    ? HS_VAL_DQ
		               : c == '\'' ? HS_VAL_SQ
		                           : HS_VAL_UNQ);
		return h->st == HS_VAL_UNQ;
	case HS_VAL_DQ:
	case HS_VAL_SQ:
		if (c == (h->st == HS_VAL_DQ ? '"' : '\''))
			end_value(h);
		else
			value_char(h, c);
		return false;
	default: /* HS_VAL_UNQ */
		if (is_ws(c) || c == '>') {
			end_value(h);
			return c == '>';
		}
		value_char(h, c);
		return false;
	}
}

/* Raw text ends only at "</name" followed by a space, '/' or '>'. */
static bool step_raw(tpl_html_t *h, unsigned char c)
{
	const char *name = elem_names[h->elem];
	size_t n = strlen(name);
	switch (h->st) {
	case HS_RAW:
		if (c == '<')
			h->st = HS_RAW_LT;
		return false;
	case HS_RAW_LT:
		h->st = c == '/' ? HS_RAW_SLASH : HS_RAW;
		h->len = 0;
		return h->st == HS_RAW;
	default: /* HS_RAW_SLASH, HS_RAW_NAME */
		if (h->len < n) {
			if (lower(c) != name[h->len]) {
				h->st = HS_RAW;
				return true;
			}
			h->buf[h->len] = name[h->len];
			h->len++;
			h->st = HS_RAW_NAME;
			return false;
		}
		if (!is_ws(c) && c != '/' && c != '>') {
			h->st = HS_RAW;
			return true;
		}
		h->st = HS_BEFORE_ATTR;
		h->elem = HE_NONE;
		h->flags = HF_END_TAG;
		h->len = 0;
		return true;
	}
}

static bool step(tpl_html_t *h, unsigned char c)
{
	if (h->st <= HS_DECL)
		return step_markup(h, c);
	if (h->st <= HS_CMT_BANG)
		return step_comment(h, c);
	if (h->st >= HS_RAW)
		return step_raw(h, c);
	if (h->st >= HS_BEFORE_VAL && h->st <= HS_VAL_UNQ)
		return step_value(h, c);
	return step_tag(h, c);
}

void keel__tpl_html_feed(tpl_html_t *h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		while (step(h, (unsigned char)s[i]))
			;
}

/* -------------------------------------------------------------- outputs */

static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return KEEL_EINVAL;
}

static int url_output(tpl_html_t *h, uint8_t *esc, const char **why)
{
	switch (h->url) {
	case HU_SAFE: *esc = TPL_ESC_HTML; return 0;
	case HU_EMPTY:
		*esc = TPL_ESC_URL;
		h->url = HU_UNDECIDED;
		h->flags |= HF_LONG;
		return 0;
	case HU_UNDECIDED:
		return refuse(why, "output tag inside the scheme of a URL "
		                   "attribute; start the value with it, or "
		                   "with '/', '?', '#' or a safe scheme");
	default:
		return refuse(why, "output tag in a URL whose scheme is not "
		                   "http, https, mailto or tel");
	}
}

static int attr_output(tpl_html_t *h, unsigned flags, uint8_t *esc,
                       const char **why)
{
	if (flags & TPL_OUT_RAW) {
		if (h->attr == HA_URL && h->url == HU_EMPTY) {
			h->url = HU_UNDECIDED;
			h->flags |= HF_LONG;
		}
		if (h->attr == HA_TYPE)
			h->flags |= HF_LONG;
		*esc = TPL_ESC_NONE;
		return 0;
	}
	switch (h->attr) {
	case HA_NORMAL: *esc = TPL_ESC_HTML; return 0;
	case HA_URL: return url_output(h, esc, why);
	case HA_JS:
		return refuse(why, "output tag in an event handler attribute; "
		                   "pass the value in a data-* attribute");
	case HA_CSS: return refuse(why, "output tag in a style attribute");
	case HA_HTML: return refuse(why, "output tag in a srcdoc attribute");
	default: return refuse(why, "output tag in the type of a <script>");
	}
}

static int raw_text_output(tpl_html_t *h, unsigned flags, uint8_t *esc,
                           const char **why)
{
	bool raw = flags & TPL_OUT_RAW, json = flags & TPL_OUT_JSON;
	if (raw) {
		*esc = TPL_ESC_NONE;
		return 0;
	}
	if (h->st != HS_RAW)
		return refuse(why, "output tag after a '<' in raw text");
	if (h->elem == HE_SCRIPT && (h->flags & HF_DATA_BLOCK)) {
		*esc = TPL_ESC_SCRIPT;
		return json ? 0
		            : refuse(why, "a <script type=\"application/json\">"
		                          " takes only {{ value | json }}");
	}
	if (h->elem == HE_SCRIPT)
		return refuse(why,
		              "output tag inside <script>; use | json in a "
		              "<script type=\"application/json\"> block");
	if (h->elem == HE_STYLE)
		return refuse(why, "output tag inside <style>");
	*esc = TPL_ESC_HTML;
	return 0;
}

/*
 * Escaping for an output tag in state h, or KEEL_EINVAL with the reason.
 * An output inside a comment might end in "--", so the state moves to
 * where a literal '>' would close the comment: we then assume the
 * comment closed, the direction that escapes more.
 */
int keel__tpl_html_output(tpl_html_t *h, unsigned flags, uint8_t *esc,
                          const char **why)
{
	bool raw = flags & TPL_OUT_RAW;
	if (h->st == HS_DATA) {
		*esc = raw ? TPL_ESC_NONE : TPL_ESC_HTML;
		return 0;
	}
	if (h->st >= HS_CMT_START && h->st <= HS_CMT_BANG) {
		*esc = raw ? TPL_ESC_NONE : TPL_ESC_HTML;
		h->st = HS_CMT_D2;
		return 0;
	}
	if (h->st == HS_VAL_DQ || h->st == HS_VAL_SQ)
		return attr_output(h, flags, esc, why);
	if (h->st >= HS_RAW)
		return raw_text_output(h, flags, esc, why);
	if (raw) {
		*esc = TPL_ESC_NONE;
		return 0;
	}
	if (h->st == HS_BEFORE_VAL || h->st == HS_VAL_UNQ)
		return refuse(why, "output tag in an unquoted attribute value; "
		                   "put quotes around the value");
	return refuse(why, "output tag inside an HTML tag or declaration, "
	                   "outside a quoted attribute value");
}

/* --------------------------------------------------------------- merges */

bool keel__tpl_html_eq(const tpl_html_t *a, const tpl_html_t *b)
{
	return a->st == b->st && a->elem == b->elem && a->attr == b->attr &&
	       a->url == b->url && a->flags == b->flags && a->len == b->len &&
	       memcmp(a->buf, b->buf, a->len) == 0;
}

static bool between_attrs(uint8_t st)
{
	return st == HS_BEFORE_ATTR || st == HS_ATTR_NAME ||
	       st == HS_AFTER_ATTR || st == HS_SELF_CLOSE;
}

static bool in_comment(uint8_t st)
{
	return st >= HS_CMT_START && st <= HS_CMT_BANG;
}

/* Flags of a merge: a data block only if both are, the rest from both. */
static uint8_t join_flags(uint8_t a, uint8_t b)
{
	uint8_t both = a & b & HF_DATA_BLOCK;
	return (uint8_t)(((a | b) & ~HF_DATA_BLOCK) | both);
}

/*
 * Two ways through an if (or a loop's first and later rounds) met.  Only
 * differences that do not change escaping are merged: a tag between
 * attributes (<input {% if %}checked{% endif %}>), how far a URL's scheme
 * is known (the least known wins), where a comment's end is.
 */
bool keel__tpl_html_join(tpl_html_t *acc, const tpl_html_t *o)
{
	if (keel__tpl_html_eq(acc, o))
		return true;
	if ((acc->flags ^ o->flags) & HF_END_TAG || acc->elem != o->elem)
		return false;
	if (between_attrs(acc->st) && between_attrs(o->st)) {
		acc->st = HS_BEFORE_ATTR;
		acc->attr = HA_NORMAL;
		acc->flags = join_flags(acc->flags, o->flags);
		buf_reset(acc);
		return true;
	}
	if (in_comment(acc->st) && in_comment(o->st)) {
		acc->st = HS_CMT_D2;
		return true;
	}
	if (acc->st != o->st || acc->attr != o->attr ||
	    (acc->st != HS_VAL_DQ && acc->st != HS_VAL_SQ &&
	     acc->st != HS_VAL_UNQ))
		return false;
	acc->url = acc->url > o->url ? acc->url : o->url;
	acc->flags = join_flags(acc->flags, o->flags);
	if (acc->len != o->len || memcmp(acc->buf, o->buf, acc->len) != 0)
		acc->flags |= HF_LONG;
	return true;
}

/*
 * A block may be filled by a child the parent never sees, so it must end
 * in its starting context, except for how much of a URL's scheme is
 * known; what follows the block assumes the worst about that.
 */
bool keel__tpl_html_block_end(const tpl_html_t *start, const tpl_html_t *end,
                              tpl_html_t *after)
{
	tpl_html_t j = *start, a = *start;
	if (!keel__tpl_html_join(&j, end))
		return false;
	j.url = a.url = HU_SAFE;
	j.len = a.len = 0;
	j.flags &= (uint8_t)~HF_LONG;
	a.flags &= (uint8_t)~HF_LONG;
	if (!keel__tpl_html_eq(&j, &a))
		return false;
	*after = *start;
	if (start->url == HU_EMPTY || start->url == HU_UNDECIDED) {
		after->url = HU_UNSAFE;
		after->flags |= HF_LONG;
	}
	return true;
}

bool keel__tpl_html_in_text(const tpl_html_t *h)
{
	return h->st == HS_DATA;
}
