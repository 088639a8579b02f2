-- The example's users (Caddyfile.sql.example), the same as
-- example-users.json: foo is an admin, bar and baz are peasants.
-- Make the database:  sqlite3 example-users.db < example-users.sql
-- roles holds a JSON array; the query turns the row into the user object.
CREATE TABLE users (
	id       TEXT PRIMARY KEY,
	username TEXT NOT NULL,
	roles    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(roles))
);
INSERT INTO users (id, username, roles) VALUES
	('foo', 'foo', '["admin"]'),
	('bar', 'bar', '["peasant"]'),
	('baz', 'baz', '["peasant"]');
