-- Every party with the fields a lookup answers with, for the lookup index.
SELECT id, kind, name, contact, phone FROM parties
