"""The operations loop (issue G), one sub-package per domain:

- rules/        the rules as data (geodata/ops/*.toml), pure (no database, no HTTP): files.py (reading and validating,
                errors naming file and entry), calendar.py (the China working calendar), limits.py (time limits,
                the working day), categories.py (departments, 部件/事件), flow.py (the case flow), escalation.py
                (督办), checklists.py, ratings.py (红/黄/黑 boards, credit points, stars), notices.py (notice
                wording), bulletins.py (assessment and bulletin definitions), loader.py (load_rules: every file
                loaded and cross-checked at once)
- cases/        core.py (opening, acting, reading, the overdue tick), links.py (signed case links), party.py (the
                responsible party's view through a link)
- inspections/  core.py (recording inspections, inspector kinds), sheets.py (paper results sheets coming back)
- ratings/      records.py: ratings earned from records (boards, credit ledger, stars, duty boards, pledges)
- citizens/     reports.py (随手拍), open311.py (Open311 GeoReport v2)
- hotline/      orders.py (12345 work orders in as cases, replies out), rules.py (hotline.toml)
- bulletins/    figures.py (每周一测评、每月一通报), dashboard.py (the workspace dashboard: cases per H3 cell and week)
- addresses.py  placing a written address on the city's own names, without an external geocoder (addresses.toml)
"""
