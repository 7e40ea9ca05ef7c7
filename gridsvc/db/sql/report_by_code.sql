-- One report by its tracking code, with the case it follows now and the case it opened (if any).
SELECT r.*, c.code AS case_code, f.code AS filed_case_code, f.state AS filed_state, f.duplicate_of AS filed_duplicate_of,
       (SELECT count(*) FROM reports o WHERE o.case_id = r.case_id) AS reporters,
       (SELECT array_agg(p.sha256 ORDER BY p.seq) FROM report_photos p WHERE p.report_id = r.id) AS photos
FROM reports r
JOIN cases c ON c.id = r.case_id
LEFT JOIN cases f ON f.id = r.filed_case_id
WHERE r.code = :code
