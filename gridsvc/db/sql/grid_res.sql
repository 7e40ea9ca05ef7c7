-- The H3 resolution the stored grid was built at (every cell of one build has the same); no row without a grid.
SELECT res FROM grid_cells LIMIT 1
