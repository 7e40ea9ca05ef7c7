ANALYZE grid_cells, feature_cells, admin_units
