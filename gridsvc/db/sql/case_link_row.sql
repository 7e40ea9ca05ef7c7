-- What a party's case link (gridsvc/ops/cases/links.py) is checked against: the case, its party and its clock.
SELECT id, code, party_id, party_name, state, due_at
FROM cases
WHERE id = :i
