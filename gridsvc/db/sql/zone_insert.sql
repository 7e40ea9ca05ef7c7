-- Open a zone version valid from :ts; zone_id NULL starts a new zone (the trigger gives it its own row id).
WITH g AS (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(:wkb, 4326)), 3)) AS geom)
INSERT INTO zones (zone_id, zone_key, version, kind, origin, policy, party_id, unit_id, street_id, compound_id,
                   market_id, props, build_id, created_by, valid_from, geom)
SELECT :zone_id, :zone_key, :version, :kind, :origin, :policy, :party_id, :unit_id, :street_id, :compound_id,
       :market_id, CAST(:props AS jsonb) || jsonb_build_object('area_m2', round(ST_Area(g.geom::geography)::numeric, 2)),
       :build_id, :created_by, :ts, g.geom
FROM g
RETURNING zone_id, version
