-- A 随手拍 report: the case it opened (filed_case_id = case_id) or follows (filed_case_id NULL).
INSERT INTO reports (code, case_id, filed_case_id, note, phone, nickname, ip_hash)
VALUES (:code, :case, :filed, :note, :phone, :nick, :ip)
RETURNING id
