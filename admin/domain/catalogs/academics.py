"""Messages of the teaching-records rules: scores and exams (admin/domain/ranking.py),
attendance (attendance.py), timetables (timetable.py) and 综合素质评价 (evaluation.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "score": {"zh_CN": "成绩", "en": "Score"},
    "exam_type": {"zh_CN": "考试类型", "en": "Exam type"},
    "attendance": {"zh_CN": "考勤", "en": "Attendance"},
    "attendance_reason": {"zh_CN": "更正原因", "en": "Reason for the correction"},
    "date": {"zh_CN": "日期", "en": "Date"},
    "weekday": {"zh_CN": "星期", "en": "Weekday"},
    "period": {"zh_CN": "节次", "en": "Period"},
    "subject": {"zh_CN": "学科", "en": "Subject"},
    "teacher": {"zh_CN": "任课教师", "en": "Teacher"},
    "room": {"zh_CN": "教室", "en": "Room"},
    "evaluation": {"zh_CN": "综合素质评价", "en": "Comprehensive quality evaluation"},
    "objection": {"zh_CN": "异议", "en": "Objection"},
    "hours": {"zh_CN": "时长（小时）", "en": "Hours"},
}

MESSAGES: dict[str, dict[str, str]] = {
    # --- scores and exams (ranking.py) ---
    "score.format": {
        "zh_CN": "{field}：“{value}”不是有效成绩；应填写0–{full_mark}之间、最多{decimals}位小数的分数，"
        "或填写缺考、免考、作弊",
        "en": "{field}: “{value}” is not a valid score; enter a number from 0 to {full_mark} "
        "with at most {decimals} decimal places, or absent, exempt or cheating",
    },
    "score.range": {
        "zh_CN": "{field}：{value} 超出范围，应在0到{full_mark}之间",
        "en": "{field}: {value} is out of range; it must be between 0 and {full_mark}",
    },
    "exam.no_paper_exams": {
        "zh_CN": "{field}：{grade_zh}不得组织纸笔考试（{exam_type}）",
        "en": "{field}: no paper exams ({exam_type}) may be held in {grade_en}",
    },
    "exam.type_not_allowed": {
        "zh_CN": "{field}：{grade_zh}不得组织{exam_type}（义务教育学校考试管理规定）",
        "en": "{field}: {grade_en} may not hold this exam ({exam_type}) under the rules for "
        "exams in compulsory education",
    },
    # --- attendance (attendance.py, admin/services/attendance.py) ---
    "attendance.not_your_class": {
        "zh_CN": "{field}：只能记录自己任教班级的考勤（学籍管理员可记录本校各班）",
        "en": "{field}: you may record attendance only for your own classes (the registrar: "
        "any class of the school)",
    },
    "attendance.future_day": {
        "zh_CN": "{field}：{day} 还没有到，不能提前记录考勤",
        "en": "{field}: {day} is in the future; attendance cannot be recorded ahead",
    },
    "attendance.not_in_class": {
        "zh_CN": "{field}：编号为 {id} 的学生不在本班",
        "en": "{field}: student {id} is not in this class",
    },
    "attendance.reason_required": {
        "zh_CN": "{field}：更改以前日期的考勤记录须填写原因",
        "en": "{field}: changing an earlier day's marks needs a reason",
    },
    "attendance.not_school_day": {
        "zh_CN": "{field}：{day} 不是在校日",
        "en": "{field}: {day} is not a school day",
    },
    "attendance.period_range": {
        "zh_CN": "{field}：{day} 没有第{period}节（当天共{periods}节）",
        "en": "{field}: {day} has no period {period} (that day has {periods})",
    },
    "attendance.duplicate": {
        "zh_CN": "{field}：{day} {slot_zh}有多个考勤记录（{other}、{mark}）",
        "en": "{field}: more than one mark for {day}, {slot_en} ({other_en}, {mark_en})",
    },
    "attendance.conflict": {
        "zh_CN": "{field}：{day} 已记全天缺勤，不能再按节记录",
        "en": "{field}: {day} is marked absent for the whole day and cannot also have period marks",
    },
    "attendance.chronic_absence": {
        "zh_CN": "{field}：{first_day}至{last_day}的{school_days}个在校日中缺勤{absent_days}天"
        "（{rate}），达到长期缺勤预警线{threshold}",
        "en": "{field}: absent {absent_days} of {school_days} school days from {first_day} to "
        "{last_day} ({rate}), at or above the chronic-absence line of {threshold}",
    },
    "attendance.consecutive_unexcused": {
        "zh_CN": "{field}：{first_day}至{last_day}连续{days}个在校日旷课（预警线{threshold}天）",
        "en": "{field}: unexcused absence on {days} consecutive school days, {first_day} to "
        "{last_day} (alert at {threshold})",
    },
    "attendance.cumulative_unexcused": {
        "zh_CN": "{field}：{first_day}至{last_day}累计旷课{days}天（预警线{threshold}天）",
        "en": "{field}: {days} days of unexcused absence in total from {first_day} to "
        "{last_day} (alert at {threshold})",
    },
    "attendance.dropout_warning": {
        "zh_CN": "{field}：{first_day}至{last_day}连续{weeks}个教学周（{days}个在校日）旷课，"
        "达到辍学预警线（{threshold}周），请按规定报告",
        "en": "{field}: unexcused absence for {weeks} consecutive school weeks ({days} school "
        "days, {first_day} to {last_day}); dropout warning at {threshold} weeks, report it "
        "as required",
    },
    # --- timetables (timetable.py) ---
    "timetable.weekday_range": {
        "zh_CN": "{field}：第{row}行的星期应为1–7，实际为 {value}",
        "en": "{field}: row {row} must have a weekday from 1 to 7, got {value}",
    },
    "timetable.period_range": {
        "zh_CN": "{field}：第{row}行的节次应为1–{max}，实际为 {value}",
        "en": "{field}: row {row} must have a period from 1 to {max}, got {value}",
    },
    "timetable.class_clash": {
        "zh_CN": "{field}：{class_name}在{weekday_zh}第{period}节排了两节课"
        "（第{row_a}行{subject_a}、第{row}行{subject_b}）",
        "en": "{field}: {class_name} has two lessons on {weekday_en}, period {period} "
        "(row {row_a} {subject_a}, row {row} {subject_b})",
    },
    "timetable.teacher_clash": {
        "zh_CN": "{field}：{teacher}在{weekday_zh}第{period}节同时在{class_a}和{class_b}上课"
        "（第{row_a}行、第{row}行）",
        "en": "{field}: {teacher} is teaching both {class_a} and {class_b} on {weekday_en}, "
        "period {period} (rows {row_a} and {row})",
    },
    "timetable.room_clash": {
        "zh_CN": "{field}：{room}在{weekday_zh}第{period}节同时安排给{class_a}和{class_b}"
        "（第{row_a}行、第{row}行）",
        "en": "{field}: {room} is booked for both {class_a} and {class_b} on {weekday_en}, "
        "period {period} (rows {row_a} and {row})",
    },
    # --- 综合素质评价 (evaluation.py) ---
    "evaluation.dimension_unknown": {
        "zh_CN": "{field}：没有“{dimension}”这一评价维度",
        "en": "{field}: “{dimension_en}” is not an evaluation dimension",
    },
    "evaluation.dimension_missing": {
        "zh_CN": "{field}：“{dimension}”尚未评定等级",
        "en": "{field}: “{dimension_en}” has no grade yet",
    },
    "evaluation.grade": {
        "zh_CN": "{field}：“{dimension}”的等级“{value}”无效，应为A（优秀）、B（良好）、C（合格）"
        "或D（待合格）",
        "en": "{field}: “{value}” is not a valid grade for “{dimension_en}”; use A (excellent), "
        "B (good), C (pass) or D (not yet passing)",
    },
    "evaluation.transition": {
        "zh_CN": "{field}：当前状态为“{state_zh}”，不能{action_zh}",
        "en": "{field}: cannot {action_en} while the evaluation is {state_en}",
    },
    "evaluation.objection_closed": {
        "zh_CN": "{field}：公示期为{start}至{end}，{on} 不在公示期内，不能提出异议",
        "en": "{field}: the publicity period runs from {start} to {end}; objections cannot be "
        "raised on {on}",
    },
    "evaluation.publicity_running": {
        "zh_CN": "{field}：公示期至{end}结束，公示期满后才能定稿",
        "en": "{field}: the publicity period ends on {end}; the grades can be finalized only "
        "after it",
    },
    "evaluation.hours_format": {
        "zh_CN": "{field}：“{value}”不是有效时长，应为最多{decimals}位小数的数字",
        "en": "{field}: “{value}” is not a valid number of hours (at most {decimals} "
        "decimal places)",
    },
    "evaluation.hours_range": {
        "zh_CN": "{field}：{value} 超出范围，应大于0且不超过{max}小时",
        "en": "{field}: {value} is out of range; it must be more than 0 and at most {max} hours",
    },
}

# Subjects (code set ``subject``) each stage teaches: 义务教育课程方案（2022年版） for 小学 and 初中
# (科学 in primary, 物理/化学/生物学 in junior; 历史/地理 from 初中), 普通高中课程方案（2017年版
# 2020年修订） for 高中 (思想政治 instead of 道德与法治; 信息技术 and 通用技术).
SUBJECTS_BY_STAGE: dict[str, tuple[str, ...]] = {
    "primary": (
        "moral", "chinese", "math", "foreign", "science", "it", "pe", "music", "art",
        "labor", "practice",
    ),
    "junior": (
        "moral", "chinese", "math", "foreign", "history", "geograph", "physics", "chem",
        "biology", "it", "pe", "music", "art", "labor", "practice",
    ),
    "senior": (
        "politics", "chinese", "math", "foreign", "history", "geograph", "physics", "chem",
        "biology", "it", "tech", "pe", "music", "art", "labor",
    ),
}  # fmt: skip
