"""Messages of the status-change rules: admin.domain.workflow and admin.domain.calendar."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "holiday_config": {"zh_CN": "节假日配置", "en": "Holiday configuration"},
    "status_change_type": {"zh_CN": "学籍异动类别", "en": "Status change type"},
    "status_change_request": {"zh_CN": "学籍异动申请", "en": "Status change request"},
    "approval_comment": {"zh_CN": "审核意见", "en": "Review comment"},
    "student_status": {"zh_CN": "学生当前状态", "en": "Student status"},
    "target_grade": {"zh_CN": "异动后年级", "en": "Grade after the change"},
    "to_class": {"zh_CN": "异动后班级", "en": "Class after the change"},
    "effective_date": {"zh_CN": "异动日期", "en": "Date of the change"},
    "end_date": {"zh_CN": "截止日期", "en": "End date"},
    "status_change_reason": {"zh_CN": "异动原因", "en": "Reason"},
}

MESSAGES: dict[str, dict[str, str]] = {
    # --- holiday configuration (admin/domain/calendar.py) ---
    "calendar.line": {
        "zh_CN": "{field}第{line}行：“{value}”无法识别，应为一个日期（2026-10-01）、"
        "一个日期范围（2026-10-01..2026-10-07）或调休上班日（+2026-09-27）",
        "en": "{field}, line {line}: cannot read “{value}”; write a date (2026-10-01), "
        "a date range (2026-10-01..2026-10-07) or an extra working day (+2026-09-27)",
    },
    "calendar.range_reversed": {
        "zh_CN": "{field}第{line}行：“{value}”的结束日期早于开始日期",
        "en": "{field}, line {line}: “{value}” ends before it starts",
    },
    "calendar.range_too_long": {
        "zh_CN": "{field}第{line}行：“{value}”共{days}天，超过上限{max}天，可能是年份写错了",
        "en": "{field}, line {line}: “{value}” spans {days} days, more than the limit of "
        "{max}; is a year mistyped?",
    },
    "calendar.not_weekend": {
        "zh_CN": "{field}第{line}行：“{value}”中的 {date} 本来就是工作日，"
        "调休上班日（+）只能是星期六或星期日",
        "en": "{field}, line {line}: {date} in “{value}” is a weekday anyway; "
        "extra working days (+) must be Saturdays or Sundays",
    },
    "calendar.conflict": {
        "zh_CN": "{field}第{line}行：{date} 在第{other_line}行已有相反的设置（不能既放假又上班）",
        "en": "{field}, line {line}: {date} is already set the other way on line "
        "{other_line} (it cannot be both a holiday and a working day)",
    },
    # --- freezes (admin/domain/calendar.py) ---
    "workflow.frozen": {
        "zh_CN": "{field}：{start}至{end}为“{name_zh}”期间，不能发起此项业务",
        "en": "{field}: no such request can be started from {start} to {end} ({name_en})",
    },
    # --- request types and the state machine (admin/domain/workflow.py) ---
    "workflow.unsupported_type": {
        "zh_CN": "{field}：{value} 不是可申请的学籍异动类别",
        "en": "{field}: {value} is not a status change that can be requested",
    },
    "workflow.same_school": {
        "zh_CN": "{field}：转入学校与转出学校相同（{school}），校内调整请办理调班",
        "en": "{field}: the receiving and the sending school are the same ({school}); "
        "use a class change inside one school",
    },
    "workflow.wrong_state": {
        "zh_CN": "{field}：申请{state_zh}，不能{action_zh}",
        "en": "{field}: the request is {state_en} and cannot be handled with “{action_en}”",
    },
    "workflow.not_your_step": {
        "zh_CN": "{field}：当前处理单位为{unit_zh}，只有该单位可以办理",
        "en": "{field}: only the current handling unit, the {unit_en}, may act on it",
    },
    "workflow.comment_required": {
        "zh_CN": "{field}：驳回时必须填写审核意见",
        "en": "{field}: give the reason for rejecting the request",
    },
    "workflow.not_applicant": {
        "zh_CN": "{field}：只有申请单位{unit_zh}可以撤销",
        "en": "{field}: only the applicant, the {unit_en}, may cancel it",
    },
    "workflow.no_supervisor": {
        "zh_CN": "{field}：当前处理单位{unit_zh}已无上级单位可以强制干预",
        "en": "{field}: no unit above the current handling unit ({unit_en}) can take it over",
    },
    "workflow.not_supervisor": {
        "zh_CN": "{field}：只有上级单位{unit_zh}可以强制干预",
        "en": "{field}: only the unit above, the {unit_en}, may take it over",
    },
    "workflow.not_overdue": {
        "zh_CN": "{field}：办理期限至 {due}，尚未超期，不能强制干预",
        "en": "{field}: it is due by {due} and not overdue yet, so it cannot be taken over",
    },
    "workflow.purge_not_supervisor": {
        "zh_CN": "{field}：只有相关学校的上级教育行政部门（区划 {counties}）可以清理在办业务",
        "en": "{field}: only an education authority over the schools involved "
        "(divisions {counties}) may purge it",
    },
    # --- preconditions (admin/domain/workflow.py) ---
    "workflow.student_status": {
        "zh_CN": "{field}：学生当前为{status_zh}，不能办理{type_zh}",
        "en": "{field}: the student is {status_en}; a {type_en} request is not possible",
    },
    "workflow.in_flight": {
        "zh_CN": "{field}：该学生有尚未办结的在办业务，办结或撤销后才能发起新的异动",
        "en": "{field}: the student has a request in progress; finish or cancel it first",
    },
    "workflow.problem_record": {
        "zh_CN": "{field}：该学生有未处理的问题学籍，处理后才能办理异动",
        "en": "{field}: the student has an unresolved problem record; resolve it first",
    },
    "workflow.senior_only": {
        "zh_CN": "{field}：{type_zh}只适用于高中学生，义务教育阶段学生不能{type_zh}",
        "en": "{field}: {type_en} applies to senior high students only, "
        "not in compulsory education",
    },
    "workflow.compulsory_only": {
        "zh_CN": "{field}：{type_zh}只适用于义务教育阶段学生",
        "en": "{field}: {type_en} applies to compulsory-education students only",
    },
    "workflow.graduating_grade": {
        "zh_CN": "{field}：{grade_zh}是毕业年级，不能办理{type_zh}",
        "en": "{field}: {grade_en} is a graduating grade; no {type_en} request is possible",
    },
    "workflow.grade_change_compulsory": {
        "zh_CN": "{field}：义务教育阶段（{grade_zh}）不能办理{type_zh}",
        "en": "{field}: {type_en} is not allowed in compulsory education ({grade_en})",
    },
    "workflow.target_grade": {
        "zh_CN": "{field}：{type_zh}只能在同一学段内调整一个年级，应为{expected_zh}",
        "en": "{field}: {type_en} moves one grade within the same stage; expected {expected_en}",
    },
    "workflow.progression_grade": {
        "zh_CN": "{field}：学生毕业于{grade_zh}，不是小学或初中的最后一个年级，不能办理升学",
        "en": "{field}: the student left from {grade_en}, not the last grade of primary or junior "
        "high; progression is not possible",
    },
    "workflow.progression_target": {
        "zh_CN": "{field}：升学只能进入下一学段的起始年级（{expected_zh}）的班级",
        "en": "{field}: progression enters a class of the next stage's first grade ({expected_en})",
    },
    "workflow.transfer_grade": {
        "zh_CN": "{field}：只能转入同一年级（{grade_zh}）",
        "en": "{field}: a transfer must keep the grade ({grade_en})",
    },
    # --- filing and acting (admin/services/status_changes.py) ---
    "workflow.class_elsewhere": {
        "zh_CN": "{field}：{class_name}不是{school}本学年的班级",
        "en": "{field}: {class_name} is not a class of {school} this school year",
    },
    "workflow.class_grade": {
        "zh_CN": "{field}：{class_name}不在学生所在的{grade_zh}",
        "en": "{field}: {class_name} is not in the student's grade ({grade_en})",
    },
    "workflow.same_class": {
        "zh_CN": "{field}：学生已在{class_name}，请选择另一个班级",
        "en": "{field}: the student is already in {class_name}; choose another class",
    },
    "workflow.end_before_start": {
        "zh_CN": "{field}：截止日期早于异动日期",
        "en": "{field}: the end date is before the date of the change",
    },
    "workflow.no_unit": {
        "zh_CN": "{field}：您的账号不属于任何学籍审核单位（学校学籍管理员、学校领导或县、省教育行政部门），"
        "不能办理学籍异动",
        "en": "{field}: your account is not a handling unit (school registrar, school leader, "
        "county or province bureau), so it cannot act on status changes",
    },
    "workflow.not_applicant_unit": {
        "zh_CN": "{field}：此项申请应由{unit_zh}发起",
        "en": "{field}: this request is filed by the {unit_en}",
    },
    "workflow.unknown_action": {
        "zh_CN": "{field}：无法识别的操作“{action}”",
        "en": "{field}: unknown action “{action}”",
    },
    "workflow.student_not_found": {
        "zh_CN": "{field}：没有找到该学籍号或身份证件号的学生（或不在您的管辖范围内）",
        "en": "{field}: no student with this student number or ID number (in your scope)",
    },
    "workflow.handled_meanwhile": {
        "zh_CN": "{field}：该申请已被{who}于{when}办理，请刷新后查看",
        "en": "{field}: {who} handled this request at {when}; reload it to see the result",
    },
}
