"""initial metadata schema

Revision ID: 0001
Revises: (none)
Create Date: 2025-01-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.String(length=256), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('program_id', sa.String(length=256), nullable=True),
    sa.Column('enrollment_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('course_ids', sa.JSON(), nullable=False),
    sa.Column('mentors', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=True),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ets', sa.BigInteger(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_program_id'), ['program_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_revision'), ['revision'], unique=False)

    op.create_table('courses',
    sa.Column('id', sa.String(length=256), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('board', sa.String(length=256), nullable=True),
    sa.Column('medium', sa.JSON(), nullable=False),
    sa.Column('grade_level', sa.JSON(), nullable=False),
    sa.Column('subject', sa.JSON(), nullable=False),
    sa.Column('leaf_count', sa.Integer(), nullable=False),
    sa.Column('unit_count', sa.Integer(), nullable=False),
    sa.Column('hierarchy', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_revision'), ['revision'], unique=False)

    op.create_table('groups',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('membership_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('batch_id', sa.String(length=256), nullable=True),
    sa.Column('parent_group_id', sa.String(length=64), nullable=True),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['parent_group_id'], ['groups.id'], name=op.f('fk_groups_parent_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_groups_batch_id'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_parent_group_id'), ['parent_group_id'], unique=False)

    op.create_table('lpa_counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_lpa_counters'))
    )
    # The counters exist from the start, so incrementing is always one UPDATE (no insert race).
    op.bulk_insert(sa.table('lpa_counters', sa.column('name', sa.String), sa.column('value', sa.BigInteger)),
                   [{'name': 'catalog', 'value': 0}, {'name': 'batches', 'value': 0}])
    op.create_table('course_facets',
    sa.Column('course_id', sa.String(length=256), nullable=False),
    sa.Column('facet', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_facets_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'facet', 'value', name=op.f('pk_course_facets'))
    )
    with op.batch_alter_table('course_facets', schema=None) as batch_op:
        batch_op.create_index('ix_course_facets_facet_value', ['facet', 'value'], unique=False)

    op.create_table('enrolments',
    sa.Column('batch_id', sa.String(length=256), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('enrolled_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ets', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_enrolments_batch_id_batches')),
    sa.PrimaryKeyConstraint('batch_id', 'user_id', name=op.f('pk_enrolments'))
    )
    op.create_table('group_activities',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('activity_id', sa.String(length=256), nullable=False),
    sa.Column('activity_type', sa.String(length=64), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_activities_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', 'activity_id', name=op.f('pk_group_activities'))
    )
    op.create_table('group_members',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=256), nullable=True),
    sa.Column('removed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_members_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_members'))
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index('ix_group_members_user_status', ['user_id', 'status'], unique=False)

    op.create_table('group_plugins',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('plugin_id', sa.String(length=100), nullable=False),
    sa.Column('plugin_version', sa.String(length=40), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('updated_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_plugins_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', 'plugin_id', name=op.f('pk_group_plugins'))
    )


def downgrade() -> None:
    op.drop_table('group_plugins')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_group_members_user_status')

    op.drop_table('group_members')
    op.drop_table('group_activities')
    op.drop_table('enrolments')
    with op.batch_alter_table('course_facets', schema=None) as batch_op:
        batch_op.drop_index('ix_course_facets_facet_value')

    op.drop_table('course_facets')
    op.drop_table('lpa_counters')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_parent_group_id'))

    op.drop_table('groups')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_revision'))

    op.drop_table('courses')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_revision'))
        batch_op.drop_index(batch_op.f('ix_batches_program_id'))

    op.drop_table('batches')
