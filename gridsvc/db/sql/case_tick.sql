-- `gridsvc cases tick`: mark the cases whose running stage is past its deadline at :now overdue, and issue a
-- 督办单 for each escalation level reached (cases.escalate_at, computed when the stage's clock started) above the
-- case's current level. Set-based and idempotent: a second run at the same :now finds nothing new.
-- :codes, :notify = the chain's level codes and recipients (escalation.toml), in order (level 1 = the first);
-- :dept_codes, :dept_leaders = each department's leader (departments.toml).
WITH lv AS (
  SELECT l.code, l.notify, l.level::smallint AS level
  FROM unnest(CAST(:codes AS text[]), CAST(:notify AS text[])) WITH ORDINALITY AS l(code, notify, level)),
dept AS (
  SELECT d.code, d.leader FROM unnest(CAST(:dept_codes AS text[]), CAST(:dept_leaders AS text[])) AS d(code, leader)),
due AS (
  SELECT c.id, c.code, c.stage, c.stage_started_at, c.due_at, c.escalation_level, c.overdue_marked_at,
         c.grid_code, c.officer_name, c.department,
         (SELECT count(*) FROM unnest(c.escalate_at) e WHERE e <= :now)::smallint AS reached
  FROM cases c
  WHERE c.due_at < :now),
ins AS (
  INSERT INTO escalations (case_id, stage, stage_started_at, level, level_code, issued_at, due_at, notify, to_whom,
                           reason)
  SELECT d.id, d.stage, d.stage_started_at, l.level, l.code, :now, d.due_at, l.notify,
         CASE l.notify
           WHEN 'grid_officer' THEN coalesce(d.officer_name, '网格 ' || coalesce(d.grid_code, '?') || ' 网格员')
           WHEN 'community' THEN coalesce(com.name, '社区 ' || coalesce(substr(d.grid_code, 1, 12), '?'))
           WHEN 'subdistrict' THEN coalesce(sub.name, '街道 ' || coalesce(substr(d.grid_code, 1, 9), '?'))
           ELSE coalesce(dept.leader, d.department) END,
         '案件 ' || d.code || ' ' || d.stage || ' 超期 (deadline ' || to_char(d.due_at, 'YYYY-MM-DD HH24:MI') || ')'
  FROM due d
  JOIN lv l ON l.level > d.escalation_level AND l.level <= d.reached
  LEFT JOIN grid_cells g ON g.code = d.grid_code
  LEFT JOIN admin_units com ON com.id = g.community_id
  LEFT JOIN admin_units sub ON sub.id = com.parent_id
  LEFT JOIN dept ON dept.code = d.department
  ON CONFLICT ON CONSTRAINT escalation_once DO NOTHING
  RETURNING case_id, level),
upd AS (
  UPDATE cases c
  SET overdue_marked_at = coalesce(c.overdue_marked_at, :now), ever_overdue = true,
      escalation_level = greatest(c.escalation_level, d.reached),
      escalations = c.escalations + (SELECT count(*) FROM ins WHERE ins.case_id = c.id)
  FROM due d
  WHERE d.id = c.id AND (c.overdue_marked_at IS NULL OR c.escalation_level < d.reached)
  RETURNING c.id)
SELECT (SELECT count(*) FROM upd) AS cases_marked, (SELECT count(*) FROM ins) AS escalations_issued,
       (SELECT count(*) FROM due) AS overdue
