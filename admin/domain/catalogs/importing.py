"""Messages and column labels of 新生批量导入 (admin/services/importing.py): reading the uploaded
file, its headers, and the checks that need the whole file (duplicates inside it, classes).
The rules on each student's values are the registration rules and keep their own messages."""

from __future__ import annotations

# Form items 19 and 35–48 (the items admin/domain/messages.py does not label yet), named as on
# the national 学生基本信息表: they are the import template's headers.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "specialty": {"zh_CN": "特长", "en": "Special talents"},
    "only_child": {"zh_CN": "是否独生子女", "en": "Only child"},
    "preschool": {"zh_CN": "是否受过学前教育", "en": "Had preschool education"},
    "left_behind": {"zh_CN": "是否留守儿童", "en": "Left-behind child"},
    "migrant_child": {
        "zh_CN": "是否进城务工人员随迁子女",
        "en": "Child of migrant workers living with them",
    },
    "orphan": {"zh_CN": "是否孤儿", "en": "Orphan"},
    "martyr_child": {"zh_CN": "是否烈士或优抚子女", "en": "Child of a martyr or entitled family"},
    "inclusive_education": {"zh_CN": "随班就读", "en": "Inclusive education"},
    "disability": {"zh_CN": "残疾类型", "en": "Disability type"},
    "gov_purchased_place": {
        "zh_CN": "是否由政府购买学位",
        "en": "School place purchased by the government",
    },
    "needs_aid": {"zh_CN": "是否需要申请资助", "en": "Needs financial aid"},
    "boarding_subsidy": {"zh_CN": "是否享受一补", "en": "Receives the boarding subsidy (一补)"},
    "distance_km": {"zh_CN": "上下学距离（公里）", "en": "Distance to school (km)"},
    "transport": {"zh_CN": "上下学交通方式", "en": "Way to school"},
    "needs_school_bus": {"zh_CN": "是否需要乘坐校车", "en": "Needs the school bus"},
    # The file itself and its header row.
    "header": {"zh_CN": "表头", "en": "Column header"},
}

# Form items 51–55 and 57–60 for 家庭成员或监护人一 and 二 (items 49, 50, 56, 58 and 59 are
# labelled in admin/domain/messages.py as guardian1_name … guardian2_id_number).
_GUARDIAN_ITEMS = {
    "relationship_note": ("关系说明", "relationship note"),
    "ethnicity": ("民族", "ethnic group"),
    "employer": ("工作单位", "employer"),
    "address": ("现住址", "current address"),
    "hukou_region_code": ("户口所在地", "household registration place"),
    "is_guardian": ("是否监护人", "is guardian"),
    "position": ("职务", "position"),
}
for _seq, (_zh_seq, _en_seq) in enumerate((("一", "1"), ("二", "2")), start=1):
    for _item, (_zh, _en) in _GUARDIAN_ITEMS.items():
        FIELD_LABELS[f"guardian{_seq}_{_item}"] = {
            "zh_CN": f"家庭成员或监护人{_zh_seq}{_zh}",
            "en": f"Family member/guardian {_en_seq} {_en}",
        }

MESSAGES: dict[str, dict[str, str]] = {
    # --- the file ---
    "import.file_type": {
        "zh_CN": "{field}：只接受 Excel 工作簿（.xlsx）或 CSV 文本文件（UTF-8 或 GB18030 编码），"
        "这个文件两者都不是（按内容识别，与文件名无关）",
        "en": "{field}: only Excel workbooks (.xlsx) or CSV text files (UTF-8 or GB18030) are "
        "accepted, and this file is neither (recognised by content, not by the file name)",
    },
    "import.legacy_xls": {
        "zh_CN": "{field}：这是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”.xlsx 后再导入",
        "en": "{field}: this is an old Excel 97-2003 (.xls) file; save it as .xlsx in Excel and "
        "import that",
    },
    "import.no_rows": {
        "zh_CN": "{field}：只有表头，没有学生数据行",
        "en": "{field}: the file has a header row but no student rows",
    },
    "import.no_header": {
        "zh_CN": "{field}：第一行应为模板的表头（姓名、性别……），但没有找到任何一个模板列名",
        "en": "{field}: the first row must be the template's header row (姓名, 性别, …), but "
        "none of the template's column names was found",
    },
    "import.too_many_rows": {
        "zh_CN": "{field}：超过每次导入的上限{limit}行，请分成多个文件导入",
        "en": "{field}: more than the limit of {limit} rows per import; split the file",
    },
    # --- headers ---
    "import.unknown_header": {
        "zh_CN": "{field}：第{column}列“{header}”不是模板中的列名，请使用模板的表头",
        "en": "{field}: column {column} “{header}” is not a column of the template; use the "
        "template's header row",
    },
    "import.blank_header": {
        "zh_CN": "{field}：第{column}列有数据但没有表头",
        "en": "{field}: column {column} has data but no header",
    },
    "import.duplicate_header": {
        "zh_CN": "{field}：“{header}”出现了两次（第{first}列和第{column}列）",
        "en": "{field}: “{header}” appears twice (columns {first} and {column})",
    },
    "import.missing_header": {
        "zh_CN": "{field}：缺少必填列“{header}”",
        "en": "{field}: the required column “{header}” is missing",
    },
    # --- cell values ---
    "import.code_ambiguous": {
        "zh_CN": "{field}：“{value}”对应多个代码（{codes}），请填写代码",
        "en": "{field}: “{value}” matches several codes ({codes}); enter the code",
    },
    "import.boolean": {
        "zh_CN": "{field}：应填写“是”或“否”（或 1、0），实际为“{value}”",
        "en": "{field}: enter 是 or 否 (yes or no, or 1 or 0), not “{value}”",
    },
    "import.number": {
        "zh_CN": "{field}：“{value}”不是有效的数字",
        "en": "{field}: “{value}” is not a number",
    },
    "import.too_long": {
        "zh_CN": "{field}：最多{max}个字符，实际为{length}个",
        "en": "{field}: at most {max} characters, got {length}",
    },
    "import.id_as_number": {
        "zh_CN": "{field}：单元格是数字格式，Excel 只保留15位有效数字，已把号码末几位改掉；"
        "请把该列设为文本格式后重新填写",
        "en": "{field}: the cell is formatted as a number and Excel keeps only 15 digits, so "
        "the end of the number was lost; format the column as text and enter it again",
    },
    # --- the whole file ---
    "import.unknown_class": {
        "zh_CN": "{field}：{school}在{school_year}学年没有名为“{value}”的班级",
        "en": "{field}: {school} has no class named “{value}” in the school year {school_year}",
    },
    "import.ambiguous_class": {
        "zh_CN": "{field}：{school}在{school_year}学年有{count}个名为“{value}”的班级，无法确定是哪一个",
        "en": "{field}: {school} has {count} classes named “{value}” in the school year "
        "{school_year}; cannot tell which one",
    },
    "import.no_school_year": {
        "zh_CN": "{field}：{today} 不在任何学年内，请先在 学校管理 › 学年 中建立当前学年",
        "en": "{field}: {today} is in no school year; create the current school year under "
        "School management › School years first",
    },
    "import.duplicate_in_file": {
        "zh_CN": "{field}：与第{other}行的证件号相同，一人只能登记一个学籍",
        "en": "{field}: the same number as row {other}; one student has one record",
    },
    "import.possible_duplicate": {
        "zh_CN": "{field}：已有{count}名姓名、性别、出生日期都相同的学生（{schools}）。"
        "如确认不是同一人，请在“确认不是同一人的理由”列填写理由",
        "en": "{field}: {count} student(s) with the same name, sex and birth date exist "
        "({schools}); if this is a different person, give the reason in the column "
        "“确认不是同一人的理由”",
    },
    "import.possible_duplicate_in_file": {
        "zh_CN": "{field}：与第{other}行的姓名、性别、出生日期都相同。如确认不是同一人，"
        "请在“确认不是同一人的理由”列填写理由",
        "en": "{field}: the same name, sex and birth date as row {other}; if this is a "
        "different person, give the reason in the column “确认不是同一人的理由”",
    },
}
