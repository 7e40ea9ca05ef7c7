-- Row id and row version (xmin) of every zone current now or later: what the lookup index compares to reload
-- only the zones that changed.
SELECT id, xmin::text::bigint AS xmin FROM zones WHERE valid_to IS NULL OR valid_to > now()
