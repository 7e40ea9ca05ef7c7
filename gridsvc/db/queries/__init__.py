"""Named queries built from parts (identifiers, optional filters); fixed statements are files in db/sql."""
