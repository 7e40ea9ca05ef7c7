-- Names of the subdistricts and communities by code (rows of a bulletin keyed by code).
SELECT level, code, name FROM admin_units WHERE level IN ('subdistrict', 'community')
