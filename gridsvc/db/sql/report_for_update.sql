SELECT r.id, r.code, r.version, r.reward_amount, r.reward_paid, r.public_screen, c.state AS case_state,
       c.id AS case_id
FROM reports r JOIN cases c ON c.id = r.case_id
WHERE r.code = :code
FOR UPDATE OF r
