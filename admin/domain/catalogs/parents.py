"""Messages of linking parent accounts to students (admin/services/parents.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "parent_link": {"zh_CN": "家长账号关联", "en": "Parent account link"},
    "parent_username": {"zh_CN": "家长用户名", "en": "Parent's username"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "parent_link.not_your_student": {
        "zh_CN": "{field}：只能为本校学生关联家长账号",
        "en": "{field}: you can link parent accounts only for students of your school",
    },
    "parent_link.username": {
        "zh_CN": "{field}：请填写不含空格、不超过64个字符的用户名",
        "en": "{field}: enter a username of at most 64 characters without spaces",
    },
    "parent_link.not_a_guardian": {
        "zh_CN": "{field}：与该生登记的任何监护人的身份证件号都不一致，不能关联",
        "en": "{field}: does not match the ID number of any guardian recorded for this "
        "student; the account cannot be linked",
    },
    "parent_link.email": {
        "zh_CN": "{field}：“{value}”不是有效的电子邮箱",
        "en": "{field}: “{value}” is not a valid e-mail address",
    },
    "parent_link.not_parent_account": {
        "zh_CN": "{field}：该用户不是家长账号",
        "en": "{field}: this user is not a parent account",
    },
    "parent_link.already": {
        "zh_CN": "{field}：该家长账号已关联此学生",
        "en": "{field}: this parent account is already linked to the student",
    },
    "parent_link.account": {
        "zh_CN": "{field}：无法创建家长账号（{reason}）",
        "en": "{field}: the parent account could not be created ({reason})",
    },
}
