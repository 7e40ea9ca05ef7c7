INSERT INTO officers (name, phone, party_id) VALUES (:n, :p, :party) RETURNING id
