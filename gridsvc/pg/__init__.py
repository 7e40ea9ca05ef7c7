"""Running PostgreSQL: the local PostGIS cluster (`gridsvc db up`) and backups (`gridsvc db dump/restore`)."""
