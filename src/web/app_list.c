/*
 * The route table as people and tools see it: `prog routes` prints it,
 * keel_app_routes_each walks it (the OpenAPI generator does), and
 * keel_app_run is the main() that offers both listing and serving.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/log.h"
#include "keel/serve.h"
#include "keel/sort.h"
#include "web/app_int.h"

/* Pattern first, so a resource's methods sit together; then method. */
static int route_cmp(const void *a, const void *b)
{
	const keel_route_t *x = *(const keel_route_t *const *)a;
	const keel_route_t *y = *(const keel_route_t *const *)b;
	int c = strcmp(x->pattern, y->pattern);
	if (c)
		return c;
	return (x->method > y->method) - (x->method < y->method);
}

/* The routes in listing order, as a malloc'd array (NULL when none). */
static int sorted_routes(const keel_app_t *app, keel_route_t ***out)
{
	*out = NULL;
	if (app->nroutes == 0)
		return KEEL_OK;
	keel_route_t **v = malloc(app->nroutes * sizeof(*v));
	if (!v)
		return KEEL_ENOMEM;
	size_t i = 0;
	for (keel_route_t *r = app->routes; r; r = r->next)
		v[i++] = r;
	keel_sort(v, i, sizeof(*v), route_cmp);
	*out = v;
	return KEEL_OK;
}

int keel_app_routes_each(const keel_app_t *app, keel_route_each_fn *fn,
                         void *ctx)
{
	keel_route_t **v;
	int rc = sorted_routes(app, &v);
	for (size_t i = 0; rc == KEEL_OK && i < app->nroutes; i++)
		rc = fn(v[i], ctx);
	free(v);
	return rc;
}

typedef struct widths {
	int pattern, name;
} widths_t;

static int measure(const keel_route_t *r, void *ctx)
{
	widths_t *w = ctx;
	int p = (int)strlen(r->pattern), n = (int)strlen(r->name);
	if (p > w->pattern)
		w->pattern = p;
	if (n > w->name)
		w->name = n;
	return 0;
}

typedef struct printer {
	FILE *out;
	widths_t w;
} printer_t;

static int print_one(const keel_route_t *r, void *ctx)
{
	printer_t *p = ctx;
	fprintf(p->out, "%-7s %-*s %-*s ", keel_http_method_name(r->method),
	        p->w.pattern, r->pattern, p->w.name, r->name);
	size_t n = keel_route_middleware_count(r);
	for (size_t i = 0; i < n; i++) {
		const keel_middleware_t *mw = keel_route_middleware(r, i);
		fprintf(p->out, "%s%s", i ? "," : "",
		        mw->name ? mw->name : "-");
	}
	fputs(n ? "\n" : "-\n", p->out);
	return 0;
}

int keel_app_routes_print(const keel_app_t *app, FILE *out)
{
	printer_t p = {out, {(int)strlen("PATTERN"), (int)strlen("HANDLER")}};
	keel_app_routes_each(app, measure, &p.w);
	fprintf(out, "%-7s %-*s %-*s %s\n", "METHOD", p.w.pattern, "PATTERN",
	        p.w.name, "HANDLER", "MIDDLEWARE");
	int rc = keel_app_routes_each(app, print_one, &p);
	if (rc == KEEL_OK && (fflush(out) != 0 || ferror(out)))
		rc = KEEL_EIO;
	return rc;
}

/* Drop argv[1] ("serve"), keeping argv[0] and the NULL terminator. */
static int shift_args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		argv[i] = argv[i + 1];
	argv[argc - 1] = NULL;
	return argc - 1;
}

/*
 * Serving refuses an app with failed registrations: a route that silently
 * went missing is worse than a server that does not start.
 */
int keel_app_run(keel_app_t *app, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "routes") == 0) {
		int rc = keel_app_routes_print(app, stdout);
		return rc == KEEL_OK && app->failures == 0 ? 0 : 1;
	}
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		argc = shift_args(argc, argv);
	int rc = keel_app_freeze(app);
	if (rc < 0) {
		const char *why;
		keel_app_error(app, &why);
		KEEL_LOG_ERROR("app: not serving: %d route registration(s) "
		               "failed, last: %s",
		               app->failures,
		               rc == KEEL_ENOMEM ? "out of memory" : why);
		return 1;
	}
	return keel_serve(argc, argv, keel_app_dispatch, app);
}
