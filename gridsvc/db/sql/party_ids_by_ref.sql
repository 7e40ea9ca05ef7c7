-- ref -> id of every party a zone build hands zones to (stewards come with their streets).
SELECT ref, id FROM parties WHERE kind <> 'street_steward' ORDER BY id
