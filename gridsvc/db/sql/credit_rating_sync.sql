-- The rating_* credit entry of each unit's rating of period :kind/:period (source rating:<kind>:<period>) follows
-- its board (the override if any): an entry for an old board goes, the entry for the board goes in (once).
-- :unit limits it to one unit; :points = the points of red, yellow, black (in :codes order).
WITH r AS (
  SELECT ur.unit_id, 'rating_' || coalesce(ur.override_board, ur.board) AS reason, ur.period_end
  FROM unit_ratings ur
  WHERE ur.period_kind = :kind AND ur.period = :period AND (CAST(:unit AS integer) IS NULL OR ur.unit_id = :unit)),
pts AS (SELECT 'rating_' || p.code AS reason, p.points
        FROM unnest(CAST(:codes AS text[]), CAST(:points AS integer[])) AS p(code, points)),
gone AS (
  DELETE FROM credit_entries ce
  USING r
  WHERE ce.unit_id = r.unit_id AND ce.source_key = 'rating:' || :kind || ':' || :period AND ce.reason <> r.reason
  RETURNING ce.id),
ins AS (
  INSERT INTO credit_entries (unit_id, amount, reason, source_key, actor, at)
  SELECT r.unit_id, pts.points, r.reason, 'rating:' || :kind || ':' || :period, :actor, r.period_end
  FROM r JOIN pts ON pts.reason = r.reason
  ON CONFLICT ON CONSTRAINT credit_entry_once DO NOTHING
  RETURNING id)
SELECT (SELECT count(*) FROM gone) AS removed, (SELECT count(*) FROM ins) AS added
