"""每周一测评、每月一通报: the figures of the weekly assessment and the monthly bulletin (rules: gridsvc/ops/rules/bulletins.py)."""
