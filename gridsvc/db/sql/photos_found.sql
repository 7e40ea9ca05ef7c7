SELECT sha256
FROM uploads
WHERE sha256 = ANY(:s) AND kind = 'photo'
