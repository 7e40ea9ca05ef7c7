-- The target of an inspection at :at (kind unit, zone, market, compound or street, by id): its representative point,
-- its name, and the zone holding it then with its party: a unit's own zone (frontage first), the zone itself at :at,
-- a market's or compound's zone, a street's street-space zone (else the street's steward). Values, like a case's.
WITH t AS (
  SELECT u.id, u.name, u.geom AS p FROM units u WHERE :kind = 'unit' AND u.id = :id
  UNION ALL
  SELECT m.id, m.name, ST_PointOnSurface(m.geom) FROM markets m WHERE :kind = 'market' AND m.id = :id
  UNION ALL
  SELECT c.id, c.name, ST_PointOnSurface(c.geom) FROM compounds c WHERE :kind = 'compound' AND c.id = :id
  UNION ALL
  SELECT s.id, coalesce(s.name_zh, s.name), ST_PointOnSurface(s.geom) FROM streets s
  WHERE :kind = 'street' AND s.id = :id
  UNION ALL
  SELECT z.zone_id, z.zone_key, ST_PointOnSurface(z.geom) FROM zones z
  WHERE :kind = 'zone' AND z.zone_id = :id AND z.valid_from <= :at AND (z.valid_to IS NULL OR z.valid_to > :at)
),
z AS (
  SELECT z.zone_id, z.version, z.kind, z.unit_id, z.party_id, ST_PointOnSurface(z.geom) AS p
  FROM zones z, t
  WHERE z.valid_from <= :at AND (z.valid_to IS NULL OR z.valid_to > :at)
    AND CASE :kind WHEN 'unit' THEN z.unit_id = t.id WHEN 'zone' THEN z.zone_id = t.id
                   WHEN 'market' THEN z.market_id = t.id WHEN 'compound' THEN z.compound_id = t.id
                   ELSE z.street_id = t.id END
  ORDER BY CASE WHEN :kind = 'street' THEN z.kind = 'frontage' ELSE z.kind <> 'frontage' END,
           zone_rank(z.kind), ST_Area(z.geom) DESC, z.id
  LIMIT 1)
SELECT t.id, t.name, ST_X(t.p) AS x, ST_Y(t.p) AS y, ST_X(z.p) AS zx, ST_Y(z.p) AS zy,
       z.zone_id, z.version AS zone_version, z.kind AS zone_kind,
       CASE WHEN :kind = 'unit' THEN t.id ELSE z.unit_id END AS unit_id, pa.id AS party_id, pa.name AS party_name
FROM t
LEFT JOIN z ON true
LEFT JOIN parties pa ON pa.id = coalesce(
  z.party_id,
  CASE WHEN :kind = 'street' THEN (SELECT s.steward_party_id FROM streets s WHERE s.id = t.id) END,
  CASE WHEN :kind = 'unit' THEN (SELECT q.id FROM parties q WHERE q.kind = 'unit' AND q.ref = 'unit:' || t.id) END)
LIMIT 1
