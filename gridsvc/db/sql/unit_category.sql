SELECT category FROM units WHERE id = :i
