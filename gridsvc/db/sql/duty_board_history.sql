-- A unit's 责任牌 history, newest first.
SELECT id, status, at, note, photo, actor, created_at FROM duty_boards WHERE unit_id = :unit ORDER BY at DESC, id DESC
