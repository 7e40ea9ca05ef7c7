-- The newest imports first: rows stored (all layers) and geometries repaired or skipped (from the notes' objects).
SELECT i.id, i.imported_at, i.source_file, i.crs,
       (SELECT coalesce(sum((c.value ->> 'rows')::int), 0) FROM jsonb_each(i.counts) c) AS rows,
       (SELECT count(*) FROM jsonb_array_elements(i.notes) n WHERE n ->> 'action' = 'repaired') AS repaired,
       (SELECT count(*) FROM jsonb_array_elements(i.notes) n WHERE n ->> 'action' = 'skipped') AS skipped
FROM imports i
ORDER BY i.id DESC
LIMIT :limit
