-- The replies for the hotline: every work order (changed since :since, when given) with its case's state, closing
-- time, category, department and the latest note of a handling event (not the report or the hotline's own).
SELECT o.number, o.received_at, o.unplaced_reason, c.id AS case_id, c.code, c.state, c.category, c.department,
       c.closed_at,
       (SELECT e.note FROM case_events e
        WHERE e.case_id = c.id AND e.note IS NOT NULL AND e.action NOT IN ('report', 'hotline_update')
        ORDER BY e.seq DESC LIMIT 1) AS note
FROM hotline_orders o LEFT JOIN cases c ON c.id = o.case_id
WHERE CAST(:since AS timestamptz) IS NULL OR greatest(o.updated_at, c.updated_at) >= :since
ORDER BY o.received_at, o.number
