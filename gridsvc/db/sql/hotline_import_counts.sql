-- A hotline import's log row gets its counts and notes when it is done.
UPDATE imports SET counts = CAST(:n AS jsonb), notes = CAST(:o AS jsonb) WHERE id = :id
