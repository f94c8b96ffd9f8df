/*
 * json_bench - JSON encoding throughput: keel's streaming writer against
 * jansson on the same data.  Three payloads: a RealWorld-style article
 * (a dozen fields, one nested object, an array, some text), the
 * TechEmpower {"message":"Hello, World!"} object, and one 64 KiB string
 * of mixed ASCII and UTF-8 text.  jansson is timed two ways: json_dumpb
 * of a tree built once (its best case) and building the tree plus
 * dumping it (what a handler that uses jansson for output does).  Every
 * output is parsed back and compared, so a fast wrong answer fails (exit
 * 1).  CPU time, median of REPS runs (default 5, or argv[1]).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keel/json.h"

#define MAX_REPS 31

typedef struct article {
	const char *slug, *title, *description, *body, *created, *updated;
	const char *tags[3];
	bool favorited;
	int64_t favorites;
	const char *username, *bio, *image;
	bool following;
	double score;
} article_t;

static const article_t sample = {
        .slug = "how-to-train-your-dragon",
        .title = "How to train your dragon",
        .description = "Ever wonder how? A short guide for beginners.",
        .body = "It takes a Jacobian. You have to believe in yourself, "
                "and in the dragon \xe2\x80\x94 \"trust\" is the key.\n"
                "Step one: find a dragon. Step two: don't panic. Step "
                "three: feed it regularly and keep fire extinguishers.",
        .created = "2016-02-18T03:22:56.637Z",
        .updated = "2016-02-18T03:48:35.824Z",
        .tags = {"dragons", "training", "fantasy"},
        .favorited = false,
        .favorites = 1287,
        .username = "jake",
        .bio = "I work at statefarm",
        .image = "https://i.stack.imgur.com/xHWG8.jpg",
        .following = true,
        .score = 4.75,
};

/* CPU time of this process: steadier than wall time on a shared machine. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void keel_article(keel_json_t *w, const article_t *a)
{
	keel_json_begin_object(w);
	keel_json_key(w, "slug");
	keel_json_write_cstr(w, a->slug);
	keel_json_key(w, "title");
	keel_json_write_cstr(w, a->title);
	keel_json_key(w, "description");
	keel_json_write_cstr(w, a->description);
	keel_json_key(w, "body");
	keel_json_write_cstr(w, a->body);
	keel_json_key(w, "tagList");
	keel_json_begin_array(w);
	for (int i = 0; i < 3; i++)
		keel_json_write_cstr(w, a->tags[i]);
	keel_json_end_array(w);
	keel_json_key(w, "createdAt");
	keel_json_write_cstr(w, a->created);
	keel_json_key(w, "updatedAt");
	keel_json_write_cstr(w, a->updated);
	keel_json_key(w, "favorited");
	keel_json_write_bool(w, a->favorited);
	keel_json_key(w, "favoritesCount");
	keel_json_write_int(w, a->favorites);
	keel_json_key(w, "score");
	keel_json_write_double(w, a->score);
	keel_json_key(w, "author");
	keel_json_begin_object(w);
	keel_json_key(w, "username");
	keel_json_write_cstr(w, a->username);
	keel_json_key(w, "bio");
	keel_json_write_cstr(w, a->bio);
	keel_json_key(w, "image");
	keel_json_write_cstr(w, a->image);
	keel_json_key(w, "following");
	keel_json_write_bool(w, a->following);
	keel_json_end_object(w);
	keel_json_end_object(w);
}

static json_t *jansson_article(const article_t *a)
{
	json_t *tags = json_array();
	for (int i = 0; i < 3; i++)
		json_array_append_new(tags, json_string(a->tags[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:I, s:f, "
	                 "s:{s:s, s:s, s:s, s:b}}",
	                 "slug", a->slug, "title", a->title, "description",
	                 a->description, "body", a->body, "tagList", tags,
	                 "createdAt", a->created, "updatedAt", a->updated,
	                 "favorited", a->favorited, "favoritesCount",
	                 (json_int_t)a->favorites, "score", a->score, "author",
	                 "username", a->username, "bio", a->bio, "image",
	                 a->image, "following", a->following);
}

static void keel_hello(keel_json_t *w, const article_t *a)
{
	(void)a;
	keel_json_begin_object(w);
	keel_json_key(w, "message");
	keel_json_write_cstr(w, "Hello, World!");
	keel_json_end_object(w);
}

static json_t *jansson_hello(const article_t *a)
{
	(void)a;
	return json_pack("{s:s}", "message", "Hello, World!");
}

static char *big_text;

static void keel_big(keel_json_t *w, const article_t *a)
{
	(void)a;
	keel_json_write_cstr(w, big_text);
}

static json_t *jansson_big(const article_t *a)
{
	(void)a;
	return json_string(big_text);
}

typedef struct payload {
	const char *name;
	void (*keel)(keel_json_t *w, const article_t *a);
	json_t *(*jansson)(const article_t *a);
	int iters;
} payload_t;

enum { M_KEEL, M_DUMP, M_BUILD_DUMP, M_COUNT };
static const char *const method_names[] = {"keel writer", "jansson dumpb",
                                           "jansson build+dumpb"};

/* One timed run of `iters` encodings; returns bytes of one output. */
static size_t run(const payload_t *p, int m, json_t *tree, keel_buf_t *b,
                  double *secs)
{
	char out[128 * 1024];
	size_t n = 0;
	double t0 = cpu_s();
	for (int i = 0; i < p->iters; i++) {
		if (m == M_KEEL) {
			keel_json_t w;
			keel_buf_reset(b);
			keel_json_init(&w, b, 0);
			p->keel(&w, &sample);
			if (keel_json_finish(&w) != 0)
				return 0;
			n = b->len;
		} else if (m == M_DUMP) {
			n = json_dumpb(tree, out, sizeof(out),
			               JSON_COMPACT | JSON_ENCODE_ANY);
		} else {
			json_t *t = p->jansson(&sample);
			n = json_dumpb(t, out, sizeof(out),
			               JSON_COMPACT | JSON_ENCODE_ANY);
			json_decref(t);
		}
	}
	*secs = cpu_s() - t0;
	if (m != M_KEEL) {
		keel_buf_reset(b);
		keel_buf_append(b, out, n);
	}
	return n;
}

/* Both encoders must produce documents that parse to the same tree. */
static bool same_document(const keel_buf_t *b, json_t *tree)
{
	json_error_t e;
	json_t *back = json_loadb(b->data, b->len, JSON_DECODE_ANY, &e);
	bool ok = back != NULL && json_equal(back, tree);
	json_decref(back);
	return ok;
}

static int bench_payload(const payload_t *p, int reps)
{
	json_t *tree = p->jansson(&sample);
	keel_buf_t b;
	keel_buf_init(&b, 0);
	int bad = 0;
	for (int m = 0; m < M_COUNT; m++) {
		double t[MAX_REPS];
		size_t n = 0;
		for (int r = 0; r < reps; r++)
			n = run(p, m, tree, &b, &t[r]);
		if (n == 0 || !same_document(&b, tree)) {
			printf("%-10s %-20s WRONG OUTPUT\n", p->name,
			       method_names[m]);
			bad = 1;
			continue;
		}
		qsort(t, (size_t)reps, sizeof(t[0]), cmp_double);
		double s = t[reps / 2];
		printf("%-10s %-20s %7zu %10.0f %10.1f %8.1f\n", p->name,
		       method_names[m], n, p->iters / s,
		       (double)n * p->iters / s / 1e6, s * 1e9 / p->iters);
	}
	keel_buf_deinit(&b);
	json_decref(tree);
	return bad;
}

/* 64 KiB of prose with a multi-byte character every few words. */
static char *make_big_text(void)
{
	static const char piece[] = "Lorem ipsum dolor sit amet, caf\xc3\xa9 "
	                            "na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac "
	                            "consectetur adipiscing elit. ";
	size_t cap = 64 * 1024, len = 0;
	char *s = malloc(cap + 1);
	if (s == NULL)
		return NULL;
	while (len + sizeof(piece) - 1 <= cap) {
		memcpy(s + len, piece, sizeof(piece) - 1);
		len += sizeof(piece) - 1;
	}
	s[len] = '\0';
	return s;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5;
	if (reps < 1 || reps > MAX_REPS)
		reps = 5;
	big_text = make_big_text();
	if (big_text == NULL)
		return 1;
	const payload_t payloads[] = {
	        {"article", keel_article, jansson_article, 100000},
	        {"hello", keel_hello, jansson_hello, 1000000},
	        {"text64k", keel_big, jansson_big, 300},
	};
	printf("%-10s %-20s %7s %10s %10s %8s\n", "payload", "encoder", "bytes",
	       "objects/s", "MB/s", "ns/obj");
	int bad = 0;
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
		bad |= bench_payload(&payloads[i], reps);
	free(big_text);
	return bad;
}
