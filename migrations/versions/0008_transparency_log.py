"""transparency log: per-election Merkle leaves of declarations and signed tree heads (issue 17)

log_states holds, per election, the size of its log: the single sealer locks that row. log_leaves holds
leaf i of an election's log (a hash of the declaration's canonical record with a secret salt, and the
declaration id: no personal data); log_heads the signed tree heads. Leaves and heads are append-only.

Revision ID: 0008_transparency_log
Revises: 0007
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_transparency_log"
down_revision = "0007"
branch_labels = None
depends_on = None

_APPEND_ONLY = ("log_leaves", "log_heads")


def upgrade():
    op.create_table(
        "log_states",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], name=op.f("fk_log_states_election_id_elections")),
        sa.PrimaryKeyConstraint("election_id", name=op.f("pk_log_states")),
    )
    op.create_table(
        "log_leaves",
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["declaration_id"], ["declarations.id"],
                                name=op.f("fk_log_leaves_declaration_id_declarations")),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], name=op.f("fk_log_leaves_election_id_elections")),
        sa.PrimaryKeyConstraint("election_id", "leaf_index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("declaration_id", name=op.f("uq_log_leaves_declaration_id")),
    )
    op.create_table(
        "log_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], name=op.f("fk_log_heads_election_id_elections")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_heads")),
    )
    op.create_index(op.f("ix_log_heads_election_id"), "log_heads", ["election_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            # steun_append_only() comes from 0001
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION steun_append_only()")
    else:
        for table in _APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for table in _APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_index(op.f("ix_log_heads_election_id"), table_name="log_heads")
    op.drop_table("log_heads")
    op.drop_table("log_leaves")
    op.drop_table("log_states")
