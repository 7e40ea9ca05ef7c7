ANALYZE zones, parties
