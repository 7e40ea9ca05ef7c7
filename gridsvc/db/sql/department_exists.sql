SELECT 1
FROM departments
WHERE code = :c
