"""Ratings earned from records: boards, credit points, stars, duty boards (the rules are gridsvc/ops/rules/ratings.py)."""
