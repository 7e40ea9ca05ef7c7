SELECT 1 FROM parties WHERE id = :p
