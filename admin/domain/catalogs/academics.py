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
    "report_card": {"zh_CN": "成绩报告单", "en": "Report card"},
    "objection": {"zh_CN": "异议", "en": "Objection"},
    "hours": {"zh_CN": "时长（小时）", "en": "Hours"},
    # exams and scores (admin/services/exams.py)
    "exam": {"zh_CN": "考试", "en": "Exam"},
    "exam_name": {"zh_CN": "考试名称", "en": "Exam name"},
    "exam_kind": {"zh_CN": "考试类型", "en": "Exam type"},
    "exam_date": {"zh_CN": "考试日期", "en": "Exam date"},
    "exam_grade": {"zh_CN": "年级", "en": "Grade"},
    "exam_subjects": {"zh_CN": "考试科目", "en": "Papers"},
    "exam_full_mark": {"zh_CN": "满分", "en": "Full mark"},
    "exam_pass_line": {"zh_CN": "及格线", "en": "Pass line"},
    "exam_excellent_line": {"zh_CN": "优秀线", "en": "Excellent line"},
    "exam_classes": {"zh_CN": "参考班级", "en": "Classes"},
    "score_reason": {"zh_CN": "更正原因", "en": "Reason for the correction"},
    # 课程表 and 任课安排 (admin/services/timetable.py)
    "timetable": {"zh_CN": "课程表", "en": "Timetable"},
    "teaching_assignment": {"zh_CN": "任课安排", "en": "Teaching assignment"},
    "term": {"zh_CN": "学期", "en": "Term"},
    "combined": {"zh_CN": "合班标记", "en": "Combined lesson key"},
    # 综合素质评价 records, grading and publicity (admin/services/evaluations.py)
    "record_kind": {"zh_CN": "记录类别", "en": "Record type"},
    "record_title": {"zh_CN": "记录名称", "en": "Title"},
    "record_date": {"zh_CN": "发生日期", "en": "Date"},
    "record_role": {"zh_CN": "担任角色", "en": "Role"},
    "record_description": {"zh_CN": "写实描述", "en": "Description"},
    "award_level": {"zh_CN": "获奖级别", "en": "Award level"},
    "issuer": {"zh_CN": "颁奖单位", "en": "Awarded by"},
    "evaluation_comment": {"zh_CN": "班主任评语", "en": "Class teacher's comment"},
    "publicity_start": {"zh_CN": "公示开始日期", "en": "Publicity start"},
    "evaluation_term": {"zh_CN": "学期", "en": "Term"},
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
    # --- exams and score entry (admin/services/exams.py) ---
    "exam.not_allowed": {
        "zh_CN": "{field}：只有本校学籍管理员（或系统管理员）可以设置考试",
        "en": "{field}: only the school's registrar (or an administrator) may set up exams",
    },
    "exam.name_required": {
        "zh_CN": "{field}：请填写考试名称（不超过{max}个字）",
        "en": "{field}: enter a name of at most {max} characters",
    },
    "exam.grade_unknown": {
        "zh_CN": "{field}：本校没有年级代码 {value}",
        "en": "{field}: this school has no grade {value}",
    },
    "exam.date_outside_term": {
        "zh_CN": "{field}：{date} 不在本学期（{start}至{end}）内",
        "en": "{field}: {date} is outside the term ({start} to {end})",
    },
    "exam.no_subjects": {
        "zh_CN": "{field}：至少要有一门考试科目",
        "en": "{field}: an exam needs at least one paper",
    },
    "exam.subject_not_in_stage": {
        "zh_CN": "{field}：{stage_zh}不开设{subject_zh}",
        "en": "{field}: {subject_en} is not taught in {stage_en}",
    },
    "exam.subject_duplicate": {
        "zh_CN": "{field}：{subject_zh}重复出现",
        "en": "{field}: {subject_en} is listed twice",
    },
    "exam.full_mark": {
        "zh_CN": "{field}：{subject_zh}的满分“{value}”无效，应为大于0、不超过{max}的数",
        "en": "{field}: the full mark “{value}” of {subject_en} must be a number above 0 and at "
        "most {max}",
    },
    "exam.lines": {
        "zh_CN": "{field}：{subject_zh}应满足 0 ≤ 及格线（{pass_line}）≤ 优秀线（{excellent_line}）"
        "≤ 满分（{full_mark}）",
        "en": "{field}: {subject_en} needs 0 ≤ pass line ({pass_line}) ≤ excellent line "
        "({excellent_line}) ≤ full mark ({full_mark})",
    },
    "exam.line_format": {
        "zh_CN": "{field}：{subject_zh}的“{value}”不是数字",
        "en": "{field}: “{value}” for {subject_en} is not a number",
    },
    "exam.no_classes": {
        "zh_CN": "{field}：本校{grade_zh}在该学年没有班级",
        "en": "{field}: the school has no {grade_en} class in that school year",
    },
    "exam.class_not_in_grade": {
        "zh_CN": "{field}：编号为 {id} 的班级不是本校该学年的{grade_zh}班级",
        "en": "{field}: class {id} is not a {grade_en} class of this school in that school year",
    },
    "exam.already_published": {
        "zh_CN": "{field}：“{name}”已于{on}发布",
        "en": "{field}: “{name}” was already published on {on}",
    },
    "exam.not_publisher": {
        "zh_CN": "{field}：只有本校学籍管理员（或系统管理员）可以发布成绩",
        "en": "{field}: only the school's registrar (or an administrator) may publish results",
    },
    "score.not_your_paper": {
        "zh_CN": "{field}：您不是{class_name}{subject_zh}的任课教师或班主任，不能录入成绩",
        "en": "{field}: you do not teach {subject_en} in {class_name} (nor are its class "
        "teacher), so you may not enter these scores",
    },
    "score.published_locked": {
        "zh_CN": "{field}：成绩已发布，只有学籍管理员可以更正",
        "en": "{field}: the results are published; only the registrar may correct them",
    },
    "score.reason_required": {
        "zh_CN": "{field}：成绩已发布，更正须填写原因",
        "en": "{field}: the results are published; a correction needs a reason",
    },
    "score.not_in_exam": {
        "zh_CN": "{field}：{subject_zh}不是本次考试的科目，或{class_name}不参加本次考试",
        "en": "{field}: {subject_en} is not a paper of this exam, or {class_name} does not sit it",
    },
    "score.not_in_class": {
        "zh_CN": "{field}：编号为 {id} 的学生不在本班",
        "en": "{field}: student {id} is not in this class",
    },
    "score.cell": {
        "zh_CN": "{field}（{student}，{subject_zh}）：{detail_zh}",
        "en": "{field} ({student}, {subject_en}): {detail_en}",
    },
    "score.unknown_student": {
        "zh_CN": "{field}：学籍号 {value} 不是本次考试参考班级的学生",
        "en": "{field}: {value} is not a student of a class sitting this exam",
    },
    "score.name_mismatch": {
        "zh_CN": "{field}：学籍号 {number} 的学生姓名是“{expected}”，表中写的是“{value}”",
        "en": "{field}: student {number} is “{expected}”, the sheet says “{value}”",
    },
    "score.duplicate_row": {
        "zh_CN": "{field}：学籍号 {value} 在第{first}行已出现",
        "en": "{field}: student number {value} already appears in row {first}",
    },
    "score.unknown_subject": {
        "zh_CN": "{field}：第{column}列“{header}”不是本次考试的科目",
        "en": "{field}: column {column} “{header}” is not a paper of this exam",
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
    "attendance.student_conflict": {
        "zh_CN": "{field}：{student} 在 {day} 的全天缺勤与按节考勤不能同时记录，请先清除另一种记录",
        "en": "{field}: {student} cannot have both a whole-day absence and lesson marks on "
        "{day}; clear the other kind first",
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
    # --- timetables and teaching assignments on the database (admin/services/timetable.py) ---
    "timetable.not_registrar": {
        "zh_CN": "{field}：只有本校学籍管理员可以编排课程表",
        "en": "{field}: only the school's registrar may change the timetable",
    },
    "timetable.term_of_other_year": {
        "zh_CN": "{field}：该学期不属于本班所在学年",
        "en": "{field}: this term is not in the class's school year",
    },
    "timetable.no_such_slot": {
        "zh_CN": "{field}：课程表中没有星期{weekday}第{period}节（星期1–{days}，第1–{max}节）",
        "en": "{field}: the timetable has no day {weekday}, period {period} (days 1 to {days}, "
        "periods 1 to {max})",
    },
    "timetable.slot_twice": {
        "zh_CN": "{field}：{weekday_zh}第{period}节填了两次",
        "en": "{field}: {weekday_en}, period {period} is filled twice",
    },
    "timetable.subject_missing": {
        "zh_CN": "{field}：{weekday_zh}第{period}节填了教师或教室，但没有选择学科",
        "en": "{field}: {weekday_en}, period {period} has a teacher or room but no subject",
    },
    "timetable.subject_not_taught": {
        "zh_CN": "{field}：{weekday_zh}第{period}节：{stage_zh}不开设{subject_zh}",
        "en": "{field}: {weekday_en}, period {period}: {subject_en} is not taught in {stage_en}",
    },
    "timetable.teacher_unknown": {
        "zh_CN": "{field}：{weekday_zh}第{period}节：没有编号为 {value} 的教师账号",
        "en": "{field}: {weekday_en}, period {period}: there is no teacher account {value}",
    },
    "timetable.teacher_other_school": {
        "zh_CN": "{field}：{weekday_zh}第{period}节：{teacher}不是本校教师",
        "en": "{field}: {weekday_en}, period {period}: {teacher} is not a teacher of this school",
    },
    "timetable.teacher_booked": {
        "zh_CN": "{field}：{teacher}在{weekday_zh}第{period}节已在{class_a}上课，不能同时给{class_b}上课",
        "en": "{field}: {teacher} already teaches {class_a} on {weekday_en}, period {period}, "
        "and cannot teach {class_b} at the same time",
    },
    "timetable.room_booked": {
        "zh_CN": "{field}：{room}在{weekday_zh}第{period}节已安排给{class_a}，不能同时给{class_b}",
        "en": "{field}: {room} is already booked for {class_a} on {weekday_en}, period {period}, "
        "and cannot also host {class_b}",
    },
    "timetable.too_long": {
        "zh_CN": "{field}：{weekday_zh}第{period}节：最多{max}个字符",
        "en": "{field}: {weekday_en}, period {period}: at most {max} characters",
    },
    "teaching.not_registrar": {
        "zh_CN": "{field}：只有本校学籍管理员可以安排任课教师",
        "en": "{field}: only the school's registrar may assign teachers",
    },
    "teaching.teacher_unknown": {
        "zh_CN": "{field}：没有编号为 {value} 的教师账号",
        "en": "{field}: there is no teacher account {value}",
    },
    "teaching.teacher_other_school": {
        "zh_CN": "{field}：{teacher}不是本校教师",
        "en": "{field}: {teacher} is not a teacher of this school",
    },
    "teaching.subject_not_taught": {
        "zh_CN": "{field}：{class_name}属于{stage_zh}，不开设{subject_zh}",
        "en": "{field}: {class_name} is in {stage_en}, which does not teach {subject_en}",
    },
    "teaching.duplicate": {
        "zh_CN": "{field}：{teacher}本学期已是{class_name}的{subject_zh}",
        "en": "{field}: {teacher} is already assigned to {class_name} ({subject_en}) this term",
    },
    "teaching.taken": {
        "zh_CN": "{field}：{class_name}本学期的{subject_zh}已由{teacher}担任，请先撤销",
        "en": "{field}: {class_name} already has {teacher} for {subject_en} this term; remove "
        "that assignment first",
    },
    "teaching.not_found": {
        "zh_CN": "{field}：该任课安排不存在或不在您的管辖范围内",
        "en": "{field}: no such assignment in your scope",
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
    # --- 综合素质评价 on the database (admin/services/evaluations.py) ---
    "evaluation.not_allowed": {
        "zh_CN": "{field}：您不能{action_zh}（{who_zh}）",
        "en": "{field}: you may not {action_en} ({who_en})",
    },
    "evaluation.for_student": {
        "zh_CN": "{name}（{number}）的{field}有误——{detail_zh}",
        "en": "{field} of {name} ({number}) — {detail_en}",
    },
    "evaluation.not_in_class": {
        "zh_CN": "{field}：编号为 {id} 的学生不在本班",
        "en": "{field}: student {id} is not in this class",
    },
    "evaluation.term_of_other_year": {
        "zh_CN": "{field}：该学期不属于本班所在学年",
        "en": "{field}: this term is not in the class's school year",
    },
    "evaluation.ungraded_students": {
        "zh_CN": "{field}：以下学生尚未评定全部五个维度，不能公示：{names}",
        "en": "{field}: not every dimension is graded for these students, so the class cannot "
        "be publicized: {names}",
    },
    "evaluation.nothing_to_publicize": {
        "zh_CN": "{field}：本班没有待公示的评价（均已在公示中或已定稿）",
        "en": "{field}: nothing to publicize; every evaluation of the class is under publicity "
        "or final",
    },
    "evaluation.nothing_to_finalize": {
        "zh_CN": "{field}：本班没有公示期已满、可以定稿的评价",
        "en": "{field}: no evaluation of the class has a finished publicity period to finalize",
    },
    "evaluation.start_in_past": {
        "zh_CN": "{field}：公示不能从过去的日期（{day}）开始",
        "en": "{field}: publicity cannot start on a past day ({day})",
    },
    "evaluation.outside_term": {
        "zh_CN": "{field}：{day} 不在本学期（{start}至{end}）内",
        "en": "{field}: {day} is outside the term ({start} to {end})",
    },
    "evaluation.too_long": {
        "zh_CN": "{field}：最多{max}个字符",
        "en": "{field}: at most {max} characters",
    },
    "evaluation.records_locked": {
        "zh_CN": "{field}：该学期的评价当前为“{state_zh}”，写实记录不能再增删",
        "en": "{field}: the term's evaluation is {state_en}; records can no longer be added or "
        "removed",
    },
    "evaluation.no_evaluation": {
        "zh_CN": "{field}：该学生本学期还没有评价",
        "en": "{field}: the student has no evaluation for this term yet",
    },
    "report_card.not_found": {
        "zh_CN": "{field}：找不到该学生或该学期",
        "en": "{field}: no such student or term",
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
