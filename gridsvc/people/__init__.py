"""People and accounts: users and roles, parties and grid officers, versioned party/unit records, the audit log."""
