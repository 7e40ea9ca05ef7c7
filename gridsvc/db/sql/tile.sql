-- One Mapbox Vector Tile (EPSG:3857) of one layer. $table, $key, $attributes and $geom are filled in
-- from the layer registry (gridsvc/db/layer_sql.py); z/x/y and everything else are bound parameters.
-- For a GCJ-02 basemap (crs=gcj02) the rows are searched in the tile envelope moved back by the GCJ offset
-- (:sdx, :sdy; 0 for WGS84) and $geom moves them onto the basemap with ST_Affine (gridsvc/geo/basemap_shift.py).
WITH tile AS (
  SELECT ST_TileEnvelope(:z, :x, :y) AS env,
         ST_Translate(ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326), :sdx, :sdy) AS search
), features AS (
  SELECT t.$key AS __fid, $attributes,
         ST_AsMVTGeom($geom, tile.env, :extent, :buffer, true) AS geom
  FROM $table t, tile
  WHERE t.geom && tile.search
)
SELECT ST_AsMVT(features, CAST(:layer AS text), :extent, 'geom', '__fid') FROM features WHERE geom IS NOT NULL
