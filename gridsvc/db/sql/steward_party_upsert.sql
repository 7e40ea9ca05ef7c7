INSERT INTO parties (kind, ref, name, phone) VALUES ('street_steward', :ref, :n, :p)
ON CONFLICT (kind, ref) DO UPDATE SET phone = EXCLUDED.phone RETURNING id
