/* The hello app through the whole framework: router, middleware, JSON. */
#include <keel/keel.h>

static int plaintext(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req, (void)ud;
	keel_res_header(res, "Content-Type", "text/plain");
	keel_res_body(res, "Hello, World!", 13);
	return 200;
}

static int json(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)req, (void)ud;
	keel_json_t w;
	keel_json_init(&w, keel_res_buf(res), 0);
	keel_json_begin_object(&w);
	keel_json_key(&w, "message");
	keel_json_write_cstr(&w, "Hello, World!");
	keel_json_end_object(&w);
	return keel_json_respond(&w, res, 200);
}

int main(int argc, char **argv)
{
	keel_app_t *app = keel_app_new();
	KEEL_GET(app, "/plaintext", plaintext);
	KEEL_GET(app, "/json", json);
	int rc = keel_app_run(app, argc, argv);
	keel_app_free(app);
	return rc;
}
