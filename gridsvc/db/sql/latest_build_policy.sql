SELECT policy FROM zone_builds ORDER BY id DESC LIMIT 1
