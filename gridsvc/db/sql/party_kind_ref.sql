SELECT kind, ref FROM parties WHERE id = :id
