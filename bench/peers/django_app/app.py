"""Conduit's four benchmarked endpoints in Django + Django REST framework,
for bench/peers/run.sh; settings, views, URLs and the WSGI app in one file.

Run: DATABASE_PATH=x.db CONDUIT_SECRET=... gunicorn --chdir django_app app
Views are DRF APIViews (JSON renderer and parser only, no DRF auth
classes: the token is checked by hand like the FastAPI peer).  SQL goes
through Django's raw cursor (django.db.connection.cursor()), not the ORM;
the connection is kept per worker (CONN_MAX_AGE=None).
"""
import os
import sys

import django
from django.conf import settings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ["CONDUIT_SECRET"],
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["rest_framework"],
    MIDDLEWARE=[],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["DATABASE_PATH"],
        "CONN_MAX_AGE": None,
        "OPTIONS": {"timeout": 5}}},
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None},
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

import conduit_sql as q  # noqa: E402


def error(status, field, msg):
    return Response({"errors": {field: [msg]}}, status=status)


class Articles(APIView):
    def get(self, request):
        try:
            limit = int(request.query_params.get("limit", 20))
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            return error(422, "limit", "must be an integer")
        if limit < 0 or offset < 0:
            return error(422, "limit", "must be >= 0")
        with connection.cursor() as cur:
            return Response(q.list_articles(cur, min(limit, 100), offset))

    def post(self, request):
        with connection.cursor() as cur:
            user = q.user_from_token(cur, request.headers.get("Authorization"),
                                     settings.SECRET_KEY)
            if user is None:
                return error(401, "token", "is missing or invalid")
            v = q.validate_new(request.data)
            if isinstance(v, str):
                return error(422, *v.split(": ", 1))
            cur.execute("BEGIN IMMEDIATE")
            try:
                slug = q.create_article(cur, user, *v)
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
            return Response(q.get_article(cur, slug), status=201)


class Article(APIView):
    def get(self, request, slug):
        with connection.cursor() as cur:
            out = q.get_article(cur, slug)
        return Response(out) if out else error(404, "article", "not found")


class Tags(APIView):
    def get(self, request):
        with connection.cursor() as cur:
            return Response(q.list_tags(cur))


urlpatterns = [
    path("api/articles", Articles.as_view()),
    path("api/articles/<str:slug>", Article.as_view()),
    path("api/tags", Tags.as_view()),
]
application = get_wsgi_application()
