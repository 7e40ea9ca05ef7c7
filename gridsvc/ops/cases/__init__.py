"""Cases (问题/案卷) on the database: opening and acting on them, signed case links, the responsible party's view."""
