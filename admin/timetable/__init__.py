"""课程表 and 任课安排 screens (admin/services/timetable.py)."""
