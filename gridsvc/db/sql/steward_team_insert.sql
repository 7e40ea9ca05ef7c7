INSERT INTO steward_teams (name, street, street_ids, segment, note, created_by)
VALUES (:name, :street, :ids, :segment, :note, :by)
RETURNING id
