-- Each unit's rows for a bulletin (its grid cell, community and subdistrict; the street of its frontage zone), its
-- board of the period :kind/:period (the hand override, else the computed board; none without a rating), its
-- credit balance at the period's end (the ledger's entries before :e; none without entries) and the number of
-- its inspections in [:s, :e).
SELECT u.id AS unit_id, u.name, g.code AS grid_code, com.code AS community_code, com.name AS community_name,
       sub.code AS subdistrict_code, sub.name AS subdistrict_name, st.id AS street_id,
       coalesce(st.name_zh, st.name) AS street_name,
       coalesce(r.override_board, r.board) AS board,
       (SELECT sum(ce.amount) FROM credit_entries ce WHERE ce.unit_id = u.id AND ce.at < :e) AS balance,
       (SELECT count(*) FROM inspections i
        WHERE i.unit_id = u.id AND i.inspected_at >= :s AND i.inspected_at < :e) AS inspections
FROM units u
LEFT JOIN LATERAL (SELECT min(fc.h3) AS h3 FROM feature_cells fc
                   WHERE fc.layer = 'units' AND fc.feature_id = u.id) f ON true
LEFT JOIN grid_cells g ON g.h3 = f.h3
LEFT JOIN admin_units com ON com.id = g.community_id
LEFT JOIN admin_units sub ON sub.id = com.parent_id
LEFT JOIN LATERAL (SELECT min(z.street_id) AS street_id FROM zones_current z
                   WHERE z.unit_id = u.id AND z.kind = 'frontage') zs ON true
LEFT JOIN streets st ON st.id = zs.street_id
LEFT JOIN unit_ratings r ON r.unit_id = u.id AND r.period_kind = :kind AND r.period = :period
ORDER BY u.id
