INSERT INTO duty_boards (unit_id, status, at, note, photo, actor) VALUES (:unit, :status, :at, :note, :photo, :actor)
RETURNING id
