-- A resident finds the topic they raised on the portal by its receipt code (回执号), which is its id.
CREATE INDEX topics_by_id ON topics (topic_id);
