-- A read server's health check: is it a standby (in recovery), and has it replayed the WAL up to :lsn (the position
-- of a client's own last write; NULL = no such need)
SELECT pg_is_in_recovery() AS standby,
       CAST(:lsn AS pg_lsn) IS NULL
       OR coalesce(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), false) AS caught_up
