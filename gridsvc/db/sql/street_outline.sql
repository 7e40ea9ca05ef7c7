-- The union of the streets named :n (in either language), WKB; NULL when there is none.
SELECT ST_AsBinary(ST_Union(geom)) FROM streets WHERE name = :n OR name_zh = :n
