DELETE FROM feature_cells
