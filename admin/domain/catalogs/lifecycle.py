"""Messages of the lifecycle batch operations: annual promotion (admin/services/promotion.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "school_year": {"zh_CN": "学年", "en": "School year"},
    "duplicate_reason": {"zh_CN": "确认不是同一人的理由", "en": "Why this is not the same person"},
    "graduation": {"zh_CN": "毕业", "en": "Graduation"},
    "graduation_outcome": {"zh_CN": "毕业结论", "en": "Outcome"},
    "graduation_destination": {"zh_CN": "毕业去向", "en": "Destination"},
    "school_class": {"zh_CN": "班级", "en": "Class"},
    "entry_date": {"zh_CN": "入学日期", "en": "Entry date"},
}

MESSAGES: dict[str, dict[str, str]] = {
    # --- 查重 at registration (admin/services/students.py duplicate_check) ---
    "registration.duplicate_id": {
        "zh_CN": "{field}：该证件号已在{school}登记学籍（{name}，{student_number}），一人一籍，"
        "不能重复注册；如学生已转来本校，请办理转学",
        "en": "{field}: this ID is already registered at {school} ({name}, {student_number}); "
        "one student has one record — if the student has moved here, file a transfer",
    },
    "registration.possible_duplicate": {
        "zh_CN": "{field}：已有{count}名姓名、性别、出生日期都相同的学生（{schools}）。"
        "如确认不是同一人，请填写理由后再次保存",
        "en": "{field}: {count} student(s) with the same name, sex and birth date exist "
        "({schools}); if this is a different person, give the reason and save again",
    },
    # --- graduation (admin/domain/graduation.py, admin/services/graduation.py) ---
    "graduation.no_grade": {
        "zh_CN": "{field}：学生没有年级，不能办理",
        "en": "{field}: the student has no grade",
    },
    "graduation.not_enrolled": {
        "zh_CN": "{field}：学生当前不是在校状态（{status}），不能办理",
        "en": "{field}: the student is not enrolled (status {status})",
    },
    "graduation.senior_only": {
        "zh_CN": "{field}：结业、肄业只适用于高中，{grade_zh}学生只能毕业",
        "en": "{field}: completion without diploma and early leaving apply to senior high only; "
        "a {grade_en} student can only graduate",
    },
    "graduation.not_final_grade": {
        "zh_CN": "{field}：{grade_zh}不是毕业年级",
        "en": "{field}: {grade_en} is not the last grade of the stage",
    },
    "graduation.too_early": {
        "zh_CN": "{field}：肄业须在本学段学习满一年",
        "en": "{field}: leaving before completion needs at least one year in the stage",
    },
    "graduation.requirement": {
        "zh_CN": "{field}：未达到要求：{requirement}",
        "en": "{field}: requirement not met: {requirement}",
    },
    "graduation.already_filed": {
        "zh_CN": "{field}：已办理（{state}）",
        "en": "{field}: already filed ({state})",
    },
    "graduation.not_in_school": {
        "zh_CN": "{field}：该学生不在本校本学年的名单中",
        "en": "{field}: the student is not on this school's list for the year",
    },
    "graduation.school_scope": {
        "zh_CN": "{field}：该学校不在您的管辖范围内",
        "en": "{field}: the school is outside your scope",
    },
    "graduation.bureau_only": {
        "zh_CN": "{field}：高中毕业由教育行政部门审核",
        "en": "{field}: senior-high graduation is approved by the education bureau",
    },
    "graduation.not_pending": {
        "zh_CN": "{field}：该申请不是待审核状态（{state}），或不在您的管辖范围内",
        "en": "{field}: the filing is not pending ({state}) or is outside your scope",
    },
    "promotion.unknown_year": {
        "zh_CN": "{field}：没有学年“{value}”，请先在 学校管理 › 学年 中建立",
        "en": "{field}: there is no school year “{value}”; create it under School management › "
        "School years first",
    },
    "promotion.year_order": {
        "zh_CN": "{field}：升入的学年（{to}）必须在原学年（{from}）之后",
        "en": "{field}: the target year ({to}) must come after the current one ({from})",
    },
}
