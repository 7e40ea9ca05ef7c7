INSERT INTO steward_team_members (team_id, seq, role, name, phone, department)
VALUES (:team, :seq, :role, :name, :phone, :dept)
