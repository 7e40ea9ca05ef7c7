-- The primary's WAL position after a commit: a standby that has replayed up to here holds that commit
SELECT CAST(pg_current_wal_lsn() AS text)
