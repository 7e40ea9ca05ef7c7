-- Open311 GET requests: cases by code (ids given: nothing else applies), else by category, report time and
-- open/closed (closed = one of :closed); newest first. The address: what the Open311 report gave, else the
-- unit's address or name and the nearest street's name (within about 100 m).
SELECT c.code, c.state, c.category, c.description, c.party_name, c.department, c.reported_at, c.updated_at,
       c.closed_at, c.deadlines, c.duplicate_of, d.code AS duplicate_code, c.routing -> 'open311' AS open311,
       ST_X(c.geom) AS lng, ST_Y(c.geom) AS lat, u.name AS unit_name, u.address AS unit_address,
       st.name AS street
FROM cases c
LEFT JOIN cases d ON d.id = c.duplicate_of
LEFT JOIN units u ON u.id = c.unit_id
LEFT JOIN LATERAL (
  SELECT coalesce(s.name_zh, s.name) AS name FROM streets s
  WHERE coalesce(s.name_zh, s.name) IS NOT NULL AND ST_DWithin(s.geom, c.geom, 0.001)
  ORDER BY s.geom <-> c.geom LIMIT 1) st ON TRUE
WHERE CASE WHEN CAST(:codes AS text[]) IS NOT NULL THEN c.code = ANY(:codes)
      ELSE (CAST(:categories AS text[]) IS NULL OR c.category = ANY(:categories))
       AND c.reported_at >= :since AND c.reported_at <= :until
       AND (:want_open OR c.state = ANY(:closed))
       AND (:want_closed OR NOT c.state = ANY(:closed)) END
ORDER BY c.reported_at DESC, c.id DESC
LIMIT :limit
