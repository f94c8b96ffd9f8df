-- SQLite: triggers hold their statements between BEGIN and END.
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TRIGGER articles_count AFTER INSERT ON articles
BEGIN
	UPDATE article_counts SET n = n + CASE WHEN new.title = '' THEN 0 ELSE 1 END
	WHERE author_id = new.author_id;
END;
INSERT INTO tags (name) VALUES ('why??!'), ('semi;colon');
