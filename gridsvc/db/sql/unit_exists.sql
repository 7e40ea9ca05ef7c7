SELECT id, name FROM units WHERE id = :id
