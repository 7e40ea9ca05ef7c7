SELECT set_config('gridsvc.actor', :a, true), set_config('gridsvc.role', :r, true),
       set_config('gridsvc.source', :s, true)
