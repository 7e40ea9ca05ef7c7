-- The rating metrics of every unit for one period [:s, :e) and the previous one [:ps, :s), in one pass
-- (ratings.toml documents each metric). :now bounds "open and overdue" for the period that has not ended yet.
-- A case's first missed deadline: the earliest its 督办单 name, else the running stage's for a case open and
-- past it now, else (marked overdue without a 督办单) when it was marked or closed.
WITH per(cur, s, e) AS (VALUES (false, CAST(:ps AS timestamptz), CAST(:s AS timestamptz)),
                               (true, CAST(:s AS timestamptz), CAST(:e AS timestamptz))),
ins AS (
  SELECT i.unit_id, i.inspected_at >= :s AS cur, count(*) AS n, count(*) FILTER (WHERE i.passed) AS passed,
         count(*) FILTER (WHERE NOT i.passed) AS failed, sum(i.items_failed) AS items_failed,
         avg(100 * i.score / nullif(i.max_score, 0)) AS score_avg
  FROM inspections i
  WHERE i.unit_id IS NOT NULL AND i.inspected_at >= :ps AND i.inspected_at < :e
  GROUP BY 1, 2),
c AS (
  SELECT c.id, c.unit_id, c.state, c.reported_at, c.closed_at,
         case_missed_at(c, CAST(:now AS timestamptz)) AS missed
  FROM cases c
  WHERE c.unit_id IS NOT NULL AND c.state <> 'void' AND c.reported_at < :e
    AND (c.closed_at IS NULL OR c.closed_at >= :ps)),
cs AS (
  SELECT c.unit_id, p.cur,
         count(*) FILTER (WHERE c.reported_at >= p.s AND c.reported_at < p.e) AS opened,
         count(*) FILTER (WHERE c.reported_at < p.e AND c.missed < p.e
                          AND (c.closed_at IS NULL OR c.closed_at >= p.s)) AS overdue,
         count(*) FILTER (WHERE c.reported_at < p.e AND c.missed < p.e
                          AND (c.closed_at IS NULL OR c.closed_at >= p.e)) AS open_overdue,
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM escalations x WHERE x.case_id = c.id
                                        AND x.issued_at >= p.s AND x.issued_at < p.e)) AS escalated,
         count(*) FILTER (WHERE c.state = 'closed' AND c.closed_at >= p.s AND c.closed_at < p.e
                          AND c.missed IS NULL) AS on_time,
         coalesce(sum((SELECT count(*) FROM case_events ev WHERE ev.case_id = c.id AND ev.action = 'verify_fail'
                       AND ev.at >= p.s AND ev.at < p.e)), 0) AS rework
  FROM c CROSS JOIN per p
  GROUP BY 1, 2)
SELECT u.id AS unit_id,
       coalesce(i.n, 0) AS inspections, coalesce(i.passed, 0) AS inspections_passed,
       coalesce(i.failed, 0) AS inspections_failed, coalesce(i.items_failed, 0) AS items_failed,
       round(i.score_avg, 2) AS score_avg,
       coalesce(k.opened, 0) AS cases, coalesce(k.overdue, 0) AS cases_overdue,
       coalesce(k.open_overdue, 0) AS cases_open_overdue, coalesce(k.escalated, 0) AS cases_escalated,
       coalesce(k.on_time, 0) AS cases_on_time, coalesce(k.rework, 0) AS cases_rework,
       round(i.score_avg - pi.score_avg, 2) AS score_change,
       CASE WHEN pi.n > 0 THEN coalesce(i.failed, 0) - pi.failed END AS failed_change,
       coalesce(pi.n, 0) AS prev_inspections, coalesce(pi.failed, 0) AS prev_inspections_failed,
       round(pi.score_avg, 2) AS prev_score_avg, coalesce(pk.overdue, 0) AS prev_cases_overdue
FROM units u
LEFT JOIN ins i ON i.unit_id = u.id AND i.cur
LEFT JOIN ins pi ON pi.unit_id = u.id AND NOT pi.cur
LEFT JOIN cs k ON k.unit_id = u.id AND k.cur
LEFT JOIN cs pk ON pk.unit_id = u.id AND NOT pk.cur
ORDER BY u.id
