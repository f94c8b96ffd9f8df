/*
 * The escaping pass of compile: walk a template's nodes in rendering
 * order, feeding literal text to the HTML tracker, and give every output
 * tag the escaping its spot needs (or refuse it).  Control flow is
 * followed rather than source order: every branch of an if starts from
 * the state before it and all must end alike; a loop body must end where
 * it started, since it may run again; a block must too, since a child may
 * replace it with anything that meets the same rule.
 *
 * A block defined in a child starts in the state of the spot where its
 * parent renders that block, so templates are analysed parents first.
 */
#include <string.h>

#include "template_int.h"

typedef struct an {
	tpl_t *t;
	keel_tpl_error_t *err;
} an_t;

static int an_range(an_t *a, uint32_t from, uint32_t to, tpl_html_t *h);

static int mismatch(an_t *a, uint32_t node, const char *msg)
{
	return keel__tpl_fail(a->err, KEEL_EINVAL, a->t, a->t->nodes[node].pos,
	                      "%s", msg);
}

static int an_out(an_t *a, uint32_t i, tpl_html_t *h)
{
	tpl_node_t *n = &a->t->nodes[i];
	const char *why = "";
	uint8_t esc;
	if (keel__tpl_html_output(h, n->flags, &esc, &why) != 0)
		return keel__tpl_fail(a->err, KEEL_EINVAL, a->t, n->pos, "%s",
		                      why);
	n->esc = esc;
	return 0;
}

/* Each branch from the state before the if; without an else, not taking
 * any branch is one more way through. */
static int an_if(an_t *a, uint32_t i, tpl_html_t *h)
{
	const tpl_node_t *nodes = a->t->nodes;
	tpl_html_t acc = *h;
	bool first = true;
	uint32_t b = i;
	for (;;) {
		tpl_html_t s = *h;
		uint32_t next = nodes[b].u.cond.next;
		int rc = an_range(a, b + 1, next, &s);
		if (rc != 0)
			return rc;
		if (first)
			acc = s;
		else if (!keel__tpl_html_join(&acc, &s))
			return mismatch(a, i,
			                "the branches of this {% if %} end "
			                "in different HTML contexts");
		first = false;
		if (nodes[b].kind == TN_ELSE || next == nodes[i].end)
			break;
		b = next;
	}
	if (nodes[b].kind != TN_ELSE && !keel__tpl_html_join(&acc, h))
		return mismatch(a, i,
		                "the branches of this {% if %} end "
		                "in different HTML contexts");
	*h = acc;
	return 0;
}

/*
 * A second round of the body starts where the first ended; one more pass
 * from the merged state settles it, because merging only ever makes a
 * URL's scheme less known, and that is where it stops.
 */
static int an_for(an_t *a, uint32_t i, tpl_html_t *h)
{
	const tpl_node_t *n = &a->t->nodes[i];
	uint32_t body_end = n->u.loop.empty;
	static const char msg[] = "the body of this {% for %} ends in another "
	                          "HTML context than it starts";
	tpl_html_t s = *h, loop = *h;
	int rc = an_range(a, i + 1, body_end, &s);
	if (rc == 0 && !keel__tpl_html_join(&loop, &s))
		return mismatch(a, i, msg);
	if (rc == 0 && !keel__tpl_html_eq(&loop, h)) {
		tpl_html_t again = loop, next = loop;
		rc = an_range(a, i + 1, body_end, &again);
		if (rc == 0 && (!keel__tpl_html_join(&next, &again) ||
		                !keel__tpl_html_eq(&next, &loop)))
			return mismatch(a, i, msg);
	}
	if (rc != 0)
		return rc;
	tpl_html_t e = *h;
	if (body_end != n->end)
		rc = an_range(a, body_end + 1, n->end, &e);
	if (rc == 0 && !keel__tpl_html_join(&loop, &e))
		return mismatch(a, i,
		                "the {% empty %} branch of this {% for %} "
		                "ends in another HTML context");
	*h = loop;
	return rc;
}

/* The block's state is recorded as this template's slot: whatever fills
 * it (this body, or a child's) starts there. */
static int an_block(an_t *a, uint32_t i, tpl_html_t *h)
{
	const tpl_node_t *n = &a->t->nodes[i];
	tpl_slot_t *slot = &a->t->slots[n->u.block.id];
	*slot = (tpl_slot_t){a->t->idx, i, *h};
	tpl_html_t s = *h;
	int rc = an_range(a, i + 1, n->end, &s);
	if (rc == 0 && !keel__tpl_html_block_end(h, &s, h))
		return mismatch(a, i,
		                "this {% block %} must end in the HTML "
		                "context it starts in");
	return rc;
}

static int an_range(an_t *a, uint32_t from, uint32_t to, tpl_html_t *h)
{
	int rc = 0;
	for (uint32_t i = from; i < to && rc == 0;) {
		const tpl_node_t *n = &a->t->nodes[i];
		switch (n->kind) {
		case TN_TEXT:
			keel__tpl_html_feed(h, a->t->src + n->u.text.off,
			                    n->u.text.len);
			break;
		case TN_OUT: rc = an_out(a, i, h); break;
		case TN_IF: rc = an_if(a, i, h); break;
		case TN_FOR: rc = an_for(a, i, h); break;
		case TN_BLOCK: rc = an_block(a, i, h); break;
		case TN_INCLUDE:
			if (!keel__tpl_html_in_text(h))
				rc = mismatch(a, i,
				              "{% include %} is only allowed "
				              "in HTML text, not inside a "
				              "tag, comment or <script>");
			break;
		default: break;
		}
		i = n->kind >= TN_IF && n->kind <= TN_BLOCK ? n->end : i + 1;
	}
	return rc;
}

/* A template that extends another holds only top-level blocks; each is
 * analysed in the state its parent renders it in (or as text when the
 * parent has no such block, so it is never shown). */
static int an_child(an_t *a, const tpl_t *parent, size_t n_blocks)
{
	tpl_t *t = a->t;
	memcpy(t->slots, parent->slots, n_blocks * sizeof *t->slots);
	for (uint32_t i = 0; i < t->n_nodes; i = t->nodes[i].end) {
		const tpl_slot_t *ps = &parent->slots[t->nodes[i].u.block.id];
		tpl_html_t h;
		if (ps->tpl != TPL_NONE)
			h = ps->html;
		else
			keel__tpl_html_init(&h);
		int rc = an_block(a, i, &h);
		if (rc != 0)
			return rc;
	}
	t->end = parent->end;
	return 0;
}

int keel__tpl_analyze(keel_tpl_set_t *set, tpl_t *t, keel_tpl_error_t *err)
{
	an_t a = {t, err};
	if (t->parent != TPL_NONE)
		return an_child(&a, set->tpls[t->parent], set->blocks.n);
	tpl_html_t h;
	keel__tpl_html_init(&h);
	int rc = an_range(&a, 0, t->n_nodes, &h);
	t->end = h;
	return rc;
}
