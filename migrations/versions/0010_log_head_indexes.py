"""the transparency log's heads: indexed by election with id, kind and size

Every sealer round and lookup stays independent of how many heads an election has. While the window is
open a head is signed at least every minute: weeks of collection make tens of thousands of heads per
election. A sealer round asks which fixed moments (window-close, I 1, I 4) have a head and when
the last head was signed; the consistency endpoint asks whether two sizes were published. With only an
index on election_id each of those read every head of the election.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_log_heads_election_id"), table_name="log_heads")
    # the latest head of an election (ORDER BY id DESC LIMIT 1) and the heads in order
    op.create_index("ix_log_heads_election_id_id", "log_heads", ["election_id", "id"])
    # the fixed moments' heads, and the latest head of a kind
    op.create_index("ix_log_heads_election_id_kind", "log_heads", ["election_id", "kind", "id"])
    # was a head of this size published?
    op.create_index("ix_log_heads_election_id_tree_size", "log_heads", ["election_id", "tree_size"])


def downgrade() -> None:
    op.drop_index("ix_log_heads_election_id_tree_size", table_name="log_heads")
    op.drop_index("ix_log_heads_election_id_kind", table_name="log_heads")
    op.drop_index("ix_log_heads_election_id_id", table_name="log_heads")
    op.create_index(op.f("ix_log_heads_election_id"), "log_heads", ["election_id"], unique=False)
