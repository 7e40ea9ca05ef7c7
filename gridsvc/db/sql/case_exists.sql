SELECT 1
FROM cases
WHERE id = :i
