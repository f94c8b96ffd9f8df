"""Conduit's four benchmarked endpoints in FastAPI, for bench/peers/run.sh.

Run: DATABASE_PATH=x.db CONDUIT_SECRET=... uvicorn fastapi_app:app
Handlers are `async def` and call sqlite3 directly on one connection per
worker process: each request's queries finish before the event loop moves
on, so the connection is never shared mid-query.  Responses are
JSONResponse(dict), which skips FastAPI's jsonable_encoder pass.
"""
import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import conduit_sql as q

SECRET = os.environ["CONDUIT_SECRET"]
db = sqlite3.connect(os.environ["DATABASE_PATH"], isolation_level=None,
                     check_same_thread=False)
db.execute("PRAGMA busy_timeout = 5000")
db.execute("PRAGMA foreign_keys = ON")
app = FastAPI()


def error(status, field, msg):
    return JSONResponse({"errors": {field: [msg]}}, status_code=status)


@app.get("/api/articles")
async def articles(limit: int = 20, offset: int = 0):
    if limit < 0 or offset < 0:
        return error(422, "limit", "must be >= 0")
    return JSONResponse(q.list_articles(db.cursor(), min(limit, 100), offset))


@app.get("/api/articles/{slug}")
async def article(slug: str):
    out = q.get_article(db.cursor(), slug)
    return JSONResponse(out) if out else error(404, "article", "not found")


@app.get("/api/tags")
async def tags():
    return JSONResponse(q.list_tags(db.cursor()))


@app.post("/api/articles")
async def create(request: Request):
    cur = db.cursor()
    user = q.user_from_token(cur, request.headers.get("authorization"), SECRET)
    if user is None:
        return error(401, "token", "is missing or invalid")
    try:
        doc = await request.json()
    except ValueError:
        return error(400, "body", "is not JSON")
    v = q.validate_new(doc)
    if isinstance(v, str):
        return error(422, *v.split(": ", 1))
    cur.execute("BEGIN IMMEDIATE")
    try:
        slug = q.create_article(cur, user, *v)
        cur.execute("COMMIT")
    except Exception:
        cur.execute("ROLLBACK")
        raise
    return JSONResponse(q.get_article(cur, slug), status_code=201)
