-- Current street-space zones of these streets that another party than :p holds.
SELECT zone_id FROM zones WHERE valid_to IS NULL AND kind = 'street_space'
  AND street_id = ANY(:ids) AND party_id IS DISTINCT FROM :p ORDER BY zone_id
