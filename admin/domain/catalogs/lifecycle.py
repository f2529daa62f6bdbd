"""Messages of the lifecycle batch operations: annual promotion (admin/services/promotion.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "school_year": {"zh_CN": "学年", "en": "School year"},
    "duplicate_reason": {"zh_CN": "确认不是同一人的理由", "en": "Why this is not the same person"},
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
