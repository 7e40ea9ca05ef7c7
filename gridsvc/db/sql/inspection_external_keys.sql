SELECT external_key FROM inspections WHERE external_key = ANY(:k)
