INSERT INTO user_grids (user_id, grid_code) VALUES (:u, :g)
