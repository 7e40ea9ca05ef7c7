"""gridsvc: H3 unit grids and 门前三包 frontage duty zones on PostGIS."""

__version__ = "0.1.0"
