-- Users of the blog.  Portable SQL: runs on SQLite and PostgreSQL.
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT ''
);

/* The first user; the ';' and the quotes inside the string stay put. */
INSERT INTO users (id, email, name) VALUES (1, 'ann@example.com', 'Ann; "the first" O''Neil');
