INSERT INTO inspections (checklist, target_kind, target_ref, unit_id, target_zone_id, party_id, grid_code, inspector, inspector_name, inspector_kind, unannounced, inspected_at, geom, crs_in, score, max_score, items_total, items_failed, passed, note, source, external_key)
VALUES (:checklist, :kind, :ref, :unit, :zone, :party, :grid, :inspector, :iname, :ikind, :unannounced, :at, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :crs, :score, :max_score, :total, :failed, :passed, :note, :source, :key)
RETURNING id
