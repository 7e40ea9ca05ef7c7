-- Current zones with party and a point inside each (for the grid officer), for maps.
SELECT z.zone_id AS id, z.zone_key, z.kind, z.provenance, z.policy, z.unit_id, z.party_kind, z.party_name, z.party_contact,
       z.party_phone, z.area_m2, z.valid_from, ST_X(ST_PointOnSurface(z.geom)) AS px,
       ST_Y(ST_PointOnSurface(z.geom)) AS py, ST_AsBinary(z.geom) AS geom
FROM zones_current z
ORDER BY z.zone_id
