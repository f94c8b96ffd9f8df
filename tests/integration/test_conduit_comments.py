"""Conduit comments over HTTP against the real binary: list, add, delete,
every status path, verbatim strings and a constant query count."""
import re

import pytest

from keelserver import running
from test_conduit_articles import call, new_article, queries, user

SECRET = "a" * 40


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("conduit_comments")
    env = {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "CONDUIT_SECRET": SECRET}
    with running(tmp, binary="apps/conduit/conduit", env=env) as s:
        yield s


def post(srv, slug, body, tok):
    return call(srv, "POST", f"/api/articles/{slug}/comments",
                {"comment": {"body": body}}, tok)


def test_add_list_delete(srv):
    tok, name = user(srv, "cauthor")
    slug = new_article(srv, tok, "Commented")["slug"]
    r = post(srv, slug, "first", tok)
    assert r.status == 201
    c = r.json["comment"]
    assert c["body"] == "first" and isinstance(c["id"], int)
    assert c["author"] == {"username": name, "bio": None, "image": None,
                           "following": False}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        c["createdAt"])
    post(srv, slug, "second", tok)
    r = call(srv, "GET", f"/api/articles/{slug}/comments")
    assert r.status == 200
    assert [x["body"] for x in r.json["comments"]] == ["first", "second"]
    r = call(srv, "DELETE", f"/api/articles/{slug}/comments/{c['id']}",
             token=tok)
    assert r.status == 204
    r = call(srv, "GET", f"/api/articles/{slug}/comments")
    assert [x["body"] for x in r.json["comments"]] == ["second"]


def test_status_paths(srv):
    tok, _ = user(srv)
    other, _ = user(srv)
    slug = new_article(srv, tok, "Status Paths")["slug"]
    cid = post(srv, slug, "mine", tok).json["comment"]["id"]
    assert post(srv, slug, "x", None).status == 401
    assert post(srv, slug, "x", "not.a.token").status == 401
    assert call(srv, "DELETE",
                f"/api/articles/{slug}/comments/{cid}").status == 401
    r = call(srv, "DELETE", f"/api/articles/{slug}/comments/{cid}",
             token=other)
    assert r.status == 403
    assert r.json == {"errors": {"comment": ["is not yours"]}}
    assert post(srv, "no-such-article", "x", tok).status == 404
    assert call(srv, "GET",
                "/api/articles/no-such-article/comments").status == 404
    r = call(srv, "DELETE", f"/api/articles/{slug}/comments/999999",
             token=tok)
    assert r.status == 404 and "comment" in r.json["errors"]
    assert call(srv, "DELETE", f"/api/articles/{slug}/comments/abc",
                token=tok).status == 404
    # a comment id under the wrong article is not found there
    other_slug = new_article(srv, tok, "Other Article")["slug"]
    assert call(srv, "DELETE", f"/api/articles/{other_slug}/comments/{cid}",
                token=tok).status == 404


def test_validation(srv):
    tok, _ = user(srv)
    slug = new_article(srv, tok, "Validated")["slug"]
    for bad in ({"comment": {}}, {"comment": {"body": "   "}},
                {"comment": {"body": None}}):
        r = call(srv, "POST", f"/api/articles/{slug}/comments", bad, tok)
        assert r.status == 422
        assert r.json["errors"]["body"] == ["can't be blank"]
    r = post(srv, slug, "x" * 10001, tok)
    assert r.status == 422 and "body" in r.json["errors"]
    r = call(srv, "POST", f"/api/articles/{slug}/comments",
             {"comment": {"body": 5}}, tok)
    assert r.status == 422


def test_verbatim(srv):
    tok, _ = user(srv)
    slug = new_article(srv, tok, "Verbatim")["slug"]
    evil = "<img src=x onerror=alert(1)> '); DELETE FROM comments;-- ☃ 😀"
    assert post(srv, slug, evil, tok).json["comment"]["body"] == evil
    r = call(srv, "GET", f"/api/articles/{slug}/comments")
    assert r.json["comments"][0]["body"] == evil


def test_following_and_query_count(srv):
    reader, _ = user(srv)
    tok, _ = user(srv)
    slug = new_article(srv, tok, "Busy Thread")["slug"]
    authors = []
    for i in range(12):
        t, n = user(srv)
        authors.append(n)
        post(srv, slug, f"c{i}", t)
        if i == 2:
            few = queries(call(srv, "GET", f"/api/articles/{slug}/comments",
                               token=reader))
    call(srv, "POST", f"/api/profiles/{authors[0]}/follow", token=reader)
    r = call(srv, "GET", f"/api/articles/{slug}/comments", token=reader)
    assert queries(r) == few
    flags = {c["author"]["username"]: c["author"]["following"]
             for c in r.json["comments"]}
    assert flags[authors[0]] is True and flags[authors[1]] is False
