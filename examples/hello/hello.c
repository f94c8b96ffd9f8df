/* The smallest keel app: plaintext and JSON, TechEmpower style. */
#include <keel/keel.h>

static int hello(keel_req_t *req, keel_res_t *res, void *ud)
{
	(void)ud;
	if (keel_str_eq(keel_req_path(req), KEEL_STR("/json"))) {
		keel_res_header(res, "Content-Type", "application/json");
		keel_res_body(res, "{\"message\":\"Hello, World!\"}", 27);
	} else if (keel_str_eq(keel_req_path(req), KEEL_STR("/plaintext"))) {
		keel_res_header(res, "Content-Type", "text/plain");
		keel_res_body(res, "Hello, World!", 13);
	} else {
		return keel_res_error(res, 404, "not found");
	}
	return 200;
}

int main(int argc, char **argv)
{
	return keel_serve(argc, argv, hello, NULL);
}
