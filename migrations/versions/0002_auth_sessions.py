"""login state: server-side sessions, pending logins, the mock issuer's authorization codes

auth_sessions holds one row per login (the cookie carries only a random id; the row holds its
SHA-256). auth_login_requests makes state and nonce single-use across app instances.
mock_idp_codes is used only when the mock DigiD/eHerkenning issuer runs (development, test).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auth_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('bsn_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_auth_sessions'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_auth_sessions_expires_at', ['expires_at'], unique=False)

    op.create_table('auth_login_requests',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('next_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('state_hash', name=op.f('pk_auth_login_requests'))
    )
    with op.batch_alter_table('auth_login_requests', schema=None) as batch_op:
        batch_op.create_index('ix_auth_login_requests_expires_at', ['expires_at'], unique=False)

    op.create_table('mock_idp_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('payload_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_mock_idp_codes'))
    )
    with op.batch_alter_table('mock_idp_codes', schema=None) as batch_op:
        batch_op.create_index('ix_mock_idp_codes_expires_at', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('mock_idp_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_mock_idp_codes_expires_at')
    op.drop_table('mock_idp_codes')
    with op.batch_alter_table('auth_login_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_login_requests_expires_at')
    op.drop_table('auth_login_requests')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_sessions_expires_at')
    op.drop_table('auth_sessions')
