-- Reports from one client address (its keyed hash) since :since: the anonymous rate limit, and the oldest of them
-- (when the next one may be sent).
SELECT count(*) AS n, min(created_at) AS oldest FROM reports WHERE ip_hash = :ip AND created_at >= :since
