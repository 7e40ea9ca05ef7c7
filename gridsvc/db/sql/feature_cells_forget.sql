-- Drop the grid index entries of a layer's rows (before they are covered again, or because they are gone).
DELETE FROM feature_cells WHERE layer = :layer AND feature_id = ANY(:ids)
