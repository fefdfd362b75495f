"""idempotency keys: the election they belong to, so its purge (I 19) removes every one

The scope now holds a keyed hash of (election, actor) instead of the login subject, which is the same
in every election and would link a voter's answers across elections. Rows written before this revision
keep their scope; their election is filled in from the stored answer where it names one, and the rest
(refusals) are removed by the first purge of any election, long after anyone could replay them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("election", sa.String(length=100), nullable=True))
        batch.create_index("ix_idempotency_keys_election", ["election"])
    table = sa.table("idempotency_keys", sa.column("scope", sa.String), sa.column("key", sa.String),
                     sa.column("response_body", sa.Text), sa.column("election", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.scope, table.c.key, table.c.response_body)).all()
    for scope, key, body in rows:
        try:
            election = json.loads(body or "null").get("election")
        except (ValueError, AttributeError):
            continue
        if isinstance(election, str):
            connection.execute(sa.update(table).where(table.c.scope == scope, table.c.key == key)
                               .values(election=election[:100]))


def downgrade():
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_index("ix_idempotency_keys_election")
        batch.drop_column("election")
