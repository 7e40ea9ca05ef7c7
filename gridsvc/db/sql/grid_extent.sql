SELECT ST_AsBinary(ST_Extent(geom)::geometry) FROM grid_cells
