"""The transparency log: sealing declarations into leaves, signing tree heads, answering proofs.

The recording path does not touch the log. A single sealer (``seal``) appends a leaf for every committed
declaration not yet in the log, in declaration-id order, and signs a new tree head when the size changed
or a fixed moment asks for one (window close, I 1, I 4). It runs from ``flask --app app log run`` every
LOG_SEAL_INTERVAL seconds, from ``flask --app app log seal``, right after the CSB's examination and
decision, and (development and test only) before a proof or the heads are served. One sealer at a time:
it locks the election's ``log_states`` row (SELECT … FOR UPDATE on PostgreSQL; on SQLite BEGIN IMMEDIATE
already serialises writers).

A round costs what is new, not the whole log: it reads only declarations above a floor (``_Sweeps``), the
highest declaration id that already existed a look-back before the round. A declaration whose recording
took longer than that look-back to commit is found by the next full sweep, which runs on a process's first
round, at least every SWEEP_SECONDS, before every fixed-moment head and whenever another process sealed in
between.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.config import is_production
from registry.db import UTCDateTime, begin_write, utcnow
from registry.declarations.models import Declaration
from registry.domain import merkle
from registry.dossier.verify import head_message, leaf_hash, leaf_record, public_key_fingerprint
from registry.elections.models import CandidateList, CsbSession, District, Election, ListVersion
from registry.privacy.keys import ElectionCipher, ElectionKeysDestroyed
from registry.privacy.services import election_cipher
from registry.signing import ed25519_key, public_key_pem
from registry.transparency.models import LogLeaf, LogState, TreeHead

log = logging.getLogger("registry.transparency")

SIGNING_PURPOSE = "transparency-log-signing v1"
KEY_SETTING = "LOG_SIGNING_KEY_FILE"
# The fixed moments, in the order they happen; each gets one head.
KINDS = ("periodic", "window-close", "i1", "i4")
HEAD_EVERY = timedelta(minutes=1)  # while the window is open, a head at least this often
HEADS_PAGE = 1000  # heads per answer of GET …/log/heads
TREE_CACHE = "steunregister.log_trees"
SWEEPS = "steunregister.log_sweeps"
SEAL_BATCH = 1000
# A recording commits within milliseconds of drawing its declaration id (one statement on PostgreSQL, one
# short transaction elsewhere); ten seconds leaves room for a loaded database. A slower one waits for the
# next full sweep, at most a minute: the same bound as the periodic head.
LOOK_BACK_SECONDS = 10.0
SWEEP_SECONDS = 60.0
clock = time.monotonic  # the rounds' own clock (tests move it; ``now`` is the legal calendar's)


_cache_lock = threading.Lock()  # the per-app tree and sweep caches


class LogNotFound(LookupError):
    """No such election, receipt, or published head."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what


@dataclass(frozen=True)
class SealResult:
    election: str
    appended: int
    size: int
    heads: list[str] = field(default_factory=list)  # the kinds of the heads signed by this run


# --- formats ------------------------------------------------------------------------------------------

def timestamp(moment: datetime) -> str:
    """A head's timestamp as signed: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def recorded_at_text(moment: datetime) -> str:
    """A declaration's recording time in its leaf record: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_key() -> Ed25519PrivateKey:
    return ed25519_key(KEY_SETTING, SIGNING_PURPOSE)


def public_key() -> tuple[str, str]:
    """(PEM, key id) of the key that signs tree heads."""
    key = log_key()
    return public_key_pem(key).decode("ascii"), public_key_fingerprint(key.public_key())


@dataclass(frozen=True)
class LeafFacts:
    declaration_id: int
    list_id: int
    list_version_hash: str
    kieskring: int
    recorded_at: datetime

    def record(self, cipher: ElectionCipher) -> bytes:
        return leaf_record(self.declaration_id, self.list_id, self.list_version_hash, self.kieskring,
                           recorded_at_text(self.recorded_at), cipher.leaf_salt(self.declaration_id).hex())

    def as_dict(self, cipher: ElectionCipher) -> dict[str, Any]:
        return {"declaration": self.declaration_id, "list": self.list_id, "list_version": self.list_version_hash,
                "kieskring": self.kieskring, "recorded_at": recorded_at_text(self.recorded_at),
                "salt": cipher.leaf_salt(self.declaration_id).hex()}


def _facts_query() -> Any:
    return (select(Declaration.id, Declaration.list_id, ListVersion.content_hash, District.number,
                   Declaration.recorded_at)
            .join(ListVersion, ListVersion.id == Declaration.list_version_id)
            .join(District, District.id == Declaration.district_id))


def leaf_facts(session: Session, declaration_id: int) -> LeafFacts | None:
    row = session.execute(_facts_query().where(Declaration.id == declaration_id)).first()
    return LeafFacts(*row) if row else None


def declaration_leaf_hash(session: Session, declaration: Declaration) -> str | None:
    """The leaf hash (hex) a declaration has, or will have, in its election's log; None after I 19."""
    facts = leaf_facts(session, declaration.id)
    election = session.get(Election, declaration.election_id)
    if facts is None or election is None:
        return None
    try:
        cipher = election_cipher(session, election)
    except ElectionKeysDestroyed:
        stored = session.scalar(select(LogLeaf.leaf_hash).where(LogLeaf.declaration_id == declaration.id))
        return stored.hex() if stored else None
    return leaf_hash(facts.record(cipher)).hex()


# --- sealing ------------------------------------------------------------------------------------------

def _lock_state(session: Session, election: Election) -> LogState:
    table = LogState.__table__
    values = {"election_id": election.id, "size": 0}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(table).values(values).on_conflict_do_nothing())
    # FOR UPDATE: a second sealer waits here until the first commits (SQLite omits it; BEGIN IMMEDIATE
    # has already made this transaction the only writer).
    state = session.scalars(select(LogState).where(LogState.election_id == election.id)
                            .with_for_update().execution_options(populate_existing=True)).one()
    return state


def signed_at(stamp: str) -> datetime:
    """A head's timestamp (``timestamp``'s format) as a datetime."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _due_kinds(session: Session, election: Election, now: datetime) -> list[str]:
    """The heads due before this round appends anything: a fixed moment's, else a periodic one if the log has
    no head yet or (window open) its last is a minute old, so a monitor sees the log is alive (and not frozen
    for it alone) even when nobody declares. A round that appends adds a periodic head if none is due."""
    have = set(session.scalars(select(TreeHead.kind).where(TreeHead.election_id == election.id,
                                                           TreeHead.kind.in_(KINDS[1:]))))
    held = set(session.scalars(select(CsbSession.kind).where(CsbSession.election_id == election.id)))
    # A fixed moment's head is signed the first time the sealer sees that moment has passed, unless a
    # later one has too (then the later head is the one that describes the log); it shows the new size too.
    kinds: list[str] = []
    if now >= election.window_closes_at and "window-close" not in have and "examination" not in held:
        kinds.append("window-close")
    if "examination" in held and "i1" not in have and "decision" not in held:
        kinds.append("i1")
    if "decision" in held and "i4" not in have:
        kinds.append("i4")
    if kinds:
        return kinds
    latest = latest_head(session, election)
    window_open = election.window_opens_at <= now < election.window_closes_at
    if latest is None or (window_open and now - signed_at(latest.timestamp) >= HEAD_EVERY):
        return ["periodic"]
    return []


class _Sweeps:
    """What one process remembers of its rounds for one election: the highest declaration id that existed
    when each recent round began, the size of the log it left, and when it last swept everything.

    Declaration ids come from one sequence, so every id at or below the highest one that existed at time t
    was drawn before t. A round's floor is that highest id of a round at least LOOK_BACK_SECONDS earlier:
    only a declaration drawn before then and still not committed at that round can lie below the floor and
    be missed, and the next full sweep takes it in."""

    def __init__(self) -> None:
        self.marks: deque[tuple[float, int]] = deque()  # (monotonic time a round began, highest id then)
        self.swept_at: float | None = None
        self.size: int | None = None  # the log's size after this process's last round

    def floor(self, started: float, size: int, must_sweep: bool) -> int:
        """The id above which this round looks; 0 is a full sweep."""
        if (must_sweep or self.swept_at is None or size != self.size  # another process sealed in between
                or started - self.swept_at >= SWEEP_SECONDS):
            return 0
        cutoff = started - LOOK_BACK_SECONDS
        older = [highest for began, highest in self.marks if began <= cutoff]
        return older[-1] if older else 0

    def done(self, started: float, highest: int, size: int, swept: bool) -> None:
        self.marks.append((started, highest))
        cutoff = started - LOOK_BACK_SECONDS
        while len(self.marks) > 1 and self.marks[1][0] <= cutoff:  # keep the newest mark past the look-back
            self.marks.popleft()
        self.size = size
        if swept:
            self.swept_at = started


def _sweeps(election_id: int) -> _Sweeps:
    with _cache_lock:
        return current_app.extensions.setdefault(SWEEPS, {}).setdefault(election_id, _Sweeps())


_APPEND_PG = text(
    "INSERT INTO log_leaves (election_id, leaf_index, leaf_hash, declaration_id, appended_at) "
    "SELECT :election, :first + n - 1, leaf, declaration, :appended_at "
    "FROM unnest(CAST(:declarations AS INTEGER[]), CAST(:leaves AS BYTEA[])) WITH ORDINALITY AS t(declaration, leaf, n)"
).bindparams(bindparam("appended_at", type_=UTCDateTime()))


def _append(session: Session, election_id: int, first: int, appended_at: datetime,
            leaves: list[tuple[int, bytes]]) -> None:
    """Leaves ``first``, ``first + 1``, … as (declaration id, leaf hash). On PostgreSQL one statement with two
    arrays: a pipelined executemany costs about a millisecond a row of this process's CPU under load."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPEND_PG, {"election": election_id, "first": first, "appended_at": appended_at,
                                     "declarations": [d for d, _ in leaves], "leaves": [h for _, h in leaves]})
    else:
        session.execute(insert(LogLeaf), [
            {"election_id": election_id, "leaf_index": first + offset, "leaf_hash": leaf,
             "declaration_id": declaration, "appended_at": appended_at}
            for offset, (declaration, leaf) in enumerate(leaves)])


def seal(session: Session, election: Election, now: datetime | None = None, *, sweep: bool = False) -> SealResult:
    """Append a leaf for every committed declaration of ``election`` not yet in its log (in id order) and
    sign the heads that are due. Commits; safe to run from any number of processes at once. ``sweep``: look
    at every declaration, not only those above the floor (module docstring); a fixed moment's head always
    does."""
    given, now = now, now or utcnow()
    identifier = election.identifier
    sweeps, started = _sweeps(election.id), clock()
    begin_write(session)
    try:
        state = _lock_state(session, election)
        highest = session.scalar(select(func.max(Declaration.id))) or 0  # before the read: see _Sweeps
        due = _due_kinds(session, election, now)
        floor = sweeps.floor(started, state.size, sweep or any(kind != "periodic" for kind in due))
        appended, after = 0, floor
        # In batches, so memory stays flat however many are pending; only up to ``highest``, so a round under
        # load takes what was there when it began instead of chasing every declaration that commits meanwhile
        # in ever smaller batches (the next round takes those).
        while True:
            pending = session.execute(
                _facts_query().outerjoin(LogLeaf, LogLeaf.declaration_id == Declaration.id)
                .where(Declaration.election_id == election.id, Declaration.id > after, Declaration.id <= highest,
                       LogLeaf.declaration_id.is_(None))
                .order_by(Declaration.id).limit(SEAL_BATCH)).all()
            if not pending:
                break
            after = pending[-1][0]
            cipher = election_cipher(session, election)  # ElectionKeysDestroyed: nothing can be added after I 19
            # When the leaves are appended: after the lock and the read, so never before a declaration's own
            # recording time (which is what the sealing delay is measured from).
            _append(session, election.id, state.size, given or utcnow(),
                    [(row[0], leaf_hash(LeafFacts(*row).record(cipher))) for row in pending])
            state.size += len(pending)
            appended += len(pending)
            if len(pending) < SEAL_BATCH:
                break
        state.sealed_at = now
        kinds = due or (["periodic"] if appended else [])
        if kinds:
            tree = log_tree(session, election.id, state.size)
            root = tree.root(state.size)
            key = log_key()
            key_id = public_key_fingerprint(key.public_key())
            for kind in kinds:
                stamp = timestamp(now)
                signature = key.sign(head_message(identifier, state.size, root.hex(), stamp, kind))
                session.add(TreeHead(election_id=election.id, tree_size=state.size, root_hash=root, timestamp=stamp,
                                     kind=kind, signature=signature, key_id=key_id))
        size = state.size
        session.commit()
    except BaseException:
        session.rollback()
        raise
    sweeps.done(started, highest, size, swept=floor == 0)
    return SealResult(identifier, appended, size, kinds)


def seal_all(session: Session, now: datetime | None = None) -> list[SealResult]:
    """Seal every election whose keys still exist (after I 19 nothing new can come in)."""
    results = []
    for election in session.scalars(select(Election).order_by(Election.id)).all():
        try:
            results.append(seal(session, election, now))
        except ElectionKeysDestroyed:
            session.rollback()
    return results


def seal_after_session(session: Session, election: Election, now: datetime) -> None:
    """Called by the CSB's services right after the examination (I 1) or the decision (I 4) committed: the
    head of that moment is signed at once. A failure here does not undo the session; the next run of the
    sealer signs the missing head (its kind follows from the sessions held)."""
    try:
        seal(session, election, now)
    except Exception:
        session.rollback()
        log.exception("sealing the log of %s after a CSB session failed; the sealer will retry",
                      election.identifier)


def lazy_seal(session: Session, election: Election) -> None:
    """Outside production, seal before answering, so the demo needs no running sealer."""
    if not is_production(current_app.config["STEUNREGISTER"]):
        try:
            seal(session, election)
        except ElectionKeysDestroyed:
            session.rollback()


# --- the tree, from the stored leaf hashes -------------------------------------------------------------


def log_tree(session: Session, election_id: int, size: int) -> merkle.Tree:
    """A tree of at least the first ``size`` leaves (ask it with that size). Leaves never change (append-only),
    so the tree is kept per app and only extended with the leaves added since: a sealer round hashes what is
    new, not the whole log."""
    cache: dict[int, merkle.Tree] = current_app.extensions.setdefault(TREE_CACHE, {})
    with _cache_lock:
        tree = cache.setdefault(election_id, merkle.Tree([]))
        if tree.size < size:
            more = session.scalars(select(LogLeaf.leaf_hash).where(LogLeaf.election_id == election_id,
                                                                   LogLeaf.leaf_index >= tree.size,
                                                                   LogLeaf.leaf_index < size)
                                   .order_by(LogLeaf.leaf_index)).all()
            if tree.size + len(more) != size:
                raise LogNotFound("leaves", f"the log has {tree.size + len(more)} leaves, not {size}")
            tree.extend(more)
    return tree


# --- reading ------------------------------------------------------------------------------------------

def find_election(session: Session, identifier: str) -> Election:
    election = session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        raise LogNotFound("election", f"Verkiezing {identifier} bestaat niet.")
    return election


def head_json(head: TreeHead, election: str) -> dict[str, Any]:
    return {"election": election, "tree_size": head.tree_size, "root_hash": head.root_hash.hex(),
            "timestamp": head.timestamp, "kind": head.kind,
            "signature": base64.b64encode(head.signature).decode("ascii"), "key_id": head.key_id}


def heads(session: Session, election: Election, start: int = 0, limit: int | None = None) -> list[TreeHead]:
    """The election's heads in the order they were signed, from position ``start`` (0 is the first)."""
    query = select(TreeHead).where(TreeHead.election_id == election.id).order_by(TreeHead.id).offset(start)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def head_count(session: Session, election: Election) -> int:
    return session.scalar(select(func.count()).select_from(TreeHead).where(TreeHead.election_id == election.id)) or 0


def fixed_heads(session: Session, election: Election) -> list[TreeHead]:
    """The heads of the fixed moments (window close, I 1, I 4): what the CSB and the dossiers rely on."""
    return list(session.scalars(select(TreeHead).where(TreeHead.election_id == election.id,
                                                       TreeHead.kind.in_(KINDS[1:])).order_by(TreeHead.id)))


def latest_head(session: Session, election: Election, kind: str | None = None) -> TreeHead | None:
    query = select(TreeHead).where(TreeHead.election_id == election.id)
    if kind is not None:
        query = query.where(TreeHead.kind == kind)
    return session.scalar(query.order_by(TreeHead.id.desc()).limit(1))


def heads_document(session: Session, election: Election, start: int = 0) -> dict[str, Any]:
    """One page of the heads (at most HEADS_PAGE, oldest first, from position ``start``): weeks of a head a
    minute make tens of thousands. ``next`` is the position the next page starts at, None on the last."""
    pem, key_id = public_key()
    total = head_count(session, election)
    page = heads(session, election, start, HEADS_PAGE)
    following = start + len(page)
    return {"election": election.identifier, "public_key": pem, "key_id": key_id, "from": start, "total": total,
            "next": following if following < total else None,
            "heads": [head_json(head, election.identifier) for head in page]}


def consistency(session: Session, election: Election, first: int, second: int) -> dict[str, Any]:
    """The proof that the published head of size ``second`` extends the one of size ``first``."""
    published = set(session.scalars(select(TreeHead.tree_size).where(TreeHead.election_id == election.id,
                                                                      TreeHead.tree_size.in_((first, second)))))
    for size in (first, second):
        if size not in published:
            raise LogNotFound("head", f"Er is geen gepubliceerde boomkop met {size} bladeren.")
    if first > second:
        raise LogNotFound("order", "first moet kleiner dan of gelijk aan second zijn.")
    tree = log_tree(session, election.id, second)
    return {"election": election.identifier, "first": first, "second": second,
            "proof": [h.hex() for h in tree.consistency_proof(first, second)]}


def _proof_against(session: Session, election: Election, head: TreeHead | None, index: int) -> dict[str, Any] | None:
    if head is None or head.tree_size <= index:
        return None
    tree = log_tree(session, election.id, head.tree_size)
    return {"head": head_json(head, election.identifier),
            "audit_path": [h.hex() for h in tree.inclusion_path(index, head.tree_size)]}


def inclusion(session: Session, election: Election, receipt_code: str) -> dict[str, Any]:
    """The voter's proof, found by the receipt code alone: the leaf's record (which only the holder of the
    receipt code gets), its index and hash, and its audit paths against the latest head and the I 4 head."""
    code = receipt_code.strip().upper()
    declaration = session.scalar(select(Declaration).where(Declaration.election_id == election.id,
                                                           Declaration.receipt_code == code))
    if declaration is None:
        raise LogNotFound("receipt", "Er is geen verklaring met deze ontvangstcode in deze verkiezing.")
    leaf = session.scalar(select(LogLeaf).where(LogLeaf.declaration_id == declaration.id))
    if leaf is None:
        raise LogNotFound("pending", "Deze verklaring is vastgelegd, maar nog niet in het logboek opgenomen. "
                                     "Dat gebeurt binnen een minuut; probeer het zo opnieuw.")
    facts = leaf_facts(session, declaration.id)
    assert facts is not None
    record = facts.as_dict(election_cipher(session, election))
    candidate_list = session.get(CandidateList, declaration.list_id)
    return {
        "election": election.identifier, "leaf_index": leaf.leaf_index, "leaf_hash": leaf.leaf_hash.hex(),
        "record": record, "list_label": candidate_list.label if candidate_list else None,
        "latest": _proof_against(session, election, latest_head(session, election), leaf.leaf_index),
        "decision": _proof_against(session, election, latest_head(session, election, "i4"), leaf.leaf_index),
    }


def dossier_log(session: Session, election: Election, list_id: int) -> dict[str, Any] | None:
    """What a list's dossier carries of the log: the I 4 head (before the decision: the latest head), the
    head key, and per declaration of the list that is in it its leaf index, hash, audit path and (while the
    election's keys exist) its salt, so the verifier recomputes the leaf from the row."""
    head = latest_head(session, election, "i4") or latest_head(session, election)
    if head is None:
        return None
    tree = log_tree(session, election.id, head.tree_size)
    try:
        cipher: ElectionCipher | None = election_cipher(session, election)
    except ElectionKeysDestroyed:
        cipher = None
    rows = session.execute(
        _facts_query().add_columns(LogLeaf.leaf_index, LogLeaf.leaf_hash)
        .join(LogLeaf, LogLeaf.declaration_id == Declaration.id)
        .where(Declaration.election_id == election.id, Declaration.list_id == list_id,
               LogLeaf.leaf_index < head.tree_size)
        .order_by(Declaration.id).execution_options(yield_per=1000))

    def entries() -> Iterator[dict[str, Any]]:  # streamed into the ZIP: memory does not grow with the list
        for *facts_row, index, stored in rows:
            facts = LeafFacts(*facts_row)
            entry: dict[str, Any] = {"declaration_id": facts.declaration_id, "leaf_index": index,
                                     "leaf_hash": stored.hex(), "list_version": facts.list_version_hash}
            if cipher is not None:
                entry["salt"] = cipher.leaf_salt(facts.declaration_id).hex()
            entry["audit_path"] = [h.hex() for h in tree.inclusion_path(index, head.tree_size)]
            yield entry

    pem, key_id = public_key()
    return {"head": head_json(head, election.identifier), "public_key": pem, "key_id": key_id,
            "leaf_format": "SHA-256(0x00 || canonical JSON record), docs/transparency.md", "leaves": entries()}


def sealing_delays(session: Session, election: Election) -> list[float]:
    """Seconds from recording to inclusion, per leaf (what ``log status`` reports)."""
    rows = session.execute(select(Declaration.recorded_at, LogLeaf.appended_at)
                           .join(LogLeaf, LogLeaf.declaration_id == Declaration.id)
                           .where(LogLeaf.election_id == election.id)).all()
    return [(appended - recorded).total_seconds() for recorded, appended in rows]
