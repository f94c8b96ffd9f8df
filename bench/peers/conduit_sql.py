"""SQL and JSON shaping shared by the FastAPI and Django peers.

The queries mirror keel's Conduit (apps/conduit/articles.c, tags.c): a
page of articles joined with their authors, a count, and one batched
query for the page's tags; one query for /api/tags; an insert of the
article and its tags inside one write transaction.  Both peers talk to
SQLite through the stdlib sqlite3 DB-API, so the same functions serve
both (Django passes its raw cursor, FastAPI a sqlite3 cursor).
"""
import datetime
import re

PAGE_SQL = (
    "SELECT a.id, a.slug, a.title, a.description, {body}, a.created_at, "
    "a.updated_at, a.favorites_count, u.username, u.bio, u.image "
    "FROM articles a JOIN users u ON u.id = a.author_id ")
LIST_SQL = PAGE_SQL.format(body="''") + "ORDER BY a.id DESC LIMIT ? OFFSET ?"
COUNT_SQL = "SELECT count(*) FROM articles"
ONE_SQL = PAGE_SQL.format(body="a.body") + "WHERE a.slug = ?"
TAGS_OF_SQL = ("SELECT at.article_id, t.name FROM article_tags at "
               "JOIN tags t ON t.id = at.tag_id WHERE at.article_id IN ({}) "
               "ORDER BY at.article_id, at.position")
TAGS_SQL = ("SELECT t.name FROM tags t WHERE EXISTS (SELECT 1 FROM "
            "article_tags at WHERE at.tag_id = t.id) ORDER BY t.name")
REVOKED_SQL = "SELECT 1 FROM keel_revoked_tokens WHERE jti = ?"


def _article(row, tags, body):
    """One article object, Conduit's shape for an anonymous caller."""
    out = {"slug": row[1], "title": row[2], "description": row[3]}
    if body:
        out["body"] = row[4]
    out.update({
        "tagList": tags, "createdAt": row[5], "updatedAt": row[6],
        "favorited": False, "favoritesCount": row[7],
        "author": {"username": row[8], "bio": row[9], "image": row[10],
                   "following": False}})
    return out


def _tags_of(cur, ids):
    """Tag names per article id, in stored order: one batched query."""
    tags = {i: [] for i in ids}
    if ids:
        cur.execute(TAGS_OF_SQL.format(",".join("?" * len(ids))), ids)
        for aid, name in cur.fetchall():
            tags[aid].append(name)
    return tags


def list_articles(cur, limit=20, offset=0):
    cur.execute(LIST_SQL, (limit, offset))
    rows = cur.fetchall()
    cur.execute(COUNT_SQL)
    total = cur.fetchone()[0]
    tags = _tags_of(cur, [r[0] for r in rows])
    return {"articles": [_article(r, tags[r[0]], False) for r in rows],
            "articlesCount": total}


def get_article(cur, slug):
    """{"article": ...} or None when no such slug."""
    cur.execute(ONE_SQL, (slug,))
    row = cur.fetchone()
    if row is None:
        return None
    return {"article": _article(row, _tags_of(cur, [row[0]])[row[0]], True)}


def list_tags(cur):
    cur.execute(TAGS_SQL)
    return {"tags": [r[0] for r in cur.fetchall()]}


def slugify(title):
    """keel's rule: lowercase ASCII alnum runs joined by '-', max 80."""
    s = "-".join(re.findall(r"[a-z0-9]+", title.lower().encode(
        "ascii", "ignore").decode()))[:80].rstrip("-")
    return s or "article"


def pick_slug(cur, title):
    base = slugify(title)
    cur.execute("SELECT 1 FROM articles WHERE slug = ?", (base,))
    if cur.fetchone() is None:
        return base
    cur.execute("SELECT slug FROM articles WHERE slug > ? AND slug < ?",
                (base + "-", base + "."))
    top = 1
    for (s,) in cur.fetchall():
        tail = s[len(base) + 1:]
        if tail.isdigit() and not tail.startswith("0"):
            top = max(top, int(tail))
    return "%s-%d" % (base, top + 1)


def now():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def validate_new(doc):
    """(title, description, body, tags) or an error message."""
    a = doc.get("article") if isinstance(doc, dict) else None
    if not isinstance(a, dict):
        return "article: is required"
    for k in ("title", "description", "body"):
        if not isinstance(a.get(k), str) or not a[k]:
            return k + ": is required"
    tags = a.get("tagList", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return "tagList: must be a list of strings"
    return a["title"], a["description"], a["body"], tags


def create_article(cur, user, title, description, body, tags):
    """Insert article + tags; the caller holds a write transaction."""
    slug = pick_slug(cur, title)
    stamp = now()
    cur.execute("INSERT INTO articles (slug, title, description, body, "
                "author_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                (slug, title, description, body, user, stamp, stamp))
    aid = cur.lastrowid
    seen = set()
    for pos, name in enumerate(tags):
        if name in seen:
            continue
        seen.add(name)
        cur.execute("INSERT INTO tags (name) VALUES (?) "
                    "ON CONFLICT (name) DO NOTHING", (name,))
        cur.execute("SELECT id FROM tags WHERE name = ?", (name,))
        tid = cur.fetchone()[0]
        cur.execute("INSERT INTO article_tags (article_id, tag_id, position) "
                    "VALUES (?,?,?)", (aid, tid, pos))
    return slug


def user_from_token(cur, header, secret):
    """The user id of a valid 'Token <jwt>' header (HS256, exp checked,
    jti not revoked), or None."""
    import jwt
    if not header or not header.startswith("Token "):
        return None
    try:
        claims = jwt.decode(header[6:], secret, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]})
        if claims.get("jti"):
            cur.execute(REVOKED_SQL, (claims["jti"],))
            if cur.fetchone():
                return None
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
