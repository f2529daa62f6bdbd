"""Messages of electronic diplomas (admin/services/diplomas.py)."""

from __future__ import annotations

FIELD_LABELS: dict[str, dict[str, str]] = {
    "diploma": {"zh_CN": "电子证书", "en": "Electronic diploma"},
    "revoke_reason": {"zh_CN": "撤销理由", "en": "Reason for revocation"},
    "diploma_number": {"zh_CN": "证书编号", "en": "Diploma number"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "diploma.no_key": {
        "zh_CN": "{field}：没有可用的签发密钥（{folder}），请系统管理员运行 xueji init",
        "en": "{field}: no signing key is available ({folder}); the administrator must run "
        "xueji init",
    },
    "pdf.no_font": {
        "zh_CN": "{field}：服务器缺少中文字体，无法生成PDF；请安装 fonts-wqy-microhei "
        "或设置 XUEJI_PDF_FONT",
        "en": "{field}: the server has no Chinese font to print the PDF; install "
        "fonts-wqy-microhei or set XUEJI_PDF_FONT",
    },
    "diploma.not_approved": {
        "zh_CN": "{field}：学生 {student_number} 的毕业尚未核准，不能发证",
        "en": "{field}: the graduation of {student_number} is not approved yet",
    },
    "diploma.no_certificate": {
        "zh_CN": "{field}：学生 {student_number} 为肄业，只发肄业证明，不发电子证书",
        "en": "{field}: {student_number} left early and receives no certificate",
    },
    "diploma.already_issued": {
        "zh_CN": "{field}：学生 {student_number} 已有有效证书 {number}；如需更正，请先撤销",
        "en": "{field}: {student_number} already holds certificate {number}; revoke it first "
        "to issue a corrected one",
    },
    "diploma.serial_exhausted": {
        "zh_CN": "{field}：本校{year}年该学段证书流水号已用完（99999）",
        "en": "{field}: the school's serial numbers for {year} and this stage are used up",
    },
    "diploma.revoke_bureau_only": {
        "zh_CN": "{field}：只有发证学校所属的教育行政部门可以撤销证书",
        "en": "{field}: only the education bureau over the issuing school may revoke it",
    },
    "diploma.already_revoked": {
        "zh_CN": "{field}：证书 {number} 已经撤销",
        "en": "{field}: certificate {number} is already revoked",
    },
}
