"""the recording core: a reference version, and (PostgreSQL) the audit chain linked at insert

``reference_state`` holds one number that a trigger raises with every change to the data a declaration
is checked against (elections, kieskringen, municipalities, lists and their versions, the CSB's sessions
and notified shortages, the election keys). Each process reads those tables once per version; a
declaration is only written while the version it was checked at still stands (registry.elections.reference).

On PostgreSQL an audit event inserted without a hash is linked into the chain by the database, under the
same advisory lock the application takes (registry.audit.services.CHAIN_LOCK_ID), with exactly the
canonical content the application's verify() recomputes. The recording path inserts its declaration, its
audit event and its idempotency key in one statement and so never holds the chain lock across a round
trip. Every other writer keeps linking in Python; the trigger leaves an event that has its hash alone.

Revision ID: 0009
Revises: 0008_transparency_log
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008_transparency_log"
branch_labels = None
depends_on = None

REFERENCE_TABLES = ("elections", "districts", "municipalities", "candidate_lists", "list_versions",
                    "list_districts", "csb_sessions", "csb_shortages", "election_keys")
CHAIN_LOCK_ID = 0x5354_4555_4E  # registry.audit.services.CHAIN_LOCK_ID

# The canonical content of registry.audit.services.event_content: compact JSON with sorted keys, text as
# json.dumps(ensure_ascii=False) writes it (PostgreSQL's to_json escapes the same characters the same way),
# the time as datetime.isoformat() in UTC (microseconds only when not zero).
_AUDIT_LINK = f"""
CREATE FUNCTION steun_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  expected text;
  head_seq bigint;
  head_hash text;
  moment timestamp;
  stamp text;
  content text;
BEGIN
  IF NEW.hash IS NOT NULL AND NEW.hash <> '' THEN
    RETURN NEW;  -- linked by the application, under the same lock
  END IF;
  PERFORM pg_advisory_xact_lock({CHAIN_LOCK_ID});
  -- A declaration written at a reference version (registry.declarations.services) is only linked while that
  -- version stands. Read after the chain lock, with this command's own snapshot: a CSB session that held the
  -- lock (its counts are taken under it) and committed meanwhile has raised the version, so a declaration
  -- whose statement began before that commit cannot slip in after the counts.
  expected := current_setting('steunregister.reference_version', true);
  IF expected IS NOT NULL AND expected <> '' AND
     (SELECT version::text FROM reference_state WHERE id = 1) IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'reference data changed since this declaration was checked' USING ERRCODE = 'SR409';
  END IF;
  SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(head_seq, 0) + 1;
  NEW.prev_hash := coalesce(head_hash, repeat('0', 64));
  moment := NEW.occurred_at AT TIME ZONE 'UTC';
  stamp := to_char(moment, 'YYYY-MM-DD"T"HH24:MI:SS');
  IF date_trunc('second', moment) <> moment THEN
    stamp := stamp || '.' || to_char(moment, 'US');
  END IF;
  content := '{{"action":' || to_json(NEW.action)::text
          || ',"actor":' || to_json(NEW.actor)::text
          || ',"election":' || coalesce(to_json(NEW.election)::text, 'null')
          || ',"occurred_at":"' || stamp || '+00:00"'
          || ',"payload":' || to_json(NEW.payload)::text
          || ',"seq":' || NEW.seq::text
          || ',"subject":' || coalesce(to_json(NEW.subject)::text, 'null') || '}}';
  NEW.hash := encode(sha256(convert_to(NEW.prev_hash || E'\\n' || content, 'UTF8')), 'hex');
  RETURN NEW;
END $$"""


def upgrade():
    op.create_table("reference_state",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("version", sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_state")))
    op.execute("INSERT INTO reference_state (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION steun_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN UPDATE reference_state SET version = version + 1 WHERE id = 1; RETURN NULL; END $$""")
        for table in REFERENCE_TABLES:
            op.execute(f"CREATE TRIGGER {table}_reference_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION steun_reference_changed()")
        op.execute(_AUDIT_LINK)
        op.execute("CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION steun_audit_link()")
    else:
        for table in REFERENCE_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_reference_{action.lower()} AFTER {action} ON {table} "
                           "BEGIN UPDATE reference_state SET version = version + 1 WHERE id = 1; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_link ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS steun_audit_link()")
        for table in REFERENCE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_reference_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS steun_reference_changed()")
    else:
        for table in REFERENCE_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_reference_{action}")
    op.drop_table("reference_state")
