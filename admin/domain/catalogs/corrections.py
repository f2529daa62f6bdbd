"""Messages of 信息变更: key-field corrections and reviewed edits (admin/services/corrections.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "info_change": {"zh_CN": "信息变更", "en": "Record change"},
    "info_change_reason": {"zh_CN": "变更原因", "en": "Reason for the change"},
    "proof": {"zh_CN": "证明材料", "en": "Proof document"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "info_change.not_allowed": {
        "zh_CN": "{field}：此项不能通过本申请变更",
        "en": "{field}: this item cannot be changed by this request",
    },
    "info_change.school_only": {
        "zh_CN": "{field}：只有学生所在学校的学籍管理员可以申请或撤回",
        "en": "{field}: only the registrar of the student's school may file or withdraw it",
    },
    "info_change.nothing": {
        "zh_CN": "{field}：没有任何项目与现有信息不同",
        "en": "{field}: nothing differs from the current record",
    },
    "info_change.proof_required": {
        "zh_CN": "{field}：关键信息变更必须上传证明材料（如户口簿、身份证扫描件）",
        "en": "{field}: a key-field correction needs a proof document (household register, ID "
        "card scan …)",
    },
    "info_change.pending": {
        "zh_CN": "{field}：该学生已有一项待审核的信息变更，请等审核完成或撤回后再申请",
        "en": "{field}: the student already has a change awaiting review; wait for it or "
        "withdraw it first",
    },
    "info_change.not_pending": {
        "zh_CN": "{field}：该申请已经处理完毕",
        "en": "{field}: the request has already been decided",
    },
    "info_change.county_only": {
        "zh_CN": "{field}：关键信息变更由学生所在学校的县级教育行政部门审核",
        "en": "{field}: key-field corrections are decided by the county bureau over the "
        "student's school",
    },
    "info_change.leader_only": {
        "zh_CN": "{field}：信息变更登记由学校负责人审核",
        "en": "{field}: reviewed edits are decided by the school's leader",
    },
}
