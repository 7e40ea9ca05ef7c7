-- The photos of a report: the clean copy's SHA-256 and the 64-bit perceptual hash (as a signed bigint).
INSERT INTO report_photos (report_id, seq, sha256, phash)
SELECT :r, s.seq, s.sha, s.ph
FROM unnest(CAST(:shas AS text[]), CAST(:phashes AS bigint[])) WITH ORDINALITY AS s(sha, ph, seq)
