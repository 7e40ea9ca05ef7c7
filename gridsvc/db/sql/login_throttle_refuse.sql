-- One more attempt refused while these keys are blocked.
UPDATE login_throttle SET refused = refused + 1
WHERE key = ANY(CAST(:keys AS text[]))
RETURNING key, failures, blocked_until, refused
