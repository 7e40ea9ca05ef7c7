-- Work orders, newest call first: all, or only those waiting to be placed by staff (no case); with their case.
SELECT o.number, o.received_at, o.content, o.type_text, o.category, o.address, o.area, o.reporter_name,
       o.reporter_phone, o.given_point, o.placement, o.unplaced_reason, o.row_number, o.import_id, o.updated_at,
       c.id AS case_id, c.code AS case_code, c.state, count(*) OVER () AS total
FROM hotline_orders o LEFT JOIN cases c ON c.id = o.case_id
WHERE (NOT :unplaced OR o.case_id IS NULL) AND (CAST(:number AS text) IS NULL OR o.number = :number)
ORDER BY o.received_at DESC, o.number
LIMIT :limit OFFSET :offset
