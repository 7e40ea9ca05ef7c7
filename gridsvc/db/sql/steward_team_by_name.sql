SELECT id FROM steward_teams WHERE name = :n
