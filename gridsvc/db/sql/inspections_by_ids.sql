SELECT i.id, i.checklist, i.target_kind, i.target_ref, i.unit_id, i.target_zone_id, i.party_id, p.name AS party_name,
       i.grid_code, i.inspector, i.inspector_name, i.inspector_kind, i.unannounced, i.inspected_at,
       ST_X(i.geom) AS lng, ST_Y(i.geom) AS lat, i.crs_in, i.score, i.max_score, i.items_total, i.items_failed,
       i.passed, i.note, i.source, i.external_key, i.version, i.created_at
FROM inspections i
LEFT JOIN parties p ON p.id = i.party_id
WHERE i.id = ANY(:ids)
