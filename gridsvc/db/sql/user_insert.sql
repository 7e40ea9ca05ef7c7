INSERT INTO users (name, role, password_hash, party_id) VALUES (:n, :r, :h, :p) RETURNING id
