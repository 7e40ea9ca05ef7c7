-- Envelope of everything imported: the managed area when no district boundary exists.
SELECT ST_AsBinary(ST_Envelope(ST_Collect(e))) FROM (
  SELECT ST_Extent(geom)::geometry AS e FROM streets
  UNION ALL SELECT ST_Extent(geom)::geometry FROM buildings
  UNION ALL SELECT ST_Extent(geom)::geometry FROM compounds
  UNION ALL SELECT ST_Extent(geom)::geometry FROM markets
  UNION ALL SELECT ST_Extent(geom)::geometry FROM units
) x WHERE e IS NOT NULL
