-- Every street as lookup.sql names a zone's street, for the lookup index.
SELECT id, name, steward_party_id FROM streets
