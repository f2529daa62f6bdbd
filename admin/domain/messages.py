"""Rule violations and their localized messages.

Domain rules never raise on bad user input: they return ``Violation`` objects with a stable
machine ``code`` (dotted string), the ``field`` it concerns and named ``params``.  The UI, the
importer and the API render them here, in Simplified Chinese or English, naming the field with
the wording of the national 学生基本信息表.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType

ZH_CN = "zh_CN"
EN = "en"
LOCALES: tuple[str, ...] = (ZH_CN, EN)


def resolve_locale(locale: str) -> str:
    """Map any locale tag to one we have templates for: every Chinese variant → zh_CN."""
    return ZH_CN if locale.strip().lower().startswith("zh") else EN


# Field labels.  Chinese labels follow the national 学生基本信息表 wording; the model column
# names (``birthplace_code`` …) are listed too so callers can pass either.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "name": {ZH_CN: "姓名", EN: "Name"},
    "sex": {ZH_CN: "性别", EN: "Sex"},
    "birth_date": {ZH_CN: "出生日期", EN: "Date of birth"},
    "birthplace": {ZH_CN: "出生地", EN: "Place of birth"},
    "birthplace_code": {ZH_CN: "出生地", EN: "Place of birth"},
    "native_place": {ZH_CN: "籍贯", EN: "Native place"},
    "native_place_code": {ZH_CN: "籍贯", EN: "Native place"},
    "ethnicity": {ZH_CN: "民族", EN: "Ethnic group"},
    "nationality": {ZH_CN: "国籍/地区", EN: "Nationality/region"},
    "id_doc_type": {ZH_CN: "身份证件类型", EN: "ID document type"},
    "id_number": {ZH_CN: "身份证件号", EN: "ID number"},
    "overseas_chinese": {ZH_CN: "港澳台侨外", EN: "HK/Macao/Taiwan/overseas status"},
    "political_status": {ZH_CN: "政治面貌", EN: "Political affiliation"},
    "health": {ZH_CN: "健康状况", EN: "Health status"},
    "name_pinyin": {ZH_CN: "姓名拼音", EN: "Name in pinyin"},
    "former_name": {ZH_CN: "曾用名", EN: "Former name"},
    "id_valid_period": {ZH_CN: "身份证件有效期", EN: "ID document validity"},
    "hukou_region": {ZH_CN: "户口所在地", EN: "Household registration place"},
    "hukou_region_code": {ZH_CN: "户口所在地", EN: "Household registration place"},
    "hukou_type": {ZH_CN: "户口性质", EN: "Household registration type"},
    "aux_number": {ZH_CN: "学籍辅号", EN: "Auxiliary student number"},
    "seat_number": {ZH_CN: "班内学号", EN: "Number in class"},
    "grade": {ZH_CN: "年级", EN: "Grade"},
    "grade_code": {ZH_CN: "年级", EN: "Grade"},
    "class_name": {ZH_CN: "班级", EN: "Class"},
    "stage_entry_ym": {ZH_CN: "入学年月", EN: "Year and month of entry"},
    "admission_method": {ZH_CN: "入学方式", EN: "Admission method"},
    "study_mode": {ZH_CN: "就读方式", EN: "Day or boarding"},
    "student_source": {ZH_CN: "学生来源", EN: "Student source"},
    "current_address": {ZH_CN: "现住址", EN: "Current address"},
    "mailing_address": {ZH_CN: "通信地址", EN: "Mailing address"},
    "home_address": {ZH_CN: "家庭地址", EN: "Home address"},
    "phone": {ZH_CN: "联系电话", EN: "Phone number"},
    "postal_code": {ZH_CN: "邮政编码", EN: "Postal code"},
    "email": {ZH_CN: "电子信箱", EN: "Email"},
    "homepage": {ZH_CN: "主页地址", EN: "Homepage"},
    "guardian_name": {ZH_CN: "家庭成员或监护人姓名", EN: "Family member/guardian name"},
    "guardian_phone": {ZH_CN: "家庭成员或监护人联系电话", EN: "Family member/guardian phone"},
    "guardian_id_doc_type": {
        ZH_CN: "家庭成员或监护人身份证件类型",
        EN: "Family member/guardian ID document type",
    },
    "guardian_id_number": {
        ZH_CN: "家庭成员或监护人身份证件号",
        EN: "Family member/guardian ID number",
    },
    "school_year": {ZH_CN: "学年", EN: "School year"},
    "primary_years": {ZH_CN: "小学学制", EN: "Primary school length"},
    "region_code": {ZH_CN: "行政区划代码", EN: "Administrative division code"},
    "school_region_code": {ZH_CN: "学校所在地区划码", EN: "School's division code"},
    "student_number": {ZH_CN: "学籍号", EN: "Student number"},
    "student_number_kind": {ZH_CN: "学籍号类型", EN: "Student number type"},
    # Accounts (admin/domain/passwords.py)
    "username": {ZH_CN: "用户名", EN: "Username"},
    "password": {ZH_CN: "密码", EN: "Password"},
    "school": {ZH_CN: "学校", EN: "School"},
    "version": {ZH_CN: "版本号", EN: "Version"},
    "record": {ZH_CN: "记录", EN: "Record"},
    # Student files (admin/domain/files.py, admin/uploads)
    "photo": {ZH_CN: "照片", EN: "Photo"},
    "proof": {ZH_CN: "证明材料", EN: "Proof document"},
    "file": {ZH_CN: "文件", EN: "File"},
    "file_kind": {ZH_CN: "文件类别", EN: "File category"},
    "file_description": {ZH_CN: "文件说明", EN: "File description"},
    # Audit trail (admin/audit)
    "audit_entry": {ZH_CN: "审计日志条目", EN: "Audit entry"},
}

# Form items 49–72: the same twelve fields for 家庭成员或监护人信息一 and 二.
_GUARDIAN_ITEMS: dict[str, tuple[str, str]] = {
    "name": ("姓名", "name"),
    "relationship": ("关系", "relationship"),
    "phone": ("联系电话", "phone"),
    "id_doc_type": ("身份证件类型", "ID document type"),
    "id_number": ("身份证件号", "ID number"),
}
for _seq, (_zh_seq, _en_seq) in enumerate((("一", "1"), ("二", "2")), start=1):
    for _item, (_zh, _en) in _GUARDIAN_ITEMS.items():
        FIELD_LABELS[f"guardian{_seq}_{_item}"] = {
            ZH_CN: f"家庭成员或监护人{_zh_seq}{_zh}",
            EN: f"Family member/guardian {_en_seq} {_en}",
        }

# Templates: ``{field}`` is the localized field label; other names come from ``params``.
MESSAGES: dict[str, dict[str, str]] = {
    "required": {
        ZH_CN: "{field}：必须填写",
        EN: "{field}: this field is required",
    },
    # --- ID numbers (GB 11643-1999) ---
    "id_number.length": {
        ZH_CN: "{field}：应为18位，实际为{length}位",
        EN: "{field}: must be 18 characters long, got {length}",
    },
    "id_number.legacy_15": {
        ZH_CN: "{field}：不接受15位旧号码，请填写18位号码（升位后为 {suggestion}）",
        EN: "{field}: 15-digit legacy numbers are not accepted; "
        "enter the 18-digit number (upgraded: {suggestion})",
    },
    "id_number.charset": {
        ZH_CN: "{field}：前17位必须是数字，第18位必须是数字或X",
        EN: "{field}: the first 17 characters must be digits and the last a digit or X",
    },
    "id_number.province": {
        ZH_CN: "{field}：地址码前两位 {prefix} 不是有效的省级代码",
        EN: "{field}: the address code starts with {prefix}, which is not a valid province",
    },
    "id_number.birth_date_invalid": {
        ZH_CN: "{field}：出生日期码 {value} 不是有效日期",
        EN: "{field}: the birth date {value} is not a valid date",
    },
    "id_number.birth_date_future": {
        ZH_CN: "{field}：出生日期码 {value} 晚于今天",
        EN: "{field}: the birth date {value} is in the future",
    },
    "id_number.duplicate": {
        ZH_CN: "{field}：该证件号已登记在册，一人只能有一个学籍",
        EN: "{field}: this document number is already registered; one student, one record",
    },
    "id_number.check_digit": {
        ZH_CN: "{field}：校验码错误，应为 {expected}",
        EN: "{field}: wrong check digit, expected {expected}",
    },
    # --- dates ---
    "date.format": {
        ZH_CN: "{field}：日期格式应为 YYYYMMDD 或 YYYY-MM-DD",
        EN: "{field}: the date must be written YYYYMMDD or YYYY-MM-DD",
    },
    "date.invalid": {
        ZH_CN: "{field}：{value} 不是有效日期",
        EN: "{field}: {value} is not a valid date",
    },
    "date.too_early": {
        ZH_CN: "{field}：日期不能早于 {minimum}",
        EN: "{field}: the date cannot be before {minimum}",
    },
    "date.future": {
        ZH_CN: "{field}：日期不能晚于今天",
        EN: "{field}: the date cannot be in the future",
    },
    "year_month.format": {
        ZH_CN: "{field}：格式应为 YYYYMM 或 YYYY-MM",
        EN: "{field}: must be written YYYYMM or YYYY-MM",
    },
    "year_month.invalid": {
        ZH_CN: "{field}：{value} 不是有效的年月",
        EN: "{field}: {value} is not a valid year and month",
    },
    # --- codes and contact data ---
    "region.format": {
        ZH_CN: "{field}：行政区划代码应为6位或12位数字",
        EN: "{field}: the division code must have 6 or 12 digits",
    },
    "region.unknown": {
        ZH_CN: "{field}：行政区划代码 {value} 不存在",
        EN: "{field}: division code {value} does not exist",
    },
    "code.unknown": {
        ZH_CN: "{field}：代码 {value} 不在可选范围内",
        EN: "{field}: code {value} is not one of the allowed values",
    },
    "phone.format": {
        ZH_CN: "{field}：应为11位手机号码或带区号的固定电话",
        EN: "{field}: enter an 11-digit mobile number or a landline with area code",
    },
    "postal_code.format": {
        ZH_CN: "{field}：应为6位数字",
        EN: "{field}: must be 6 digits",
    },
    "email.format": {
        ZH_CN: "{field}：电子信箱格式不正确",
        EN: "{field}: not a valid email address",
    },
    # --- 学籍号 ---
    "student_number.format": {
        ZH_CN: "{field}：应为19位（G、J或L加18位数字，G和J号末位可为X）",
        EN: "{field}: must be 19 characters: G, J or L followed by 18 digits "
        "(the last may be X for G and J)",
    },
    "student_number.region": {
        ZH_CN: "{field}：地址码前两位 {prefix} 不是有效的省级代码",
        EN: "{field}: the address code starts with {prefix}, which is not a valid province",
    },
    "student_number.birth_date_invalid": {
        ZH_CN: "{field}：出生日期码 {value} 不是有效日期",
        EN: "{field}: the birth date {value} is not a valid date",
    },
    "student_number.birth_date_future": {
        ZH_CN: "{field}：出生日期码 {value} 晚于今天",
        EN: "{field}: the birth date {value} is in the future",
    },
    "student_number.check_digit": {
        ZH_CN: "{field}：校验码错误，应为 {expected}",
        EN: "{field}: wrong check digit, expected {expected}",
    },
    "student_number.immutable": {
        ZH_CN: "{field}：一人一号、终身不变，不能由 {old} 号改为 {new} 号",
        EN: "{field}: a student number is for life and cannot change from {old} to {new}",
    },
    "student_number.random_range": {
        ZH_CN: "{field}：临时学籍号随机码应为0000–9999，实际为 {value}",
        EN: "{field}: the temporary number's random part must be 0000–9999, got {value}",
    },
    "j_sequence.exhausted": {
        ZH_CN: "{field}：J号顺序码须在001–999之间（得到 {sequence}），"
        "该区划和出生日期下的顺序码已用尽",
        EN: "{field}: the J sequence must be 001–999 (got {sequence}); "
        "no sequence is left for this division and birth date",
    },
    # --- records and scope (admin services, views and APIs) ---
    "scope.school": {
        ZH_CN: "{field}：超出您的管辖范围，不能在该学校建立或迁入记录",
        EN: "{field}: outside your scope; you may not create or move a record there",
    },
    "version.required": {
        ZH_CN: "{field}：修改时须提供读取时的版本号（If-Match 或 version），以免覆盖他人的修改",
        EN: "{field}: send the version you read (If-Match or version) so that no one "
        "else's change is overwritten",
    },
    "student_number.duplicate": {
        ZH_CN: "{field}：该学籍号已被使用",
        EN: "{field}: this student number is already in use",
    },
    "enrollment.duplicate": {
        ZH_CN: "{field}：该学生本学年已有在读的注册记录",
        EN: "{field}: the student already has an active enrollment this school year",
    },
    "database.constraint": {
        ZH_CN: "{field}：与已有数据冲突，未保存",
        EN: "{field}: conflicts with existing data; nothing was saved",
    },
    # --- audit trail hash chain (admin/audit/verify.py, `xueji audit verify`) ---
    "audit.edited": {
        ZH_CN: "{field} #{id}：已被修改——内容与其哈希值不符",
        EN: "{field} #{id}: edited — its content no longer matches its hash",
    },
    "audit.inserted": {
        ZH_CN: "{field} #{id}：系插入的条目——不在哈希链中",
        EN: "{field} #{id}: inserted — it is not part of the hash chain",
    },
    "audit.deleted": {
        ZH_CN: "{field} #{id}：其前面的条目已被删除（或被改写）——prev_hash 与任何现存条目都不符"
        "（现存的前一条为 {previous}）",
        EN: "{field} #{id}: deleted (or rewritten) entries before it — its prev_hash matches "
        "no remaining entry (the entry now before it is {previous})",
    },
    "audit.broken_link": {
        ZH_CN: "{field} #{id}：prev_hash 指向其后的条目而非前一条 {previous}——条目顺序被改动",
        EN: "{field} #{id}: its prev_hash points to a later entry, not to {previous} — "
        "entries were reordered",
    },
    "audit.anchor_missing": {
        ZH_CN: "{field}：找不到哈希值为 {anchor} 的锚点条目——日志末尾的条目被删除或日志被重写",
        EN: "{field}: no entry has the anchor hash {anchor} — entries were deleted from the "
        "end or the log was rewritten",
    },
    # --- accounts (admin/domain/passwords.py) ---
    "password.too_short": {
        ZH_CN: "{field}：至少需要{min}个字符",
        EN: "{field}: must be at least {min} characters long",
    },
    "password.classes": {
        ZH_CN: "{field}：须包含小写字母、大写字母、数字、符号中的至少{min}类",
        EN: "{field}: must mix at least {min} of lowercase, uppercase, digits and symbols",
    },
    "password.contains_username": {
        ZH_CN: "{field}：不能包含用户名",
        EN: "{field}: must not contain the username",
    },
    "password.reused": {
        ZH_CN: "{field}：不能与当前密码相同",
        EN: "{field}: must differ from the current password",
    },
    # --- student files: photo and proof documents (admin/domain/files.py) ---
    "file.missing": {
        ZH_CN: "{field}：请选择要上传的文件",
        EN: "{field}: choose a file to upload",
    },
    "file.empty": {
        ZH_CN: "{field}：文件是空的",
        EN: "{field}: the file is empty",
    },
    "file.too_large": {
        ZH_CN: "{field}：文件大小为 {size}，超过上限 {limit}",
        EN: "{field}: the file is {size}, more than the limit of {limit}",
    },
    "file.type": {
        ZH_CN: "{field}：只接受 {allowed_zh} 文件（按文件内容识别，与文件名和扩展名无关）",
        EN: "{field}: only {allowed_en} files are accepted "
        "(recognised by their content, not by the file name or extension)",
    },
    "file.corrupt": {
        ZH_CN: "{field}：文件已损坏或不完整，无法读取",
        EN: "{field}: the file is damaged or incomplete and cannot be read",
    },
    "file.too_many_pixels": {
        ZH_CN: "{field}：图像为 {width}×{height} 像素，超过上限 {limit} 像素",
        EN: "{field}: the image has {width}×{height} pixels, more than the limit of {limit}",
    },
    "file.pdf_active_content": {
        ZH_CN: "{field}：PDF 含有脚本、启动程序的动作或嵌入文件（{marker}），出于安全原因不予接受；"
        "请将其打印为新的 PDF 或扫描后重新上传",
        EN: "{field}: the PDF contains scripts, launch actions or embedded files ({marker}) "
        "and is refused for security; print it to a new PDF or scan it, then upload again",
    },
    "file.pdf_encrypted": {
        ZH_CN: "{field}：PDF 已加密，无法检查其内容；请上传未加密的 PDF",
        EN: "{field}: the PDF is encrypted, so its content cannot be checked; "
        "upload an unencrypted PDF",
    },
    "file.kind": {
        ZH_CN: "{field}：只能是照片或证明材料",
        EN: "{field}: must be photo or proof document",
    },
    "file.description_length": {
        ZH_CN: "{field}：不能超过{max}个字符",
        EN: "{field}: must be at most {max} characters long",
    },
    # --- cross-field consistency ---
    "consistency.sex_mismatch": {
        ZH_CN: "{field}：与身份证件号不一致（证件号显示为{from_id_zh}）",
        EN: "{field}: does not match the ID number (which says {from_id_en})",
    },
    "consistency.birth_date_mismatch": {
        ZH_CN: "{field}：与身份证件号不一致（证件号显示为 {from_id}）",
        EN: "{field}: does not match the ID number (which says {from_id})",
    },
    "consistency.guardian_id_required": {
        ZH_CN: "{field}：学生没有可用的身份证件号时，至少填写一位家庭成员或监护人的身份证件号",
        EN: "{field}: when the student has no usable ID number, "
        "at least one family member or guardian ID number is required",
    },
    "consistency.age_for_grade": {
        ZH_CN: "{field}：{school_year_start} 时年龄为{age}岁，"
        "{grade_zh}通常为{expected}岁（允许相差{tolerance}岁）",
        EN: "{field}: the student is {age} on {school_year_start}; "
        "{grade_en} is usually {expected} (tolerance {tolerance} years)",
    },
    "consistency.grade_not_in_system": {
        ZH_CN: "{field}：{primary_years}年制小学的学校没有{grade_zh}",
        EN: "{field}: {grade_en} does not exist in a school with "
        "{primary_years}-year primary education",
    },
}

# Used when a code has no template, so rendering never fails in production.
_FALLBACK: dict[str, str] = {
    ZH_CN: "{field}：数据不符合规则（{code}）",
    EN: "{field}: invalid value ({code})",
}


class _KeepMissing(dict[str, object]):
    """Leave unknown placeholders visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def field_label(field_name: str, locale: str = ZH_CN) -> str:
    """Localized label of a form field; the raw name when we have no label for it."""
    return FIELD_LABELS.get(field_name, {}).get(resolve_locale(locale), field_name)


@dataclass(frozen=True)
class Violation:
    """One broken rule: stable ``code``, the ``field`` concerned and template ``params``."""

    code: str
    field: str
    # Excluded from hashing: mappings are unhashable, and code+field identify a violation.
    params: Mapping[str, object] = dataclass_field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A read-only copy keeps the frozen dataclass really immutable.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def message(self, locale: str = ZH_CN) -> str:
        resolved = resolve_locale(locale)
        values = _KeepMissing(self.params)
        values["field"] = field_label(self.field, resolved)
        template = MESSAGES.get(self.code)
        if template is None:
            values["code"] = self.code
            template = _FALLBACK
        return template[resolved].format_map(values)

    def to_dict(self, locale: str = ZH_CN) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message(locale)}


class RuleError(ValueError):
    """For callers that prefer exceptions: carries the violations that stopped the operation."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations: list[Violation] = list(violations)
        # English text with codes: exceptions end up in logs read by developers.
        super().__init__("; ".join(f"[{v.code}] {v.message(EN)}" for v in self.violations))


def _merge_area_catalogs() -> None:
    """Merge admin/domain/catalogs/*: a code or label defined twice is a bug, not an override."""
    from admin.domain.catalogs import area_modules

    for module in area_modules():
        for name, target in (("MESSAGES", MESSAGES), ("FIELD_LABELS", FIELD_LABELS)):
            for key, value in getattr(module, name, {}).items():
                if key in target and target[key] != value:
                    raise RuntimeError(f"{module.__name__}: {name}[{key!r}] already defined")
                target[key] = value


_merge_area_catalogs()
