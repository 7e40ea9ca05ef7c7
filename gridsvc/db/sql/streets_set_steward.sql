UPDATE streets SET steward_party_id = :p WHERE id = ANY(:ids)
