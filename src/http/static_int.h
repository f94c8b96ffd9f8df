/*
 * src/http/static_int.h - internal: the parts of the file server that live
 * in their own files (opening beneath a root, directory listings, escaping
 * names for URLs and HTML).  Not installed.
 */
#ifndef KEEL_HTTP_STATIC_INT_H
#define KEEL_HTTP_STATIC_INT_H

#include <stdbool.h>

#include "keel/buf.h"
#include "keel/req.h"
#include "keel/res.h"

/**
 * Whether openat2(2) with RESOLVE_BENEATH works on this kernel (and is not
 * filtered by a seccomp policy), tried on `dir_fd`.
 */
bool keel__static_has_openat2(int dir_fd);

/**
 * Open `rel` (relative, NUL-terminated, may end in '/') beneath the
 * directory `dir_fd` with `flags` (O_CLOEXEC, O_NOCTTY and O_NONBLOCK are
 * added), never resolving to anything outside it.  With `openat2` the
 * kernel checks every step and symlinks that stay beneath are followed;
 * without it the path is walked component by component and any symlink is
 * refused.  Returns the descriptor, or -1 with errno (EXDEV, ELOOP for an
 * escape).
 */
int keel__static_open(int dir_fd, const char *rel, int flags, bool openat2);

/** Append `s` percent-encoded except unreserved bytes and, if asked, '/'. */
int keel__static_url_encode(keel_buf_t *b, keel_str_t s, bool keep_slash);

/** Append `s` with & < > " ' replaced by character references. */
int keel__static_html_escape(keel_buf_t *b, keel_str_t s);

/**
 * Answer `req` with an HTML list of the directory `dir_fd` (not closed
 * here) whose URL is `url_path` (ends in '/'); dotfiles listed only if
 * `dotfiles`.  Returns the HTTP status.
 */
int keel__static_list(keel_req_t *req, keel_res_t *res, int dir_fd,
                      keel_str_t url_path, bool dotfiles);

#endif
