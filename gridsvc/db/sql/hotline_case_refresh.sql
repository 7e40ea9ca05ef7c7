-- A hotline case still in 受理 takes its changed work order: content, category (kind, urgency, department), caller,
-- call time, place and the routing and deadlines that follow from them (gridsvc/ops/cases.case_fields).
UPDATE cases SET category = :cat, kind = :kind, urgency = :urg, description = :desc, reporter_name = :rn,
  reporter_phone = :rp, reported_at = :at, geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326), route_zone_id = :zid,
  zone_version = :zv, zone_kind = :zk, unit_id = :unit, party_id = :pid, party_name = :pname, grid_code = :grid,
  officer_id = :oid, officer_name = :oname, department = :dept, rule = :rule, routing = CAST(:routing AS jsonb),
  deadlines = CAST(:deadlines AS jsonb), stage_started_at = :at, due_at = :due, escalate_at = :esc,
  escalation_level = 0, overdue_marked_at = NULL, version = version + 1, updated_at = :now
WHERE id = :id AND state = 'accepted'
