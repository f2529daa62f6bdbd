"""信息变更 screens: key-field corrections (county approval), reviewed edits (school leader),
and the report of contact details not confirmed for a year (admin/services/corrections.py)."""
