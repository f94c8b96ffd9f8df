CREATE TABLE articles (
	id INTEGER PRIMARY KEY,
	author_id INTEGER NOT NULL REFERENCES users (id),
	title TEXT NOT NULL,
	body TEXT NOT NULL DEFAULT '',
	words INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_author_id ON articles (author_id);

CREATE TABLE article_counts (author_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO article_counts (author_id, n) VALUES (1, 0);
