"""Students (the national 72-item form), identity documents and 学籍号 with history,
guardians (form items 49–72) and enrollments. The item numbers of the national form are
given beside each column; items 21–27 belong to an enrollment because they change by stage."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Student(Model):
    __tablename__ = "student"
    __table_args__ = (
        UniqueConstraint("id_doc_type", "id_number", name="uq_student_id_document"),
        # Search by ID number alone (the unique key above has it second).
        Index("ix_student_id_number", "id_number"),
        # Name "starts with" is LIKE '王%'; on PostgreSQL only a pattern-ops btree serves it
        # under a non-C collation (admin/lookups.py FilterPrefix).
        Index("ix_student_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        CheckConstraint("student_number_kind IN ('G','J','L')", name="ck_student_number_kind"),
        CheckConstraint("sex IN ('1','2')", name="ck_student_sex"),
    )

    id = Column(Integer, primary_key=True)
    student_number = Column(String(19), nullable=False, unique=True)  # 学籍号
    student_number_kind = Column(String(1), nullable=False)  # G / J / L
    # 基本信息
    name = Column(String(50), nullable=False)  # 1 姓名
    sex = Column(String(1), nullable=False)  # 2 性别
    birth_date = Column(Date, nullable=False)  # 3 出生日期
    birthplace_code = Column(String(12), nullable=False)  # 4 出生地 (6 or 12 digits)
    native_place_code = Column(String(12), nullable=False)  # 5 籍贯
    ethnicity = Column(String(2), nullable=False)  # 6 民族
    nationality = Column(String(3), nullable=False, default="CHN")  # 7 国籍/地区
    id_doc_type = Column(String(1), nullable=False)  # 8 身份证件类型
    id_number = Column(String(32))  # 9 身份证件号 (normalised; NULL only for type Z)
    overseas_chinese = Column(String(2), nullable=False, default="00")  # 10 港澳台侨外
    political_status = Column(String(2))  # 11 政治面貌
    health = Column(String(2), nullable=False, default="10")  # 12 健康状况
    photo_ref = Column(String(80))  # 13 照片 (content hash under the data folder)
    # 辅助信息
    name_pinyin = Column(String(100))  # 14 姓名拼音
    former_name = Column(String(50))  # 15 曾用名
    id_valid_period = Column(String(21))  # 16 身份证件有效期 "2010.06.01-2020.06.01"
    hukou_region_code = Column(String(12), nullable=False)  # 17 户口所在地
    hukou_type = Column(String(1), nullable=False)  # 18 户口性质
    specialty = Column(String(40))  # 19 特长
    aux_number = Column(String(32))  # 20 学籍辅号
    # 联系信息
    current_address = Column(String(200), nullable=False)  # 28 现住址
    mailing_address = Column(String(200), nullable=False)  # 29 通信地址
    home_address = Column(String(200), nullable=False)  # 30 家庭地址
    phone = Column(String(20), nullable=False)  # 31 联系电话
    postal_code = Column(String(6), nullable=False)  # 32 邮政编码
    email = Column(String(100))  # 33 电子信箱
    homepage = Column(String(200))  # 34 主页地址
    # 扩展信息
    only_child = Column(Boolean, nullable=False, default=False)  # 35 是否独生子女
    preschool = Column(Boolean, nullable=False, default=True)  # 36 是否受过学前教育
    left_behind = Column(String(1), nullable=False, default="0")  # 37 是否留守儿童
    migrant_child = Column(Boolean, nullable=False, default=False)  # 38 随迁子女
    orphan = Column(Boolean, nullable=False, default=False)  # 39 是否孤儿
    martyr_child = Column(Boolean, nullable=False, default=False)  # 40 烈士或优抚子女
    inclusive_education = Column(String(1), nullable=False, default="0")  # 41 随班就读
    disability = Column(String(1), nullable=False, default="0")  # 42 残疾类型
    gov_purchased_place = Column(Boolean, nullable=False, default=False)  # 43 政府购买学位
    needs_aid = Column(Boolean, nullable=False, default=False)  # 44 是否需要申请资助
    boarding_subsidy = Column(Boolean, nullable=False, default=False)  # 45 是否享受一补
    distance_km = Column(Float)  # 46 上下学距离(公里)
    transport = Column(String(1))  # 47 上下学交通方式
    needs_school_bus = Column(Boolean, nullable=False, default=False)  # 48 是否需要乘坐校车
    # Registry state (not form items)
    current_status = Column(String(2), nullable=False, default="01", index=True)  # 学生当前状态
    # Where the student is now (mirrors the active enrollment; drives scope and list filters).
    current_school_id = Column(Integer, ForeignKey("school.id"), index=True)
    current_class_id = Column(Integer, ForeignKey("school_class.id"), index=True)
    current_grade_code = Column(String(2), index=True)
    contact_confirmed_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by = Column(String(64))
    version = Column(Integer, nullable=False, default=1)

    current_school = relationship("School")
    current_class = relationship("SchoolClass")
    guardians = relationship("Guardian", back_populates="student", order_by="Guardian.seq")
    enrollments = relationship(
        "Enrollment", back_populates="student", order_by="Enrollment.school_year_id"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"{self.student_number}"


class StudentIdDocument(Model):
    """Every identity document a student has held; the current one is mirrored on Student."""

    __tablename__ = "student_id_document"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    doc_type = Column(String(1), nullable=False)
    number = Column(String(32))
    valid_period = Column(String(21))
    effective_from = Column(DateTime, nullable=False, default=utcnow)
    effective_to = Column(DateTime)  # NULL = current
    reason = Column(String(200))

    student = relationship("Student")


class StudentNumberHistory(Model):
    """Every 学籍号 issued to a student (L first, then G or J; J may later become G)."""

    __tablename__ = "student_number_history"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    number = Column(String(19), nullable=False, unique=True)  # never reused
    kind = Column(String(1), nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    superseded_at = Column(DateTime)
    reason = Column(String(200))

    student = relationship("Student")


class JNumberSequence(Model):
    """Last J sequence handed out per (school region, birth date); allocated with an atomic
    upsert so concurrent registrations never collide."""

    __tablename__ = "j_number_sequence"

    region_code = Column(String(6), primary_key=True)
    birth_date = Column(Date, primary_key=True)
    last_sequence = Column(Integer, nullable=False)


class Guardian(Model):
    """家庭成员或监护人信息 (form items 49–60 and 61–72)."""

    __tablename__ = "guardian"
    __table_args__ = (
        UniqueConstraint("student_id", "seq", name="uq_guardian_seq"),
        CheckConstraint("seq IN (1, 2)", name="ck_guardian_seq"),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)  # 一 / 二
    name = Column(String(50), nullable=False)  # 49 姓名
    relationship_code = Column(String(2), nullable=False)  # 50 关系
    relationship_note = Column(String(40))  # 51 关系说明
    ethnicity = Column(String(2))  # 52 民族
    employer = Column(String(100))  # 53 工作单位
    address = Column(String(200))  # 54 现住址
    hukou_region_code = Column(String(12))  # 55 户口所在地
    phone = Column(String(20))  # 56 联系电话
    is_guardian = Column(Boolean, nullable=False, default=True)  # 57 是否监护人
    id_doc_type = Column(String(1))  # 58 身份证件类型
    id_number = Column(String(32))  # 59 身份证件号
    position = Column(String(40))  # 60 职务

    student = relationship("Student", back_populates="guardians")


class Enrollment(Model):
    """A student in a school, grade and class for one school year (form items 21–27)."""

    __tablename__ = "enrollment"
    __table_args__ = (
        # One active enrollment per student and school year; a transfer ends one first.
        Index(
            "uq_enrollment_active",
            "student_id",
            "school_year_id",
            unique=True,
            sqlite_where=text("is_active = 1"),
            postgresql_where=text("is_active"),
        ),
        Index("ix_enrollment_class", "class_id"),
        Index("ix_enrollment_school_year", "school_id", "school_year_id"),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False)
    school_year_id = Column(Integer, ForeignKey("school_year.id"), nullable=False)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False)
    grade_code = Column(String(2), nullable=False)  # 22 年级
    seat_number = Column(String(8))  # 21 班内学号
    stage_entry_ym = Column(String(6), nullable=False)  # 24 入学年月 YYYYMM
    entry_date = Column(Date, nullable=False)
    admission_method = Column(String(2), nullable=False)  # 25 入学方式
    study_mode = Column(String(1), nullable=False, default="1")  # 26 就读方式
    student_source = Column(String(1), nullable=False, default="1")  # 27 学生来源
    is_active = Column(Boolean, nullable=False, default=True)
    ended_on = Column(Date)
    end_reason = Column(String(2))  # status_change_type code that ended it
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by = Column(String(64))
    version = Column(Integer, nullable=False, default=1)

    student = relationship("Student", back_populates="enrollments")
    school = relationship("School")
    school_year = relationship("SchoolYear")
    school_class = relationship("SchoolClass")

    __mapper_args__ = {"version_id_col": version}
