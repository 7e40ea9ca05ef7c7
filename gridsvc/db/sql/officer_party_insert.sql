INSERT INTO parties (kind, ref, name, phone) VALUES ('grid_officer', :ref, :n, :p) RETURNING id
