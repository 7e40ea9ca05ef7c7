INSERT INTO login_throttle (key) SELECT unnest(CAST(:keys AS text[])) ON CONFLICT (key) DO NOTHING
