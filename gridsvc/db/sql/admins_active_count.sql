SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL
