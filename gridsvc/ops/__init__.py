"""Operations rules (issue G): the data and pure rules behind inspections, cases, deadlines, escalation and ratings.

Everything here reads geodata/ops/*.toml and computes; nothing touches the database or HTTP:

- files.py       reading and validating the TOML files, errors that name file and entry
- limits.py      time limits ("2 hours", "1 working_day"), the working day, time_limits.toml
- calendar.py    the China working calendar (holidays.China) in GRIDSVC_TZ: is_workday, add_limit,
                 working_time_between
- categories.py  departments.toml and categories.toml (部件/事件, major and minor classes)
- escalation.py  escalation.toml: the 督办 chain and when each level is reached
- checklists.py  checklists/*.toml and the checklists generated from each duty policy; checklists_for
- ratings.py     ratings.toml: 红/黄/黑 boards from named conditions, credit points, stars
- rules.py       load_rules(): every file loaded and cross-checked at once
"""
