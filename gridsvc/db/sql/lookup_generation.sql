-- The lookup generation: bumped at the commit of every transaction that changes what a lookup answers (0017).
SELECT gen FROM lookup_generation WHERE id = 1
