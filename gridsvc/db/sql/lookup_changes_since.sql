-- The tables changed after generation :since (lookup_changes keeps the last 10,000 generations), and the oldest
-- generation still logged: when it is above :since + 1 some changes are forgotten and everything is reloaded.
SELECT (SELECT min(gen) FROM lookup_changes) AS first_kept,
       ARRAY(SELECT DISTINCT t FROM lookup_changes, unnest(tables) t WHERE gen > :since) AS tables
