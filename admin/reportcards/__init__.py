"""学生成绩报告单 for school staff (the parent portal has its own route)."""
