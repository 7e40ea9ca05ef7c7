-- The throttle rows of a login's keys (account, address), locked until the claim commits, in key order (no deadlock).
SELECT key, failures, blocked_until, refused,
       coalesce(blocked_until > now(), false) AS blocked,
       greatest(1, ceil(extract(epoch FROM blocked_until - now())))::int AS wait_s
FROM login_throttle
WHERE key = ANY(CAST(:keys AS text[]))
ORDER BY key
FOR UPDATE
