"""group plugins: assessments, announcements, activity stream, forum, materials, subgroup rules

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plugin_announcements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('expires_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('removed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_announcements_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_announcements'))
    )
    with op.batch_alter_table('plugin_announcements', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_announcements_group_created', ['group_id', 'created_on'], unique=False)

    op.create_table('plugin_assessments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('content_id', sa.String(length=256), nullable=False),
    sa.Column('course_id', sa.String(length=256), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('due_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('withdrawn_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_assessments_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_assessments'))
    )
    with op.batch_alter_table('plugin_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_assessments_group_status', ['group_id', 'status'], unique=False)

    op.create_table('plugin_forum_threads',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('post_count', sa.Integer(), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('last_post_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_forum_threads_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_forum_threads'))
    )
    with op.batch_alter_table('plugin_forum_threads', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_forum_threads_group_last', ['group_id', 'last_post_on'], unique=False)

    op.create_table('plugin_materials',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content_id', sa.String(length=256), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('removed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_materials_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_materials'))
    )
    with op.batch_alter_table('plugin_materials', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_materials_group_status', ['group_id', 'status'], unique=False)

    op.create_table('plugin_stream_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('removed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_stream_entries_group_id_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_stream_entries'))
    )
    with op.batch_alter_table('plugin_stream_entries', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_stream_entries_group_created', ['group_id', 'created_on'], unique=False)

    op.create_table('plugin_subgroup_rules',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('parent_group_id', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('matched', sa.JSON(), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_subgroup_rules_group_id_groups')),
    sa.ForeignKeyConstraint(['parent_group_id'], ['groups.id'],
                            name=op.f('fk_plugin_subgroup_rules_parent_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_plugin_subgroup_rules'))
    )
    with op.batch_alter_table('plugin_subgroup_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_subgroup_rules_parent_group_id'), ['parent_group_id'], unique=False)

    op.create_table('plugin_forum_posts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('thread_id', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=256), nullable=False),
    sa.Column('removed_on', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_plugin_forum_posts_group_id_groups')),
    sa.ForeignKeyConstraint(['thread_id'], ['plugin_forum_threads.id'],
                            name=op.f('fk_plugin_forum_posts_thread_id_plugin_forum_threads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_forum_posts'))
    )
    with op.batch_alter_table('plugin_forum_posts', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_forum_posts_thread_created', ['thread_id', 'created_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plugin_forum_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_forum_posts_thread_created')

    op.drop_table('plugin_forum_posts')
    with op.batch_alter_table('plugin_subgroup_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plugin_subgroup_rules_parent_group_id'))

    op.drop_table('plugin_subgroup_rules')
    with op.batch_alter_table('plugin_stream_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_stream_entries_group_created')

    op.drop_table('plugin_stream_entries')
    with op.batch_alter_table('plugin_materials', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_materials_group_status')

    op.drop_table('plugin_materials')
    with op.batch_alter_table('plugin_forum_threads', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_forum_threads_group_last')

    op.drop_table('plugin_forum_threads')
    with op.batch_alter_table('plugin_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_assessments_group_status')

    op.drop_table('plugin_assessments')
    with op.batch_alter_table('plugin_announcements', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_announcements_group_created')

    op.drop_table('plugin_announcements')
