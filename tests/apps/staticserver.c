/*
 * A file server in a page: mounts the folder given by --root at --prefix
 * and answers everything else from a tiny route table, so the integration
 * tests can mix file responses with ordinary ones on one connection.
 *
 *   staticserver --root ./public --prefix /static --max-age 3600 --port 8080
 *
 * The mount's own flags live in a settings table of their own (with
 * STATIC_* environment variables and --help, like the server's); argv is
 * split into the flags named there and the rest, which go to keel_serve.
 */
#include <errno.h>
#include <keel/keel.h>
#include <keel/static.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

typedef struct app_cfg {
	const char *root, *prefix, *index;
	int64_t max_age;
	bool listing, gzip, dotfiles;
} app_cfg_t;

static const keel_setting_t app_settings[] = {
        {.name = "root",
         .env = "STATIC_ROOT",
         KEEL_SETTING_STRING_FIELD(app_cfg_t, root),
         .def = ".",
         .help = "folder to serve"},
        {.name = "prefix",
         .env = "STATIC_PREFIX",
         KEEL_SETTING_STRING_FIELD(app_cfg_t, prefix),
         .def = "/",
         .help = "URL prefix the folder is mounted at"},
        {.name = "index",
         .env = "STATIC_INDEX",
         KEEL_SETTING_STRING_FIELD(app_cfg_t, index),
         .def = "index.html",
         .help = "file served for a directory ('' for none)"},
        {.name = "max-age",
         .env = "STATIC_MAX_AGE",
         KEEL_SETTING_INT_FIELD(app_cfg_t, max_age),
         .def = "0",
         .min = -1,
         .max = 315360000,
         .help = "Cache-Control max-age in s (0: no-cache, -1: none)"},
        {.name = "listing",
         .env = "STATIC_LISTING",
         KEEL_SETTING_BOOL_FIELD(app_cfg_t, listing),
         .def = "false",
         .help = "list directories without an index file"},
        {.name = "gzip",
         .env = "STATIC_GZIP",
         KEEL_SETTING_BOOL_FIELD(app_cfg_t, gzip),
         .def = "true",
         .help = "serve <file>.gz to clients that accept gzip"},
        {.name = "dotfiles",
         .env = "STATIC_DOTFILES",
         KEEL_SETTING_BOOL_FIELD(app_cfg_t, dotfiles),
         .def = "false",
         .help = "serve names starting with '.'"},
};

/* Slots argv[i] takes when it is one of our flags (1 or 2), else 0. */
static int app_flag_slots(int argc, char **argv, int i)
{
	const char *a = argv[i];
	if (strncmp(a, "--", 2) != 0)
		return 0;
	a += 2;
	size_t n = strcspn(a, "=");
	for (size_t k = 0; k < KEEL_COUNTOF(app_settings); k++) {
		const keel_setting_t *s = &app_settings[k];
		size_t len = strlen(s->name);
		bool is_bool = s->type == KEEL_SETTING_BOOL;
		bool plain = n == len && strncmp(a, s->name, n) == 0;
		bool neg = is_bool && n == len + 3 &&
		           strncmp(a, "no-", 3) == 0 &&
		           strncmp(a + 3, s->name, len) == 0;
		if (!plain && !neg)
			continue;
		return a[n] == '=' || is_bool || i + 1 >= argc ? 1 : 2;
	}
	return 0;
}

/* Split argv into ours (app) and the server's (srv); both keep argv[0]. */
static void split_args(int argc, char **argv, char **app, int *napp, char **srv,
                       int *nsrv)
{
	*napp = *nsrv = 1;
	app[0] = srv[0] = argv[0];
	for (int i = 1; i < argc; i++) {
		int slots = app_flag_slots(argc, argv, i);
		for (int k = 0; k < slots; k++)
			app[(*napp)++] = argv[i + k];
		if (slots == 0)
			srv[(*nsrv)++] = argv[i];
		i += slots > 0 ? slots - 1 : 0;
	}
	app[*napp] = srv[*nsrv] = NULL;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/* Ordinary (non-file) answers the tests interleave with files. */
static int route(keel_req_t *req, keel_res_t *res, void *ud)
{
	int status = keel_static_handle(ud, req, res);
	if (status != KEEL_NEXT)
		return status;
	if (keel_str_eq(keel_req_path(req), KEEL_STR("/_app/ping"))) {
		keel_res_header(res, "Content-Type", "text/plain");
		keel_res_body(res, "pong\n", 5);
		return 200;
	}
	return keel_res_error(res, 404, "no route");
}

static keel_static_t *mount(const app_cfg_t *cfg)
{
	keel_static_opts_t opts;
	keel_static_opts_init(&opts);
	opts.max_age = cfg->max_age;
	opts.index = cfg->index;
	opts.listing = cfg->listing;
	opts.gzip = cfg->gzip;
	opts.dotfiles = cfg->dotfiles;
	keel_static_t *st = keel_static_new(cfg->root, cfg->prefix, &opts);
	if (!st)
		fprintf(stderr, "staticserver: cannot mount %s at %s: %s\n",
		        cfg->root, cfg->prefix, strerror(errno));
	return st;
}

int main(int argc, char **argv)
{
	char **app = calloc((size_t)argc + 1, sizeof(*app));
	char **srv = calloc((size_t)argc + 1, sizeof(*srv));
	if (!app || !srv)
		return 1;
	int napp, nsrv;
	split_args(argc, argv, app, &napp, srv, &nsrv);
	if (wants_help(argc, argv))
		keel_config_print_help(stdout, argv[0], app_settings,
		                       KEEL_COUNTOF(app_settings));
	app_cfg_t cfg;
	keel_config_error_t err;
	int rc = keel_config_load(app_settings, KEEL_COUNTOF(app_settings),
	                          &cfg, napp, app, environ, NULL, &err);
	if (rc < 0) {
		fprintf(stderr, "%s: %s (see --help)\n", argv[0], err.msg);
		return 2;
	}
	keel_static_t *st = wants_help(argc, argv) ? NULL : mount(&cfg);
	if (!st && !wants_help(argc, argv))
		return 1;
	rc = keel_serve(nsrv, srv, route, st);
	keel_static_free(st);
	free(app);
	free(srv);
	return rc;
}
