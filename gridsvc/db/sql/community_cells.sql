SELECT h3 FROM grid_cells WHERE community_id = :i ORDER BY h3
