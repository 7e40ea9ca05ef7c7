-- Provisional subdistricts or communities (:level), one row per element of the arrays.
INSERT INTO admin_units (level, code, name, parent_id, provisional, h3, geom)
SELECT :level, c, n, p, true, h, ST_GeomFromWKB(g, 4326)
FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:parents AS int[]),
            CAST(:h3s AS bigint[]), CAST(:geoms AS bytea[])) AS t(c, n, p, h, g)
RETURNING id
