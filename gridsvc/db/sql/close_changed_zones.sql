-- Close current auto zones that the new build drops or changes (geometry, party or policy).
UPDATE zones z SET valid_to = now()
WHERE z.valid_to IS NULL AND z.origin = 'auto'
  AND NOT EXISTS (
    SELECT 1 FROM _new_zones n
    WHERE n.zone_key = z.zone_key AND n.geom = z.geom AND n.party_id IS NOT DISTINCT FROM z.party_id
      AND n.policy = z.policy AND n.props = z.props)
