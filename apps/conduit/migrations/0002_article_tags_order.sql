-- Lists read each page's tags with one IN query ordered by article and
-- position; the primary key (article_id, tag_id) finds the rows but left
-- SQLite sorting them in a temporary B-tree on every list request.  This
-- index hands them over in order.
CREATE INDEX article_tags_article_position ON article_tags (article_id, position);
