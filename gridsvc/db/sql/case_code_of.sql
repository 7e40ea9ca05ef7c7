SELECT code FROM cases WHERE id = :i
