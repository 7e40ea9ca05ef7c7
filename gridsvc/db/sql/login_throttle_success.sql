-- A right password: the account starts afresh; the address gives back the failure its attempt was counted as.
UPDATE login_throttle t
SET failures = CASE WHEN t.key = :account THEN 0 ELSE greatest(t.failures - 1, 0) END,
    blocked_until = CASE WHEN t.key <> :account AND t.failures - 1 >= l.free THEN t.blocked_until END,
    refused = CASE WHEN t.key = :account THEN 0 ELSE t.refused END
FROM unnest(CAST(:keys AS text[]), CAST(:frees AS int[])) AS l(key, free)
WHERE t.key = l.key
