/*
 * keel/keel.h - the umbrella header: include this one and get every public
 * keel module.
 */
#ifndef KEEL_H
#define KEEL_H

#include "keel/common.h"

#include "keel/app.h"
#include "keel/arena.h"
#include "keel/buf.h"
#include "keel/clock.h"
#include "keel/config.h"
#include "keel/cookie.h"
#include "keel/coro.h"
#include "keel/cors.h"
#include "keel/db.h"
#include "keel/dbtest.h"
#include "keel/email.h"
#include "keel/form.h"
#include "keel/heap.h"
#include "keel/http.h"
#include "keel/ip.h"
#include "keel/json.h"
#include "keel/list.h"
#include "keel/log.h"
#include "keel/loop.h"
#include "keel/middleware.h"
#include "keel/migrate.h"
#include "keel/model.h"
#include "keel/multipart.h"
#include "keel/mw.h"
#include "keel/openapi.h"
#include "keel/ratelimit.h"
#include "keel/redirect.h"
#include "keel/req.h"
#include "keel/res.h"
#include "keel/select.h"
#include "keel/serve.h"
#include "keel/server.h"
#include "keel/sort.h"
#include "keel/static.h"
#include "keel/str.h"
#include "keel/template.h"
#include "keel/testclient.h"
#include "keel/threadpool.h"
#include "keel/utf8.h"
#include "keel/validate.h"
#include "keel/walk.h"

#endif
