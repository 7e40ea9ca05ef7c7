-- Steward teams (街长/路长 teams) with their members (leader first), optionally those of one street (id or
-- name) or of streets in one set of ids.
SELECT t.id, t.name, t.street, t.street_ids, t.segment, t.note, t.created_by, t.created_at, t.version,
       coalesce((SELECT jsonb_agg(jsonb_build_object('role', m.role, 'name', m.name, 'phone', m.phone,
                                                     'department', m.department)
                                  ORDER BY m.role <> 'leader', m.seq)
                 FROM steward_team_members m WHERE m.team_id = t.id), '[]'::jsonb) AS members
FROM steward_teams t
WHERE (CAST(:team AS integer) IS NULL OR t.id = :team)
  AND (CAST(:street AS text) IS NULL OR t.street = :street OR t.street_ids && CAST(:ids AS integer[]))
ORDER BY t.name
LIMIT :limit OFFSET :offset
