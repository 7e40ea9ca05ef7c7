-- Where two named streets meet (or come nearest): the point on street :a nearest street :b, and the distance in
-- metres between them.
WITH a AS (SELECT ST_Collect(centerline) AS g FROM streets WHERE :a IN (name, name_zh)),
     b AS (SELECT ST_Collect(centerline) AS g FROM streets WHERE :b IN (name, name_zh))
SELECT ST_X(p) AS x, ST_Y(p) AS y, ST_Distance(a.g::geography, b.g::geography) AS metres
FROM a, b, LATERAL (SELECT ST_ClosestPoint(a.g, b.g) AS p) q
WHERE a.g IS NOT NULL AND b.g IS NOT NULL
