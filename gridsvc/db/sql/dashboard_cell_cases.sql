-- The cases of the dashboard's heat map found between :s and :e inside a box around one H3 cell (the caller keeps
-- those whose point lies in the cell, as the heat map counted them): compact rows, newest first.
SELECT c.id, c.code, c.state, c.category, c.urgency, c.description, c.reported_at, c.due_at, c.grid_code,
       ST_X(c.geom) AS lng, ST_Y(c.geom) AS lat
FROM cases c
WHERE c.reported_at >= :s AND c.reported_at < :e AND c.duplicate_of IS NULL AND c.state <> 'void'
  AND c.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)
ORDER BY c.reported_at DESC, c.id DESC
