-- A photo sent again: the newest report since :since with a photo whose pHash differs from one of :phashes in at
-- most :d bits (Hamming distance of the 64-bit hashes), with the code of the case it follows now.
SELECT r.code AS report_code, c.code AS case_code, c.id AS case_id,
       min(bit_count(CAST(p.phash # h.ph AS bit(64)))) AS distance
FROM report_photos p
JOIN unnest(CAST(:phashes AS bigint[])) AS h(ph) ON bit_count(CAST(p.phash # h.ph AS bit(64))) <= :d
JOIN reports r ON r.id = p.report_id
JOIN cases c ON c.id = r.case_id
WHERE p.created_at >= :since
GROUP BY r.id, r.code, c.code, c.id
ORDER BY max(r.created_at) DESC
LIMIT 1
