-- Conduit's schema: users, follows, articles, tags, favorites, comments,
-- and the JWT revocation list.  Portable SQL (SQLite and PostgreSQL);
-- times are ISO-8601 UTC text ("2026-11-22T04:20:00.000Z").  Every foreign
-- key and every filtered or sorted column has an index.

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	email TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	bio TEXT,
	image TEXT,
	is_admin INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE follows (
	follower_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	followed_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	PRIMARY KEY (follower_id, followed_id)
);
CREATE INDEX follows_followed ON follows (followed_id);

CREATE TABLE articles (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	body TEXT NOT NULL,
	author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	favorites_count INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX articles_author_created ON articles (author_id, created_at);
CREATE INDEX articles_created ON articles (created_at);

CREATE TABLE tags (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

CREATE TABLE article_tags (
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag ON article_tags (tag_id);

CREATE TABLE favorites (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	PRIMARY KEY (user_id, article_id)
);
CREATE INDEX favorites_article ON favorites (article_id);

CREATE TABLE comments (
	id INTEGER PRIMARY KEY,
	article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	body TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX comments_article_created ON comments (article_id, created_at);
CREATE INDEX comments_author ON comments (author_id);

CREATE TABLE keel_revoked_tokens (
	jti TEXT PRIMARY KEY,
	exp BIGINT NOT NULL
);
CREATE INDEX keel_revoked_tokens_exp ON keel_revoked_tokens (exp);
