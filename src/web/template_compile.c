/*
 * Compiling a template set: names become indexes (extends, include),
 * extends chains are checked for cycles and ordered, block names get
 * set-wide ids so that each template can hold a direct table "block id ->
 * definition to render", the escaping pass runs parents first, and
 * includes are checked (target ends in text, no include cycle that every
 * rendering would follow).  Each step starts from scratch, so compile may
 * be called again after a failure once the missing piece was added.
 */
#include <stdlib.h>
#include <string.h>

#include "template_int.h"

static int resolve_names(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	for (uint32_t k = 0; k < set->n; k++) {
		tpl_t *t = set->tpls[k];
		t->parent = TPL_NONE;
		if (t->extends != TPL_NONE) {
			const char *name = t->pool + t->extends;
			t->parent = keel__tpl_names_get(&set->by_name, name);
			if (t->parent == TPL_NONE)
				return keel__tpl_fail(
				        err, KEEL_ENOENT, t, t->extends_pos,
				        "template '%s' not found", name);
		}
		for (uint32_t i = 0; i < t->n_nodes; i++) {
			tpl_node_t *n = &t->nodes[i];
			if (n->kind != TN_INCLUDE)
				continue;
			const char *name = t->pool + n->u.incl.name;
			n->u.incl.target =
			        keel__tpl_names_get(&set->by_name, name);
			if (n->u.incl.target == TPL_NONE)
				return keel__tpl_fail(
				        err, KEEL_ENOENT, t, n->pos,
				        "template '%s' not found", name);
		}
	}
	return 0;
}

/* A chain longer than the set has templates must loop. */
static int resolve_chains(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	for (uint32_t k = 0; k < set->n; k++) {
		tpl_t *t = set->tpls[k];
		const tpl_t *cur = t;
		uint32_t steps = 0;
		while (cur->parent != TPL_NONE) {
			if (++steps > set->n)
				return keel__tpl_fail(
				        err, KEEL_EINVAL, t, t->extends_pos,
				        "{%% extends %%} cycle: '%s' never "
				        "reaches "
				        "a template that extends nothing",
				        t->name);
			cur = set->tpls[cur->parent];
		}
		t->root = cur->idx;
		t->depth = steps;
	}
	return 0;
}

static int bind_blocks(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	keel__tpl_names_free(&set->blocks);
	for (uint32_t k = 0; k < set->n; k++) {
		tpl_t *t = set->tpls[k];
		for (uint32_t i = 0; i < t->n_nodes; i++) {
			tpl_node_t *n = &t->nodes[i];
			if (n->kind != TN_BLOCK)
				continue;
			const char *name = t->pool + n->u.block.name;
			uint32_t id = keel__tpl_names_get(&set->blocks, name);
			if (id == TPL_NONE) {
				id = set->blocks.n;
				if (keel__tpl_names_put(&set->blocks, name, id))
					return keel__tpl_fail(err, KEEL_ENOMEM,
					                      NULL, TPL_NONE,
					                      "out of memory");
			}
			n->u.block.id = id;
		}
	}
	return 0;
}

static int alloc_slots(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	size_t n = set->blocks.n != 0 ? set->blocks.n : 1;
	for (uint32_t k = 0; k < set->n; k++) {
		tpl_t *t = set->tpls[k];
		free(t->slots);
		t->slots = malloc(n * sizeof *t->slots);
		if (t->slots == NULL)
			return keel__tpl_fail(err, KEEL_ENOMEM, NULL, TPL_NONE,
			                      "out of memory");
		for (size_t i = 0; i < n; i++)
			t->slots[i].tpl = t->slots[i].node = TPL_NONE;
	}
	return 0;
}

/* Parents before children: one sweep per chain depth. */
static int analyze_all(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	uint32_t max = 0;
	for (uint32_t k = 0; k < set->n; k++)
		if (set->tpls[k]->depth > max)
			max = set->tpls[k]->depth;
	for (uint32_t d = 0; d <= max; d++) {
		for (uint32_t k = 0; k < set->n; k++) {
			if (set->tpls[k]->depth != d)
				continue;
			int rc = keel__tpl_analyze(set, set->tpls[k], err);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Depth-first over the edges every rendering follows: includes outside
 * if/for, and extends.  Reaching a template still on the path means its
 * rendering would include itself without end.
 */
static int no_cycle(keel_tpl_set_t *set, tpl_t *t, keel_tpl_error_t *err)
{
	t->mark = 1;
	for (uint32_t i = 0; i <= t->n_nodes; i++) {
		bool up = i == t->n_nodes;
		const tpl_node_t *n = up ? NULL : &t->nodes[i];
		if (up ? t->parent == TPL_NONE
		       : n->kind != TN_INCLUDE || !(n->flags & TPL_INC_ALWAYS))
			continue;
		tpl_t *u = set->tpls[up ? t->parent : n->u.incl.target];
		if (u->mark == 1)
			return keel__tpl_fail(err, KEEL_EINVAL, t,
			                      up ? t->extends_pos : n->pos,
			                      "include cycle: rendering '%s' "
			                      "always renders itself again",
			                      u->name);
		int rc = u->mark == 0 ? no_cycle(set, u, err) : 0;
		if (rc != 0)
			return rc;
	}
	t->mark = 2;
	return 0;
}

static int check_includes(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	for (uint32_t k = 0; k < set->n; k++) {
		tpl_t *t = set->tpls[k];
		t->mark = 0;
		for (uint32_t i = 0; i < t->n_nodes; i++) {
			const tpl_node_t *n = &t->nodes[i];
			if (n->kind != TN_INCLUDE)
				continue;
			const tpl_t *u = set->tpls[n->u.incl.target];
			if (!keel__tpl_html_in_text(&u->end))
				return keel__tpl_fail(
				        err, KEEL_EINVAL, t, n->pos,
				        "'%s' ends inside an HTML tag, comment "
				        "or "
				        "raw-text element, so it cannot be "
				        "included in text",
				        u->name);
		}
	}
	for (uint32_t k = 0; k < set->n; k++) {
		int rc = set->tpls[k]->mark == 0
		                 ? no_cycle(set, set->tpls[k], err)
		                 : 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int keel_tpl_set_compile(keel_tpl_set_t *set, keel_tpl_error_t *err)
{
	if (set == NULL)
		return keel__tpl_fail(err, KEEL_EINVAL, NULL, TPL_NONE,
		                      "no template set");
	int rc = 0;
	if (!set->compiled) {
		rc = resolve_names(set, err);
		if (rc == 0)
			rc = resolve_chains(set, err);
		if (rc == 0)
			rc = bind_blocks(set, err);
		if (rc == 0)
			rc = alloc_slots(set, err);
		if (rc == 0)
			rc = analyze_all(set, err);
		if (rc == 0)
			rc = check_includes(set, err);
		set->compiled = rc == 0;
	}
	if (rc == 0)
		keel__tpl_fail(err, 0, NULL, TPL_NONE, "%s", "");
	return rc;
}
