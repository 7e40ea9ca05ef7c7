-- A case opened from an inspection's failed item names them.
UPDATE cases SET inspection_id = :i, inspection_item = :item WHERE id = :c
