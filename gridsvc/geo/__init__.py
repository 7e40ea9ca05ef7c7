"""The pure geometry core: every function takes and returns plain values, (Geo)DataFrames or shapely geometries.

CRS parsing and the Chinese offsets (crs, chinese_crs, basemap_shift), input checks and repair (checks,
geojson_checks, zone_geometry), OSM tags and street widths (osm_tags, streets), H3 cells and grid codes (h3cells),
and the zones themselves: frontage and area zones, priority where they meet, validation checks (frontage, priority,
zone_validation, with thread-parallel GEOS helpers in geos_ops).

Pure means no database and no I/O of its own: modules here import numpy, pandas, shapely, geopandas, pyproj and h3,
each other, gridsvc.errors, and the configuration they are given as data (the tag catalogue's `Catalogue` from
gridsvc.city.catalogue, a duty policy's `Policy` from gridsvc.zones.policies), never gridsvc.db, SQLAlchemy,
the API or the exporters. The notebooks and the tests use it without PostGIS.
"""
