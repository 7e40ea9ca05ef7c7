"""The 12345 hotline: work-order exports in as cases, replies out (its CLI: gridsvc/cli/hotline.py)."""
