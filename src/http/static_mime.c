/*
 * Media types by file extension, for the file server's Content-Type.  The
 * table covers what web sites actually ship; text types carry
 * "charset=utf-8" so that a browser never has to guess (guessing is how a
 * text file becomes script).  Everything else is application/octet-stream,
 * which browsers download instead of rendering.
 */
#include <stdlib.h>
#include <string.h>

#include "keel/static.h"

#define UTF8 "; charset=utf-8"

typedef struct mime {
	const char *ext; /* lower case, no dot */
	const char *type;
} mime_t;

/* Sorted by extension (strcmp order) for bsearch; the unit test looks up
 * every row, which fails for rows out of order. */
static const mime_t table[] = {
        {"7z", "application/x-7z-compressed"},
        {"aac", "audio/aac"},
        {"avif", "image/avif"},
        {"bin", "application/octet-stream"},
        {"bmp", "image/bmp"},
        {"css", "text/css" UTF8},
        {"csv", "text/csv" UTF8},
        {"eot", "application/vnd.ms-fontobject"},
        {"epub", "application/epub+zip"},
        {"flac", "audio/flac"},
        {"gif", "image/gif"},
        {"gz", "application/gzip"},
        {"htm", "text/html" UTF8},
        {"html", "text/html" UTF8},
        {"ico", "image/vnd.microsoft.icon"},
        {"ics", "text/calendar" UTF8},
        {"jpeg", "image/jpeg"},
        {"jpg", "image/jpeg"},
        {"js", "text/javascript" UTF8},
        {"json", "application/json"},
        {"jsonld", "application/ld+json"},
        {"m4a", "audio/mp4"},
        {"map", "application/json"},
        {"md", "text/markdown" UTF8},
        {"mjs", "text/javascript" UTF8},
        {"mov", "video/quicktime"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"mpeg", "video/mpeg"},
        {"oga", "audio/ogg"},
        {"ogg", "audio/ogg"},
        {"ogv", "video/ogg"},
        {"otf", "font/otf"},
        {"pdf", "application/pdf"},
        {"png", "image/png"},
        {"rss", "application/rss+xml"},
        {"svg", "image/svg+xml"},
        {"tar", "application/x-tar"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"ttf", "font/ttf"},
        {"txt", "text/plain" UTF8},
        {"vtt", "text/vtt" UTF8},
        {"wasm", "application/wasm"},
        {"wav", "audio/wav"},
        {"weba", "audio/webm"},
        {"webm", "video/webm"},
        {"webmanifest", "application/manifest+json"},
        {"webp", "image/webp"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"xhtml", "application/xhtml+xml"},
        {"xml", "application/xml"},
        {"zip", "application/zip"},
};

static int cmp_ext(const void *key, const void *elem)
{
	return strcmp(key, ((const mime_t *)elem)->ext);
}

/*
 * The extension is what follows the last '.' of the last path segment; a
 * leading dot (".profile") names a file, not an extension.  It is lowered
 * into a small buffer: anything longer than the longest known extension
 * cannot match.
 */
const char *keel_static_mime_type(keel_str_t name)
{
	static const char fallback[] = "application/octet-stream";
	size_t i = name.len, dot = 0;
	while (i > 0 && name.ptr[i - 1] != '/') {
		if (name.ptr[i - 1] == '.' && dot == 0)
			dot = i;
		i--;
	}
	if (dot == 0 || dot - 1 == i)
		return fallback;
	char ext[16];
	size_t n = name.len - dot;
	if (n == 0 || n >= sizeof(ext))
		return fallback;
	for (size_t k = 0; k < n; k++) {
		char c = name.ptr[dot + k];
		if (c == '\0')
			return fallback;
		ext[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	ext[n] = '\0';
	const mime_t *m = bsearch(ext, table, KEEL_COUNTOF(table),
	                          sizeof(table[0]), cmp_ext);
	return m ? m->type : fallback;
}
