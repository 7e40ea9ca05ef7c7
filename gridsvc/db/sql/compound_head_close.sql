UPDATE compound_heads SET until = greatest(since, CAST(:d AS date)) WHERE compound_id = :c AND until IS NULL
