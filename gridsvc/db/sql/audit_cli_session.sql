-- Session defaults for the audit triggers of a CLI process, run on the driver's cursor at checkout
-- (psycopg's named placeholder for the actor, not SQLAlchemy's colon form).
SELECT set_config('gridsvc.actor', %(actor)s, false), set_config('gridsvc.role', 'admin', false),
       set_config('gridsvc.source', 'cli', false)
