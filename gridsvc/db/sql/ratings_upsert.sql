-- A period's computed ratings for many units (arrays in unit order). A recompute replaces the computed board,
-- conditions and metrics and keeps any hand override; a row whose computed values did not change is left alone
-- (its version and computed_at stay). Returns the rows written.
INSERT INTO unit_ratings (unit_id, period_kind, period, period_start, period_end, board, because, metrics,
                          computed_at)
SELECT r.unit_id, :kind, :period, :s, :e, r.board, coalesce(string_to_array(nullif(r.because, ''), ','), '{}'),
       CAST(r.metrics AS jsonb), :now
FROM unnest(CAST(:units AS integer[]), CAST(:boards AS text[]), CAST(:because AS text[]),
            CAST(:metrics AS text[])) AS r(unit_id, board, because, metrics)
ON CONFLICT ON CONSTRAINT unit_rating_once DO UPDATE
SET board = EXCLUDED.board, because = EXCLUDED.because, metrics = EXCLUDED.metrics,
    period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, computed_at = EXCLUDED.computed_at
WHERE (unit_ratings.board, unit_ratings.because, unit_ratings.metrics)
      IS DISTINCT FROM (EXCLUDED.board, EXCLUDED.because, EXCLUDED.metrics)
