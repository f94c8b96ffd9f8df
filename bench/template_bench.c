/*
 * template_bench - render a realistic page (a layout with blocks, a child
 * page, a loop of 100 articles through an included partial, attribute and
 * URL escaping) with keel_tpl_render, against the same HTML written by
 * hand in C (keel_buf_append plus an escaping loop).  Both must produce
 * identical bytes, or the exit status is 1.  Each side renders RENDERS
 * pages per run, REPS runs (default 5, or argv[1]); the table shows the
 * median CPU time per page and the output rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/template.h"

#define ARTICLES 100
#define RENDERS  2000
#define MAX_REPS 31

static const char base_src[] =
        "<!doctype html><html><head><title>{% block title %}{% endblock %}"
        "</title></head><body><nav><a href=\"/\">Home</a> "
        "<a href=\"/@{{ user.name }}\">{{ user.name }}</a></nav>"
        "<main>{% block main %}{% endblock %}</main></body></html>";
static const char page_src[] =
        "{% extends \"base.html\" %}{% block title %}Feed - {{ site }}"
        "{% endblock %}{% block main %}<ul class=\"feed\">"
        "{% for a in articles %}{% include \"item.html\" %}"
        "{% empty %}<li>Nothing yet</li>{% endfor %}</ul>{% endblock %}";
static const char item_src[] =
        "<li class=\"{% if loop.first %}first{% endif %}\">"
        "<a href=\"{{ a.url }}\" title=\"{{ a.title }}\">{{ a.title }}</a> "
        "by {{ a.author }} <span>{{ a.likes }}</span></li>";

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_t *make_context(void)
{
	json_t *arts = json_array();
	for (int i = 0; i < ARTICLES; i++) {
		char url[64], title[64];
		snprintf(url, sizeof url, "/article/how-to-%d", i);
		snprintf(title, sizeof title,
		         "How to <b>train</b> \"dragon\" #%d", i);
		json_array_append_new(
		        arts, json_pack("{s:s,s:s,s:s,s:i}", "url", url,
		                        "title", title, "author",
		                        "O'Brien & co", "likes", i * 7));
	}
	return json_pack("{s:s,s:{s:s},s:o}", "site", "Conduit", "user", "name",
	                 "jake", "articles", arts);
}

static void esc(keel_buf_t *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': keel_buf_append(b, "&amp;", 5); break;
		case '<': keel_buf_append(b, "&lt;", 4); break;
		case '>': keel_buf_append(b, "&gt;", 4); break;
		case '"': keel_buf_append(b, "&quot;", 6); break;
		case '\'': keel_buf_append(b, "&#39;", 5); break;
		default: keel_buf_append_char(b, *s); break;
		}
	}
}

#define LIT(b, s) keel_buf_append(b, s, sizeof(s) - 1)

/* The page as a C programmer would write it without templates. */
static void by_hand(keel_buf_t *b, const json_t *ctx)
{
	const char *user = json_string_value(
	        json_object_get(json_object_get(ctx, "user"), "name"));
	LIT(b, "<!doctype html><html><head><title>Feed - ");
	esc(b, json_string_value(json_object_get(ctx, "site")));
	LIT(b, "</title></head><body><nav><a href=\"/\">Home</a> <a href=\"/@");
	esc(b, user);
	LIT(b, "\">");
	esc(b, user);
	LIT(b, "</a></nav><main><ul class=\"feed\">");
	const json_t *arts = json_object_get(ctx, "articles");
	for (size_t i = 0; i < json_array_size(arts); i++) {
		const json_t *a = json_array_get(arts, i);
		const char *title =
		        json_string_value(json_object_get(a, "title"));
		LIT(b, "<li class=\"");
		if (i == 0)
			LIT(b, "first");
		LIT(b, "\"><a href=\"");
		esc(b, json_string_value(json_object_get(a, "url")));
		LIT(b, "\" title=\"");
		esc(b, title);
		LIT(b, "\">");
		esc(b, title);
		LIT(b, "</a> by ");
		esc(b, json_string_value(json_object_get(a, "author")));
		keel_buf_appendf(b, " <span>%lld</span></li>",
		                 (long long)json_integer_value(
		                         json_object_get(a, "likes")));
	}
	LIT(b, "</ul></main></body></html>");
}

static keel_tpl_set_t *make_set(void)
{
	keel_tpl_set_t *set = keel_tpl_set_new(NULL);
	keel_tpl_error_t err;
	if (set == NULL ||
	    keel_tpl_set_add(set, "base.html", base_src, strlen(base_src),
	                     &err) != 0 ||
	    keel_tpl_set_add(set, "page.html", page_src, strlen(page_src),
	                     &err) != 0 ||
	    keel_tpl_set_add(set, "item.html", item_src, strlen(item_src),
	                     &err) != 0 ||
	    keel_tpl_set_compile(set, &err) != 0) {
		fprintf(stderr, "template: %s:%u:%u: %s\n", err.name, err.line,
		        err.col, err.msg);
		exit(1);
	}
	return set;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median over `reps` runs of RENDERS pages, in ms per run. */
static double run(int reps, const keel_tpl_set_t *set, const json_t *ctx,
                  keel_buf_t *b)
{
	double ms[MAX_REPS];
	for (int r = 0; r < reps; r++) {
		double t0 = cpu_ms();
		for (int i = 0; i < RENDERS; i++) {
			keel_buf_reset(b);
			if (set == NULL)
				by_hand(b, ctx);
			else if (keel_tpl_render(set, "page.html", ctx, b,
			                         NULL))
				exit(1);
		}
		ms[r] = cpu_ms() - t0;
	}
	qsort(ms, (size_t)reps, sizeof ms[0], cmp_double);
	return ms[reps / 2];
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (reps < 1 || reps > MAX_REPS)
		reps = 5;
	keel_tpl_set_t *set = make_set();
	json_t *ctx = make_context();
	keel_buf_t a, b;
	keel_buf_init(&a, 0);
	keel_buf_init(&b, 0);
	double tpl_ms = run(reps, set, ctx, &a);
	double hand_ms = run(reps, NULL, ctx, &b);
	int bad = a.len != b.len || memcmp(a.data, b.data, a.len) != 0;
	printf("page: %zu bytes, %d articles, %d renders x %d runs (median)\n",
	       a.len, ARTICLES, RENDERS, reps);
	printf("%-12s %10s %10s\n", "writer", "us/page", "MB/s");
	printf("%-12s %10.1f %10.0f\n", "keel_tpl", tpl_ms * 1e3 / RENDERS,
	       (double)a.len * RENDERS / (tpl_ms * 1e3));
	printf("%-12s %10.1f %10.0f\n", "by hand", hand_ms * 1e3 / RENDERS,
	       (double)b.len * RENDERS / (hand_ms * 1e3));
	printf("template / hand: %.2f%s\n", tpl_ms / hand_ms,
	       bad ? "  OUTPUT DIFFERS" : "");
	keel_buf_deinit(&a);
	keel_buf_deinit(&b);
	json_decref(ctx);
	keel_tpl_set_free(set);
	return bad;
}
