"""Responsibility zones: the duty policies, the zone build, planners' edits, lookup, validation and zone history.

`kinds` is the one home of zone kinds; `policies` reads the 门前三包/五包 duty policies (geodata/policies).
"""
