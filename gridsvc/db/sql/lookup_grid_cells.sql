-- Every grid cell's H3 index, grid code and resolution, for the lookup index.
SELECT h3, code, res FROM grid_cells
