"""Index backends (embedded SQLite, Elasticsearch) behind one search interface."""
