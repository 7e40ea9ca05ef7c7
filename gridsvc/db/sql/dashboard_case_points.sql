-- The dashboard's heat map: the position and report time of each case found (reported) between :s and :e, counted
-- as the bulletins count 发现数 (bulletin_cases.sql `found`): cases marked as a duplicate and void cases are left out.
SELECT ST_X(c.geom) AS lng, ST_Y(c.geom) AS lat, c.reported_at
FROM cases c
WHERE c.reported_at >= :s AND c.reported_at < :e AND c.duplicate_of IS NULL AND c.state <> 'void'
ORDER BY c.reported_at, c.id
