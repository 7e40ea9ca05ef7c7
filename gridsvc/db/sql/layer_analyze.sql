ANALYZE $table
