-- Parties whose name contains :q (LIKE wildcards escaped by the caller), of kind :k if given, by name.
SELECT id, kind, name, contact, phone FROM parties
WHERE (CAST(:q AS text) IS NULL OR name ILIKE '%' || CAST(:q AS text) || '%')
  AND (CAST(:k AS text) IS NULL OR kind = CAST(:k AS text))
ORDER BY name, id LIMIT :n
