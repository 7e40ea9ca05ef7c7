-- The store's advisory locks on these checksums, taken in a fixed order (no deadlock), held until commit.
SELECT count(pg_advisory_xact_lock(:ns, hashtext(s)))
FROM (SELECT DISTINCT unnest(CAST(:shas AS text[])) AS s ORDER BY 1) AS t
