-- The facts of each case a bulletin of the period [:s, :e) counts (geodata/ops/bulletins.toml prints the meaning of
-- each count): the rows it belongs to (grid, community, subdistrict, department, street), its position, and per
-- named count a 0/1 flag or a number of events. Cases marked as a duplicate (duplicate_of set) and void cases are
-- left out, so that nothing counts twice. :now bounds the running deadline of a case open now.
-- A case's first missed deadline is the rating metrics' (rating_metrics.sql): the earliest its 督办单 name, else
-- the running stage's for a case open and past it now, else (marked overdue without a 督办单) when it was marked.
-- Its street is that of the zone it was routed to, else the nearest street within :street_m metres.
WITH c AS (
  SELECT c.id, c.grid_code, c.department, c.route_zone_id, c.geom, c.state, c.reported_at, c.closed_at,
         CAST(c.deadlines->>'handle' AS timestamptz) AS handle_due,
         coalesce(least((SELECT min(x.due_at) FROM escalations x WHERE x.case_id = c.id),
                        CASE WHEN c.closed_at IS NULL AND c.due_at < :now THEN c.due_at END,
                        c.overdue_marked_at),
                  CASE WHEN c.ever_overdue THEN coalesce(c.closed_at, c.updated_at) END) AS missed,
         coalesce((SELECT ev.to_state FROM case_events ev
                   WHERE ev.case_id = c.id AND ev.at < :e AND ev.to_state IS NOT NULL
                   ORDER BY ev.at DESC, ev.seq DESC LIMIT 1), c.state) AS state_at_end
  FROM cases c
  WHERE c.duplicate_of IS NULL AND c.state <> 'void' AND c.reported_at < :e
    AND (c.closed_at IS NULL OR c.closed_at >= :s)),
ev AS (
  SELECT ev.case_id, bool_or(ev.action = 'register') AS registered,
         count(*) FILTER (WHERE ev.action = 'verify_fail') AS rework,
         count(*) FILTER (WHERE ev.action IN ('verify_pass', 'verify_fail')) AS verified
  FROM case_events ev JOIN c ON c.id = ev.case_id
  WHERE ev.at >= :s AND ev.at < :e
  GROUP BY ev.case_id),
f AS (
  SELECT c.*, coalesce(ev.registered, false) AS registered, coalesce(ev.rework, 0) AS rework,
         coalesce(ev.verified, 0) AS verified,
         c.state = 'closed' AND c.closed_at >= :s AND c.closed_at < :e AS closed,
         c.state_at_end = 'deferred' AS deferred
  FROM c LEFT JOIN ev ON ev.case_id = c.id)
SELECT f.id, f.grid_code, com.code AS community_code, com.name AS community_name,
       sub.code AS subdistrict_code, sub.name AS subdistrict_name,
       f.department, coalesce(d.zh, f.department) AS department_name,
       st.id AS street_id, st.name AS street_name, ST_X(f.geom) AS lng, ST_Y(f.geom) AS lat,
       (f.reported_at >= :s)::int AS found,
       f.registered::int AS registered,
       f.closed::int AS closed,
       (f.closed AND f.missed IS NULL
        AND NOT EXISTS (SELECT 1 FROM case_events ev WHERE ev.case_id = f.id AND ev.data->>'on_time' = 'false')
       )::int AS closed_on_time,
       (f.missed IS NOT NULL AND f.missed < :e)::int AS overdue,
       f.rework, f.verified,
       EXISTS (SELECT 1 FROM escalations x WHERE x.case_id = f.id AND x.issued_at >= :s AND x.issued_at < :e
              )::int AS escalated,
       f.deferred::int AS deferred,
       (f.closed OR f.handle_due >= :s AND f.handle_due < :e AND NOT f.deferred)::int AS due,
       ((f.closed OR f.handle_due >= :s AND f.handle_due < :e AND NOT f.deferred)
        AND f.state_at_end IN ('rectified', 'verified', 'closed'))::int AS rectified
FROM f
LEFT JOIN grid_cells g ON g.code = f.grid_code
LEFT JOIN admin_units com ON com.id = g.community_id
LEFT JOIN admin_units sub ON sub.id = com.parent_id
LEFT JOIN departments d ON d.code = f.department
LEFT JOIN LATERAL (
  SELECT x.id, x.name FROM (
    SELECT 1 AS pref, s.id, coalesce(s.name_zh, s.name) AS name
    FROM zones z JOIN streets s ON s.id = z.street_id WHERE z.id = f.route_zone_id
    UNION ALL
    SELECT 2, n.id, n.name FROM (
      SELECT s.id, coalesce(s.name_zh, s.name) AS name, s.geom FROM streets s ORDER BY s.geom <-> f.geom LIMIT 1) n
    WHERE ST_DWithin(CAST(n.geom AS geography), CAST(f.geom AS geography), :street_m)) x
  ORDER BY x.pref LIMIT 1) st ON true
ORDER BY f.id
