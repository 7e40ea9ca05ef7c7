-- Current zones of a compound's interior that another party than :p holds.
SELECT zone_id FROM zones WHERE valid_to IS NULL AND kind = 'compound' AND compound_id = :c
  AND party_id IS DISTINCT FROM :p ORDER BY zone_id
