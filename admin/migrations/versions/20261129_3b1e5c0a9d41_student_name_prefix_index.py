"""student name index serves LIKE prefix search (varchar_pattern_ops on PostgreSQL)

Revision ID: 3b1e5c0a9d41
Revises: 8fa9d19c2d63
Create Date: 2026-11-29 02:50:00

"""
from alembic import op


revision = '3b1e5c0a9d41'
down_revision = '8fa9d19c2d63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.drop_index('ix_student_name')
        batch_op.create_index(
            'ix_student_name', ['name'], unique=False,
            postgresql_ops={'name': 'varchar_pattern_ops'},
        )


def downgrade():
    with op.batch_alter_table('student', schema=None) as batch_op:
        batch_op.drop_index('ix_student_name')
        batch_op.create_index('ix_student_name', ['name'], unique=False)
