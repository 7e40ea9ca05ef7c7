-- The work orders already imported among :numbers, with their case's state and point (WGS84).
SELECT o.number, o.row_sha, o.case_id, o.received_at, o.content, o.type_text, o.category, o.address, o.area,
       o.reporter_name, o.reporter_phone, o.given_point, o.placement, o.unplaced_reason,
       c.state, ST_X(c.geom) AS case_lng, ST_Y(c.geom) AS case_lat
FROM hotline_orders o LEFT JOIN cases c ON c.id = o.case_id
WHERE o.number = ANY(:numbers)
FOR UPDATE OF o
