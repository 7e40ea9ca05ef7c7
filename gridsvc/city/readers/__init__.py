"""Readers for user-supplied input files (ledgers, boundaries)."""
