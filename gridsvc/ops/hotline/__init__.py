"""The 12345 hotline: work-order exports in as cases, replies out (the CLI is `gridsvc hotline`, gridsvc/cli.py)."""
