-- Sent by the lookup index's listener connection: the NOTIFY of every lookup generation (migration 0017).
LISTEN gridsvc_lookup
