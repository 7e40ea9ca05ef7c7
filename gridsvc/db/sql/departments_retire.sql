UPDATE departments
SET active = false
WHERE active AND NOT code = ANY(:c)
