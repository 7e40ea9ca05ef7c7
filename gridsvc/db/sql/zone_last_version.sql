-- The last version of a deleted zone: its key, version number, props and unit.
SELECT zone_key, max(version) AS v, (array_agg(props ORDER BY version DESC))[1] AS p,
       (array_agg(unit_id ORDER BY version DESC))[1] AS unit_id
FROM zones WHERE zone_id = :z GROUP BY zone_key
