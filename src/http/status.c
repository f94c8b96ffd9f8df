/*
 * The two fixed vocabularies of HTTP: status codes with their reason
 * phrases (RFC 9110 15, plus RFC 6585, 7725, 8297 and 8470) and the
 * request methods keel knows (RFC 9110 9, RFC 5789 for PATCH).
 */
#include "http/internal.h"

/* A switch, so the compiler builds the jump table and checks duplicates. */
const char *keel_http_status_text(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 103: return "Early Hints";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 305: return "Use Proxy";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 425: return "Too Early";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 511: return "Network Authentication Required";
	default: return NULL;
	}
}

/* Indexed by keel_http_method_t; slot 0 is KEEL_HTTP_UNKNOWN. */
static const keel_str_t method_names[] = {
        {NULL, 0},    {"GET", 3},     {"HEAD", 4},   {"POST", 4},
        {"PUT", 3},   {"PATCH", 5},   {"DELETE", 6}, {"OPTIONS", 7},
        {"TRACE", 5}, {"CONNECT", 7},
};

/* Nine short names: a linear scan with a length check beats hashing. */
keel_http_method_t keel_http_method_parse(keel_str_t name)
{
	for (size_t i = 1; i < KEEL_COUNTOF(method_names); i++)
		if (keel_str_eq(name, method_names[i]))
			return (keel_http_method_t)i;
	return KEEL_HTTP_UNKNOWN;
}

const char *keel_http_method_name(keel_http_method_t method)
{
	size_t i = (size_t)method;
	if (method <= KEEL_HTTP_UNKNOWN || i >= KEEL_COUNTOF(method_names))
		return NULL;
	return method_names[i].ptr;
}
