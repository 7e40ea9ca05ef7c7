-- The lookup index's reload gives way to DDL and TRUNCATE (a reload reads many tables one after the other; a
-- TRUNCATE locks them in another order): after 250 ms it fails, is logged, and retries a second later, so it is
-- never the other side of a deadlock that aborts somebody's transaction.
SET LOCAL lock_timeout = '250ms'
