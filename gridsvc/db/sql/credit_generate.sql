-- Credit entries generated from the records of [:s, :e) (points from ratings.toml [credit.points]), each once per
-- unit, reason and source record (credit_entry_once): the opening entry of every unit's ledger, inspections
-- (passed, failed, a passed 暗访), cases (overdue: once, when the first deadline was missed; closed on time), each
-- 督办单, each 返工, duty boards found missing or damaged, 责任书 signed. Returns the entries written.
WITH c AS (
  SELECT c.id, c.unit_id, c.state, c.closed_at,
         case_missed_at(c, CAST(:now AS timestamptz)) AS missed
  FROM cases c
  WHERE c.unit_id IS NOT NULL AND c.state <> 'void' AND c.reported_at < :e
    AND (c.closed_at IS NULL OR c.closed_at >= :s)),
e (unit_id, amount, reason, source_key, inspection_id, case_id, at) AS (
  SELECT u.id, :initial, 'initial', 'unit:' || u.id, NULL::bigint, NULL::bigint, CAST(:s AS timestamptz)
  FROM units u
  UNION ALL
  SELECT i.unit_id, CASE WHEN i.passed THEN :inspection_passed ELSE :inspection_failed END,
         CASE WHEN i.passed THEN 'inspection_passed' ELSE 'inspection_failed' END, 'inspection:' || i.id, i.id, NULL,
         i.inspected_at
  FROM inspections i WHERE i.unit_id IS NOT NULL AND i.inspected_at >= :s AND i.inspected_at < :e
  UNION ALL
  SELECT i.unit_id, :unannounced_passed, 'unannounced_passed', 'inspection:' || i.id, i.id, NULL, i.inspected_at
  FROM inspections i WHERE i.unit_id IS NOT NULL AND i.passed AND i.unannounced
    AND i.inspected_at >= :s AND i.inspected_at < :e
  UNION ALL
  SELECT c.unit_id, :case_overdue, 'case_overdue', 'case:' || c.id, NULL, c.id, c.missed
  FROM c WHERE c.missed >= :s AND c.missed < :e
  UNION ALL
  SELECT c.unit_id, :case_rectified_on_time, 'case_rectified_on_time', 'case:' || c.id, NULL, c.id, c.closed_at
  FROM c WHERE c.state = 'closed' AND c.missed IS NULL AND c.closed_at >= :s AND c.closed_at < :e
  UNION ALL
  SELECT c.unit_id, :case_escalated, 'case_escalated', 'escalation:' || x.id, NULL, c.id, x.issued_at
  FROM escalations x JOIN c ON c.id = x.case_id WHERE x.issued_at >= :s AND x.issued_at < :e
  UNION ALL
  SELECT c.unit_id, :case_rework, 'case_rework', 'case_event:' || ev.id, NULL, c.id, ev.at
  FROM case_events ev JOIN c ON c.id = ev.case_id
  WHERE ev.action = 'verify_fail' AND ev.at >= :s AND ev.at < :e
  UNION ALL
  SELECT b.unit_id, :duty_board_missing, 'duty_board_missing', 'board:' || b.id, NULL, NULL, b.at
  FROM duty_boards b WHERE b.status IN ('missing', 'damaged') AND b.at >= :s AND b.at < :e
  UNION ALL
  SELECT p.unit_id, :pledge_signed, 'pledge_signed', 'pledge:' || p.id, NULL, NULL, p.created_at
  FROM pledges p WHERE p.created_at >= :s AND p.created_at < :e)
INSERT INTO credit_entries (unit_id, amount, reason, source_key, inspection_id, case_id, actor, at)
SELECT unit_id, amount, reason, source_key, inspection_id, case_id, :actor, at FROM e
ON CONFLICT ON CONSTRAINT credit_entry_once DO NOTHING
