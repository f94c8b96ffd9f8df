/*
 * Error bodies and the error handler.  Every error an app sends - a 404
 * from a handler, a 422 from validation, a 500 after a failure - has one
 * shape, chosen once by the app (a strategy: a formatter function), so
 * clients parse one format.  Server errors are rewritten to a generic
 * message with the request id: the details go to the log, where operators
 * find them by that id, and never to the client.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "keel/log.h"
#include "keel/mw.h"
#include "keel/res.h"
#include "keel/utf8.h"

#define LOG_DETAIL_MAX 512

static keel_errors_format_fn *current_format = keel_errors_format_default;

void keel_errors_set_format(keel_errors_format_fn *fn)
{
	current_format = fn ? fn : keel_errors_format_default;
}

/*
 * A JSON string literal.  Messages may quote user input ("'x' is not a
 * number"), so every control is escaped and invalid UTF-8 becomes U+FFFD:
 * the body stays valid JSON whatever went into it.
 */
static void put_json_str(keel_buf_t *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s);
	keel_buf_append_char(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char ch = s[i];
		size_t len = ch < 0x80 ? 1 : keel_utf8_seq(s + i, n - i);
		if (ch == '"' || ch == '\\')
			keel_buf_appendf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			keel_buf_appendf(b, "\\u%04x", ch);
		else if (len == 0)
			keel_buf_append(b, "\\ufffd", 6);
		else
			keel_buf_append(b, s + i, len);
		i += len ? len : 1;
	}
	keel_buf_append_char(b, '"');
}

static bool same_field(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool seen_before(const keel_error_item_t *items, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_field(items[j].field, items[i].field))
			return true;
	return false;
}

/* Items sharing a field are gathered into one array: a JSON object with a
 * repeated key is ambiguous.  Quadratic, and n is a handful. */
int keel_errors_format_default(const keel_req_t *req, keel_res_t *res,
                               int status, const keel_error_item_t *items,
                               size_t n)
{
	(void)req;
	(void)status;
	keel_buf_t *b = keel_res_buf(res);
	bool first = true;
	keel_buf_append(b, "{\"errors\":{", 11);
	for (size_t i = 0; i < n; i++) {
		if (seen_before(items, i))
			continue;
		if (!first)
			keel_buf_append_char(b, ',');
		first = false;
		put_json_str(b, items[i].field);
		keel_buf_append(b, ":[", 2);
		for (size_t j = i; j < n; j++) {
			if (!same_field(items[i].field, items[j].field))
				continue;
			if (j != i)
				keel_buf_append_char(b, ',');
			put_json_str(b, items[j].message);
		}
		keel_buf_append_char(b, ']');
	}
	int rc = keel_buf_append(b, "}}\n", 3);
	return rc < 0 ? rc
	              : keel_res_header(res, "Content-Type",
	                                "application/json");
}

int keel_errors_format_problem(const keel_req_t *req, keel_res_t *res,
                               int status, const keel_error_item_t *items,
                               size_t n)
{
	const char *title = keel_http_status_text(status);
	keel_buf_t *b = keel_res_buf(res);
	keel_buf_append(b, "{\"type\":\"about:blank\",\"title\":", 30);
	put_json_str(b, title ? title : "Error");
	keel_buf_appendf(b, ",\"status\":%d,\"request_id\":", status);
	put_json_str(b, keel_req_id(req));
	keel_buf_append(b, ",\"errors\":[", 11);
	for (size_t i = 0; i < n; i++) {
		keel_buf_append(b,
		                i ? ",{\"field\":" : "{\"field\":", i ? 10 : 9);
		put_json_str(b, items[i].field);
		keel_buf_append(b, ",\"message\":", 11);
		put_json_str(b, items[i].message);
		keel_buf_append_char(b, '}');
	}
	int rc = keel_buf_append(b, "]}\n", 3);
	return rc < 0 ? rc
	              : keel_res_header(res, "Content-Type",
	                                "application/problem+json");
}

/* The new body replaces the old representation: headers that described
 * the old bytes would now lie about them. */
static void drop_representation(keel_res_t *res)
{
	static const char *const names[] = {
	        "Content-Type",
	        "Content-Encoding",
	        "Content-Language",
	        "Content-Location",
	        "Content-Range",
	        "Content-Disposition",
	        "ETag",
	        "Last-Modified",
	};
	for (size_t i = 0; i < KEEL_COUNTOF(names); i++)
		keel_res_header_remove(res, names[i]);
	keel_res_body(res, "", 0);
}

int keel_errors_write_list(keel_req_t *req, keel_res_t *res, int status,
                           const keel_error_item_t *items, size_t n)
{
	drop_representation(res);
	keel_res_status(res, status);
	if (current_format(req, res, status, items, n) < 0) {
		/* Out of memory or a formatter bug: still answer with the
		 * right status and a body the server can always build. */
		keel_res_error(res, status, "error");
	}
	return status;
}

int keel_errors_write(keel_req_t *req, keel_res_t *res, int status,
                      const char *field, const char *message)
{
	keel_error_item_t item = {field, message};
	return keel_errors_write_list(req, res, status, &item, 1);
}

/* The body that was about to go out is the most useful clue in the log. */
static keel_str_t log_detail(keel_res_t *res)
{
	keel_buf_t *b = keel_res_buf(res);
	return (keel_str_t){b->data,
	                    b->len < LOG_DETAIL_MAX ? b->len : LOG_DETAIL_MAX};
}

/* "internal server error, request id 1a2b-3f": the reason phrase in lower
 * case, then the id the log lines carry. */
static void generic_message(const keel_req_t *req, int status, char *out,
                            size_t cap)
{
	const char *reason = keel_http_status_text(status);
	int n = snprintf(out, cap, "%s, request id %s",
	                 reason ? reason : "server error", keel_req_id(req));
	size_t end = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
	for (size_t i = 0; i < end && out[i] != ','; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

static void errors_after(keel_req_t *req, keel_res_t *res, void *ud)
{
	/* A streamed response's head is already out: nothing to add. */
	if (keel_res_committed(res))
		return;
	(void)ud;
	int status = keel_res_get_status(res);
	if (status < 500)
		return;
	const keel_http_request_t *h = keel_req_head(req);
	KEEL_LOG_KV(KEEL_LOG_LEVEL_ERROR, "server error",
	            KEEL_KV_STR("id", keel_req_id(req)),
	            KEEL_KV_SLICE("method", h->method_name),
	            KEEL_KV_SLICE("path", keel_req_path(req)),
	            KEEL_KV_INT("status", status),
	            KEEL_KV_SLICE("detail", log_detail(res)));
	char msg[128];
	generic_message(req, status, msg, sizeof(msg));
	keel_errors_write(req, res, status, "server", msg);
}

keel_middleware_t keel_mw_errors(void)
{
	return (keel_middleware_t){
	        .name = "errors",
	        .after = errors_after,
	};
}
