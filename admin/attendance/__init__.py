"""考勤 screens: the class-day grid and the class attendance report (admin/services/attendance.py)."""
