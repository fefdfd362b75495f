"""a paper declaration is what was signed: unique per voter, list version and signing time

A paper declaration sent twice (two batch item ids, two batches) is one declaration, not two
signatures of one voter (I 2 lid 1 a voids only a voter who signed more than once). The recording
path replays the first; this index makes the database hold it under concurrent re-sends too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'uq_declarations_paper_signature', 'declarations',
        ['election_id', 'voter_key', 'list_version_id', 'signed_at'], unique=True,
        sqlite_where=sa.text("channel = 'batch'"), postgresql_where=sa.text("channel = 'batch'"),
    )


def downgrade():
    op.drop_index('uq_declarations_paper_signature', table_name='declarations')
