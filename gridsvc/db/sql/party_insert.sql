INSERT INTO parties (kind, ref, name, contact, phone) VALUES (:kind, :ref, :name, :contact, :phone)
RETURNING id, kind, name, contact, phone
