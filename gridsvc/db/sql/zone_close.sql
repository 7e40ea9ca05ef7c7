-- Close the current version of a zone at :ts.
UPDATE zones SET valid_to = :ts WHERE zone_id = :zone_id AND valid_to IS NULL
