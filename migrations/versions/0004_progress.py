"""progress aggregates per list, kieskring and version; agents' own lists

progress_counts holds the declarations per (election, list, kieskring, list version), recomputed at
most every PROGRESS_MAX_AGE seconds by one grouped query; progress_refresh has one row per election
whose refreshed_at a refresh takes over with a compare-and-set. list_agents links a list that a party
agent created to the agent's organisation (KvK number from eHerkenning).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('progress_refresh',
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_progress_refresh_election_id_elections')),
    sa.PrimaryKeyConstraint('election_id', name=op.f('pk_progress_refresh'))
    )
    op.create_table('progress_counts',
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('list_version_id', sa.Integer(), nullable=False),
    sa.Column('declarations', sa.Integer(), nullable=False),
    sa.Column('void_multiple', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['elections.id'], name=op.f('fk_progress_counts_election_id_elections')),
    sa.ForeignKeyConstraint(['list_id'], ['candidate_lists.id'], name=op.f('fk_progress_counts_list_id_candidate_lists')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_progress_counts_district_id_districts')),
    sa.ForeignKeyConstraint(['list_version_id'], ['list_versions.id'], name=op.f('fk_progress_counts_list_version_id_list_versions')),
    sa.PrimaryKeyConstraint('election_id', 'list_id', 'district_id', 'list_version_id', name=op.f('pk_progress_counts'))
    )
    op.create_table('list_agents',
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['candidate_lists.id'], name=op.f('fk_list_agents_list_id_candidate_lists')),
    sa.PrimaryKeyConstraint('list_id', 'organisation', name=op.f('pk_list_agents'))
    )
    with op.batch_alter_table('list_agents', schema=None) as batch_op:
        batch_op.create_index('ix_list_agents_organisation', ['organisation'], unique=False)


def downgrade():
    with op.batch_alter_table('list_agents', schema=None) as batch_op:
        batch_op.drop_index('ix_list_agents_organisation')
    op.drop_table('list_agents')
    op.drop_table('progress_counts')
    op.drop_table('progress_refresh')
