INSERT INTO departments (code, zh, en, leader_zh, note, active)
SELECT * , true
FROM unnest(CAST(:c AS text[]), CAST(:zh AS text[]), CAST(:en AS text[]), CAST(:l AS text[]), CAST(:n AS text[]))
ON CONFLICT (code) DO UPDATE
SET zh = EXCLUDED.zh, en = EXCLUDED.en, leader_zh = EXCLUDED.leader_zh, note = EXCLUDED.note, active = true
WHERE (departments.zh, departments.en, departments.leader_zh, departments.note, departments.active) IS DISTINCT
FROM (EXCLUDED.zh, EXCLUDED.en, EXCLUDED.leader_zh, EXCLUDED.note, true)
