-- id and WKB geometry of a registry layer's rows ($where: nothing, or fixed SQL on bound parameters).
SELECT id, ST_AsBinary(geom) FROM $table $where ORDER BY id
