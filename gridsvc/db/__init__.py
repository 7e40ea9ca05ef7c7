"""Database access: the local PostGIS cluster, the engine, models and migrations."""
