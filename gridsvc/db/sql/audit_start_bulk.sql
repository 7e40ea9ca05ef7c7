SELECT set_config('gridsvc.audit', 'summary', true)
