-- PostgreSQL: a trigger calls a function, whose body is dollar-quoted.
CREATE TABLE tags (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE FUNCTION articles_count() RETURNS trigger AS $$
BEGIN
	UPDATE article_counts SET n = n + CASE WHEN NEW.title = '' THEN 0 ELSE 1 END
	WHERE author_id = NEW.author_id;
	RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_count AFTER INSERT ON articles
	FOR EACH ROW EXECUTE FUNCTION articles_count();
INSERT INTO tags (name) VALUES ('why??!'), ('semi;colon');
