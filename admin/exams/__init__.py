"""考试与成绩 screens: exams, the score grid, the score import, results and the class analysis
PDF (admin/services/exams.py)."""
