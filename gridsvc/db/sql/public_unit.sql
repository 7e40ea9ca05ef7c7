-- The public page of a unit (一户一码, /u/{code}): the unit, its building, its current frontage zones with
-- their streets, the policy they were drawn under (else the latest build's), and what lies around it for
-- the sketch: street centrelines and other buildings within :pad_deg of the zones, building and unit.
WITH u AS (
  SELECT u.id, u.name, u.category, u.address, u.public_code, u.rating, c.balance AS credit_points, u.rated_at,
         u.building_id, u.geom
  FROM units u LEFT JOIN unit_credit c ON c.unit_id = u.id WHERE u.public_code = :code),
z AS (
  SELECT z.zone_id, z.version, z.policy, z.street_id, coalesce(s.name_zh, s.name) AS street_name, z.side, z.depth_rule, z.frontage_m,
         z.area_m2, z.valid_from, z.geom
  FROM zones_current z JOIN u ON z.unit_id = u.id LEFT JOIN streets s ON s.id = z.street_id
  WHERE z.kind = 'frontage'),
b AS (SELECT b.id, b.geom FROM buildings b JOIN u ON b.id = u.building_id),
env AS (
  SELECT ST_Expand(ST_Envelope(ST_Collect(g)), :pad_deg) AS box
  FROM (SELECT geom AS g FROM u UNION ALL SELECT geom FROM z UNION ALL SELECT geom FROM b) parts)
SELECT u.id, u.name, u.category, u.address, u.public_code, u.rating, u.credit_points, u.rated_at,
       ST_X(u.geom) AS lng, ST_Y(u.geom) AS lat,
       (SELECT encode(ST_AsBinary(b.geom), 'hex') FROM b) AS building_wkb,
       coalesce((SELECT z.policy FROM z ORDER BY z.zone_id LIMIT 1),
                (SELECT zb.policy FROM zone_builds zb ORDER BY zb.id DESC LIMIT 1)) AS policy,
       (SELECT coalesce(json_agg(json_build_object(
                 'zone_id', z.zone_id, 'version', z.version, 'policy', z.policy, 'street_id', z.street_id,
                 'street_name', z.street_name, 'side', z.side, 'depth_rule', z.depth_rule,
                 'frontage_m', z.frontage_m, 'area_m2', z.area_m2, 'valid_from', z.valid_from,
                 'wkb', encode(ST_AsBinary(z.geom), 'hex')) ORDER BY z.zone_id), '[]'::json) FROM z) AS zones,
       (SELECT coalesce(json_agg(json_build_object(
                 'id', s.id, 'name', coalesce(s.name_zh, s.name), 'width_m', s.width_m,
                 'wkb', encode(ST_AsBinary(s.centerline), 'hex')) ORDER BY s.id), '[]'::json)
        FROM streets s, env WHERE s.centerline && env.box) AS streets,
       (SELECT coalesce(json_agg(encode(ST_AsBinary(o.geom), 'hex') ORDER BY o.id), '[]'::json)
        FROM (SELECT o.id, o.geom FROM buildings o, env WHERE o.geom && env.box
              AND o.id IS DISTINCT FROM u.building_id ORDER BY o.id LIMIT 300) o) AS other_buildings
FROM u
