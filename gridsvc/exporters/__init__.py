"""Writers that export gridsvc layers to GIS files (GeoJSON, GeoPackage, Shapefile, KML)."""
