SELECT id FROM cases WHERE code = :c
