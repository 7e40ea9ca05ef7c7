-- 责任牌 coverage per street: shops (units; a unit's street is that of its current frontage zone) and the state of
-- their boards (each unit's latest duty_boards row: hung or replaced counts as hung).
WITH b AS (SELECT DISTINCT ON (unit_id) unit_id, status FROM duty_boards ORDER BY unit_id, at DESC, id DESC),
u AS (
  SELECT u.id, b.status, (SELECT min(z.street_id) FROM zones_current z
                          WHERE z.unit_id = u.id AND z.kind = 'frontage') AS street_id
  FROM units u LEFT JOIN b ON b.unit_id = u.id)
SELECT u.street_id::text AS key, coalesce(s.name_zh, s.name) AS name, count(*) AS shops,
       count(*) FILTER (WHERE u.status IN ('hung', 'replaced')) AS hung,
       count(*) FILTER (WHERE u.status = 'missing') AS missing,
       count(*) FILTER (WHERE u.status = 'damaged') AS damaged,
       count(*) FILTER (WHERE u.status IS NULL) AS unrecorded
FROM u LEFT JOIN streets s ON s.id = u.street_id
GROUP BY u.street_id, s.name_zh, s.name
ORDER BY u.street_id NULLS LAST
