-- Column names and types of the registry's tables and views (for TileJSON vector_layers fields).
SELECT table_name, column_name, data_type
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY(:tables)
