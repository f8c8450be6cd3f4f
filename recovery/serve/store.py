"""The clinic's database and what the clinic does with it.

Tables (see `migrations` for their history): users and API keys (kept only as hashes), plans
(known by the clinic's `plan_id`, never by a name), revisions (each change is one: who, when,
what, the plan's options, the protocol's id, version and content hash, and, for the current
revision only, the calendar made for it, gzip-compressed (44 KB become about 9 KB; a feed is
never rebuilt per request and is sent compressed as it is stored to every client that takes
gzip). A revision that a later one replaced keeps what made it (the choices and the protocol
snapshot's hash, `protocol_snapshots`), not its calendar: only the current calendar is ever
served, and the next revision is written over it (`--update` semantics). Feed tokens (only their SHA-256; at
least 128 random bits each, so a fast hash is safe and a slow one would only slow every feed),
and an audit log.

Every action takes the one who acts ("user:ana@clinic.example", "api:EHR") and runs in one
transaction: it either happens whole, with its revision and audit entry, or not at all. The
calendar of a revision is the one `generate --update` would write over the revision before it:
the same events, a SEQUENCE one higher where something changed, cancellations for what went away.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import secrets
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from recovery.errors import (
    ConflictError,
    GoneError,
    InputError,
    NotFoundError,
    PlanError,
    Problem,
    ProtocolError,
    RecoveryError,
    TooManyAttemptsError,
)
from recovery.protocol.loader import MAX_FILE_BYTES, is_path, load, search_folders
from recovery.protocol.model import Protocol
from recovery.protocol.timeexpr import ID_PATTERN
from recovery.schedule.build import build
from recovery.schedule.plan import DEFAULT_PROTOCOL, Plan
from recovery.schedule.response import MAX_CHECK_INS, CheckIn, Verdict, moved, verdict
from recovery.serve import DEFAULT_DATABASE
from recovery.writers.ics import to_ics
from recovery.writers.previous import read_written

#: The default database: a SQLite file in the current folder.
#: How often a subscribed calendar should look for changes (RFC 7986 REFRESH-INTERVAL).
REFRESH = "PT1H"
#: How long a clinician's login lasts at most (a working day), and without a request (idle).
SESSION_LIFETIME, SESSION_IDLE = timedelta(hours=12), timedelta(minutes=60)
#: How often a session's last request is written down (not at every request).
SESSION_SEEN_EVERY = timedelta(minutes=1)
#: Failed logins within LOGIN_WINDOW before more are refused for the rest of it: for one account
#: from one address; from one address for any accounts (one machine trying many); for one account
#: from anywhere (many machines trying one). Someone else guessing from elsewhere does not lock a
#: clinician out of their own account until the last, much higher, limit.
LOGIN_LIMITS, LOGIN_WINDOW = (5, 20, 100), timedelta(minutes=15)
#: How many passwords each server process checks at once: one, so that a crowd of logins takes
#: one core and ARGON2_MEMORY_KIB per process, and the feeds keep the other cores.
HASHING_AT_ONCE = 1
#: argon2id as OWASP's Password Storage Cheat Sheet gives it (19 MiB, 2 passes, 1 lane), not
#: argon2-cffi's default (64 MiB, 4 lanes): at 120 logins at once the default took the server
#: from 188 to 482 MiB and the feeds from 3,900 to 300 a second. Hashes made with other
#: parameters are still checked, and made again with these at the next login.
ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_LANES = 2, 19_456, 1
#: The threads that check passwords: always the same ones, so that argon2's memory is taken in
#: their allocator arenas and used again (checked on whichever request thread came, each thread's
#: arena kept its own 19 MiB: 120 logins took the server to 869 MiB).
_HASHING = ThreadPoolExecutor(HASHING_AT_ONCE, thread_name_prefix="password")
#: How often a revision that met another made at the same moment is tried again.
REVISE_ATTEMPTS = 20

#: How many check-ins a patient's link may send in CHECK_IN_WINDOW (a day's answers take two or
#: three; more is a script, refused before anything is written).
CHECK_IN_LIMIT, CHECK_IN_WINDOW = 20, timedelta(hours=1)
#: How many days back a check-in may be given (a clinic system catching up, a patient after midnight).
CHECK_IN_DAYS_BACK = 7
#: Who acts when a stage's rule moves a plan by itself (the protocol's `decides = "rule"`).
RULE = "rule:check-ins"

#: The plan fields the server needs besides those every plan needs: the clinic's id, by which it
#: finds a plan (`Store.create_plan` refuses a plan without it).
SERVER_NEEDS = ("plan_id",)
#: The longest plan id the server keeps (its column's width).
MAX_PLAN_ID = 100


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProtocolSnapshot(Base):
    """A protocol as a revision was made from it, once per version of its file (migration 0003)."""

    __tablename__ = "protocol_snapshots"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # of the file's bytes, as protocol_hash
    name: Mapped[str] = mapped_column(String(100))
    family: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # recovery.protocol.plain.to_data
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A clinician's login: the browser holds a random key, the server its hash (migration 0002)."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of a 256-bit key
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PlanRow(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # what URLs and the API use
    plan_id: Mapped[str] = mapped_column(String(MAX_PLAN_ID), index=True)  # the clinic's id: never a name
    protocol: Mapped[str] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer)  # the current revision's number
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # What the stage's rule said at the last look (migration 0005): an ACTION, or "" (nothing to do).
    attention: Mapped[str] = mapped_column(String(20), default="")
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class CheckInRow(Base):
    """What a patient reported on one day (migration 0005): one row per plan and day, each
    answer given later that day replacing the one before."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("plan", "day", name="one_check_in_a_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    done: Mapped[str] = mapped_column(String(10))
    pain: Mapped[int | None] = mapped_column(Integer, default=None)
    morning: Mapped[str | None] = mapped_column(String(10), default=None)
    red_flag: Mapped[str] = mapped_column(String(60), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def check_in(self) -> CheckIn:
        return CheckIn(self.day, self.done, self.pain, self.morning, self.red_flag)


class Revision(Base):
    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    who: Mapped[str] = mapped_column(String(300))
    what: Mapped[str] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)  # the plan's JSON form (Plan.to_json)
    protocol_version: Mapped[str] = mapped_column(String(100))
    protocol_hash: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))


class FeedToken(Base):
    __tablename__ = "feed_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Audit(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    who: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40), index=True)
    plan: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), default=None, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def digest(secret: str) -> str:
    """The SHA-256 of a random token or key: what is stored instead of it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def connect(url: str = DEFAULT_DATABASE) -> Engine:
    """An engine for a database URL (sqlite:///file.db, postgresql+psycopg://user@host/db)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _private_file(engine.url.database)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


def _private_file(name: str | None) -> None:
    """Make a new SQLite file readable by its owner alone (0600) before SQLite opens it: it holds
    patients' plans. SQLite gives its -wal and -shm files the same mode. An existing file is left
    as its owner made it; an in-memory database has no file."""

    if not name or name == ":memory:" or name.startswith("file:"):
        return
    with suppress(OSError):  # there already, or a folder that is not there: SQLite says what is wrong
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))


def open_store(url: str = DEFAULT_DATABASE) -> Store:
    """The store of a database URL with its migrations applied. A URL that names no database,
    or a database that cannot be reached, is an InputError naming the URL (never its password)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    shown = _shown_url(url)
    try:
        engine = connect(url)
        upgrade(engine)
    except (ArgumentError, NoSuchModuleError) as error:
        message = f"is not a database URL such as {DEFAULT_DATABASE} ({error})"
        raise InputError([Problem(message, detail=f"--database {shown}")]) from None
    except DBAPIError as error:
        why = str(error.orig).strip().splitlines()[0] if error.orig is not None else "it does not answer"
        raise InputError([Problem(f"cannot open the database: {why}", detail=f"--database {shown}")]) from None
    return Store(engine)


def _shown_url(url: str) -> str:
    """A database URL as messages show it: never its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.rpartition("@")[2]


def upgrade(engine: Engine) -> None:
    """Bring the database's tables up to date (Alembic migrations; a new database gets them all)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Made:
    """A plan as an action left it: its ids, current revision and (when one was made) a feed token."""

    public_id: str
    plan_id: str
    revision: int
    token: str | None = None


@dataclass(frozen=True)
class Feed:
    """What a feed URL serves: the current revision's validators, and its calendar when asked
    (`Store.calendar`), so that a calendar app that has it already costs one small query."""

    etag: str
    modified: datetime
    revision: int
    revision_id: int
    calendar: bytes | None = None  # gzip-compressed, read with the validators unless the request is conditional
    stages: bool = False  # its sessions link to the patient's check-in (`writers.ics.PAGE_LINK`)


# ---------------------------------------------------------------- the store


class Store:
    """The clinic's actions on one database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # The feed's two queries, built once: a calendar app polls every few minutes, and
        # building a statement costs more than running it (SQLAlchemy then reuses its compiled form).
        columns = [
            FeedToken.revoked, PlanRow.deleted, PlanRow.public_id, PlanRow.protocol,
            Revision.id, Revision.number, Revision.etag, Revision.created, Revision.protocol_hash,
        ]  # fmt: skip
        current = (
            select(*columns)
            .join(PlanRow, PlanRow.id == FeedToken.plan)
            .join(Revision, (Revision.plan == PlanRow.id) & (Revision.number == PlanRow.revision))
            .where(FeedToken.token_hash == bindparam("token_hash"))
        )
        self._feed_queries = (current, current.add_columns(Revision.calendar))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    # ---- accounts

    def add_user(self, email: str, password: str) -> None:
        email = check_user(email, password)
        with self.session() as session:
            if session.scalar(select(User).where(User.email == email)) is not None:
                raise ConflictError(f"a user {email} exists already")
            session.add(User(email=email, password_hash=_hasher().hash(password), created=now()))
            session.add(Audit(at=now(), who="command line", action="user-added", detail=email))

    def users(self) -> list[tuple[str, datetime, int]]:
        """Each clinician: address, when added, how many sessions are open."""
        with self.session() as session:
            rows = session.execute(
                select(User.email, User.created, func.count(SessionRow.id))
                .outerjoin(SessionRow, (SessionRow.user_id == User.id) & SessionRow.ended.is_(None))
                .group_by(User.id)
                .order_by(User.email)
            ).all()
            return [(email, created, count) for email, created, count in rows]

    def remove_user(self, email: str) -> None:
        """Remove a clinician: they cannot log in, and every session of theirs ends now."""
        email = email.strip().lower()
        with self.session() as session:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                raise NotFoundError(f"no user {email}")
            session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
            session.delete(user)
            session.add(Audit(at=now(), who="command line", action="user-removed", detail=email))

    def set_password(self, email: str, password: str) -> None:
        """A new password for a clinician; every session of theirs ends (a stolen cookie too)."""
        email = email.strip().lower()
        check_password(password, email)
        with self.session() as session:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                raise NotFoundError(f"no user {email}")
            user.password_hash = _hasher().hash(password)
            ended = now()
            for row in session.scalars(
                select(SessionRow).where(SessionRow.user_id == user.id, SessionRow.ended.is_(None))
            ):
                row.ended = ended
            session.add(Audit(at=ended, who="command line", action="password-changed", detail=email))

    def check_login(self, email: str, password: str, address: str = "") -> bool:
        """Whether the password is the user's. Each attempt is written down (the audit log, never
        the password) before the password is checked, so that attempts made at once count each
        other; while too many recent ones failed (LOGIN_LIMITS: for this account from this
        address, from this address for any account, for this account from anywhere) more are
        refused without trying. At most HASHING_AT_ONCE passwords are checked at a time."""
        from argon2.exceptions import InvalidHashError, VerificationError

        email, address = email.strip().lower()[:254], (address or "?")[:100]
        with self.session() as session:
            attempt = Audit(at=now(), who=address, action="login-failed", detail=email)
            session.add(attempt)
            session.flush()
            attempt_id = attempt.id
        with self.session() as session:
            since = now() - LOGIN_WINDOW
            failed = select(func.count(Audit.id)).where(Audit.action == "login-failed", Audit.at >= since)
            for limit, *where in (
                (LOGIN_LIMITS[0], Audit.detail == email, Audit.who == address),
                (LOGIN_LIMITS[1], Audit.who == address),
                (LOGIN_LIMITS[2], Audit.detail == email),
            ):
                if (session.scalar(failed.where(*where)) or 0) > limit:
                    session.execute(update(Audit).where(Audit.id == attempt_id).values(action="login-refused"))
                    raise TooManyAttemptsError()
            user = session.scalar(select(User).where(User.email == email))
        hasher = _hasher()

        def verified() -> bool:
            try:
                return (
                    user is not None
                    and len(password) <= MAX_PASSWORD
                    and bool(hasher.verify(user.password_hash, password))
                )
            except (VerificationError, InvalidHashError):
                return False
            finally:
                if user is None:  # spend the same time as for a real user
                    with suppress(VerificationError, InvalidHashError):
                        hasher.verify(_dummy_hash(), password[:MAX_PASSWORD])

        ok = _HASHING.submit(verified).result()
        if ok:
            assert user is not None
            with self.session() as session:
                session.execute(update(Audit).where(Audit.id == attempt_id).values(action="login"))
                if hasher.check_needs_rehash(user.password_hash):  # made with other parameters
                    rehashed = hasher.hash(password)
                    session.execute(update(User).where(User.id == user.id).values(password_hash=rehashed))
        return ok

    # ---- sessions

    def start_session(self, email: str) -> str:
        """A new session for a user who has just logged in: the key for the browser's cookie."""
        key = secrets.token_urlsafe(32)
        with self.session() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise NotFoundError("no such user")
            moment = now()
            session.add(SessionRow(key_hash=digest(key), user_id=user.id, created=moment, seen=moment))
        return key

    def session_user(self, key: str) -> str | None:
        """The e-mail address of the user a session key belongs to, or None: an unknown or ended
        key, a session older than SESSION_LIFETIME or idle for SESSION_IDLE, a removed user."""
        if not key:
            return None
        with self.session() as session:
            found = session.execute(
                select(SessionRow, User)
                .join(User, User.id == SessionRow.user_id)
                .where(SessionRow.key_hash == digest(key), SessionRow.ended.is_(None))
            ).first()
            if found is None:
                return None
            row, user = found
            moment = now()
            if _aware(row.created) < moment - SESSION_LIFETIME or _aware(row.seen) < moment - SESSION_IDLE:
                row.ended = moment
                return None
            if _aware(row.seen) < moment - SESSION_SEEN_EVERY:
                row.seen = moment
            return user.email

    def end_session(self, key: str) -> None:
        """Log out: the key no longer works, wherever a copy of the cookie is."""
        with self.session() as session:
            row = session.scalar(select(SessionRow).where(SessionRow.key_hash == digest(key)))
            if row is not None and row.ended is None:
                row.ended = now()

    def add_api_key(self, name: str) -> str:
        """A new API key (printed once; only its hash is kept)."""
        check_key_name(name)
        key = "rk_" + secrets.token_urlsafe(32)
        with self.session() as session:
            if session.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
                raise ConflictError(f"an API key named {name} exists already")
            session.add(ApiKey(name=name, key_hash=digest(key), created=now()))
            session.add(Audit(at=now(), who="command line", action="api-key-added", detail=name))
        return key

    def api_keys(self) -> list[tuple[str, datetime, datetime | None]]:
        """Each API key: name, when made, when revoked (None: in use). The keys themselves are not kept."""
        with self.session() as session:
            rows = session.execute(select(ApiKey.name, ApiKey.created, ApiKey.revoked).order_by(ApiKey.name)).all()
            return [(name, created, revoked) for name, created, revoked in rows]

    def revoke_api_key(self, name: str) -> None:
        """The key named so stops working now."""
        with self.session() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.name == name))
            if key is None:
                raise NotFoundError(f"no API key named {name}")
            if key.revoked is None:
                key.revoked = now()
            session.add(Audit(at=now(), who="command line", action="api-key-revoked", detail=name))

    def rotate_api_key(self, name: str) -> str:
        """A new key under the same name (printed once); the old one stops working now."""
        key = "rk_" + secrets.token_urlsafe(32)
        with self.session() as session:
            found = session.scalar(select(ApiKey).where(ApiKey.name == name))
            if found is None:
                raise NotFoundError(f"no API key named {name}")
            found.key_hash, found.revoked = digest(key), None
            session.add(Audit(at=now(), who="command line", action="api-key-rotated", detail=name))
        return key

    def api_caller(self, key: str) -> str | None:
        """Who an API key belongs to ("api:NAME"), or None for an unknown or revoked key."""
        with self.session() as session:
            found = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key), ApiKey.revoked.is_(None)))
            return f"api:{found.name}" if found is not None else None

    # ---- plans

    def create_plan(self, data: dict[str, Any], who: str) -> Made:
        """A new plan from the plan schema's JSON form (plus `protocol`), its first revision and
        feed token; a PlanError names each bad field as the command line would."""
        data = dict(data)
        protocol_name = str(data.pop("protocol", None) or DEFAULT_PROTOCOL)
        protocol = protocol_named(protocol_name)
        plan = Plan.from_json(data)
        if not plan.plan_id:  # SERVER_NEEDS
            raise PlanError([Problem("missing: the clinic's id for this plan (never a name)", field="plan_id")])
        if len(plan.plan_id) > MAX_PLAN_ID:
            raise PlanError([Problem(f"is longer than {MAX_PLAN_ID} characters", field="plan_id")])
        calendar = _calendar(protocol, plan, previous=None)
        with self.session() as session:
            taken = session.scalar(select(PlanRow).where(PlanRow.plan_id == plan.plan_id, PlanRow.deleted.is_(None)))
            if taken is not None:
                raise ConflictError(f'plan_id "{plan.plan_id}" is in use by another plan', field="plan_id")
            row = PlanRow(
                public_id=secrets.token_hex(8),
                plan_id=plan.plan_id,
                protocol=protocol_name,
                revision=1,
                created=now(),
            )
            session.add(row)
            session.flush()
            _keep_snapshot(session, protocol_hash(protocol), row.protocol, protocol)
            session.add(_revision(row, 1, who, "plan made", plan, protocol, calendar))
            token = _new_token(session, row)
            session.add(Audit(at=now(), who=who, action="plan-created", plan=row.id, detail=row.plan_id))
            made = Made(row.public_id, row.plan_id, 1, token)
        self._judged(protocol, made.public_id, plan.to_json())
        return made

    def _judged(self, protocol: Protocol, public_id: str, options: dict[str, Any]) -> None:
        """The plan's verdict kept up to date after a change, where its protocol has stages."""
        if protocol.has_stages:
            self.judge(public_id, plan_today(options))

    def plan(self, public_id: str) -> tuple[PlanRow, Revision]:
        """A live plan and its current revision (NotFoundError, or GoneError when deleted); a plan
        whose protocol file changed since gets its new revision first (`_follow`)."""
        with self.session() as session:
            row = _live(session, public_id)
            revision = _current(session, row)
        if self._moved(row.protocol, revision.protocol_hash) and self._follow(public_id) is not None:
            return self.plan(public_id)
        return row, revision

    def plans(self, search: str = "", limit: int = 100, attention: str = "") -> list[PlanRow]:
        """Live plans, newest first; `search` finds a plan_id that starts with it, `attention` the
        plans whose stage's rule said that at the last look (an ACTION)."""
        with self.session() as session:
            query = select(PlanRow).where(PlanRow.deleted.is_(None))
            if attention:
                query = query.where(PlanRow.attention == attention)
            if search:
                escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                query = query.where(PlanRow.plan_id.like(f"{escaped}%", escape="\\"))
            return list(session.scalars(query.order_by(PlanRow.created.desc(), PlanRow.id.desc()).limit(limit)))

    def history(self, public_id: str) -> tuple[list[Revision], list[Audit]]:
        with self.session() as session:
            row = session.scalar(select(PlanRow).where(PlanRow.public_id == public_id))
            if row is None:
                raise NotFoundError()
            revisions = list(
                session.scalars(select(Revision).where(Revision.plan == row.id).order_by(Revision.number.desc()))
            )
            audit = list(session.scalars(select(Audit).where(Audit.plan == row.id).order_by(Audit.id.desc())))
            return revisions, audit

    def record(self, public_id: str, milestone: str, day: date | str, who: str, confirm: bool = False) -> Made:
        """Record the day a milestone or clearance really happened: a new revision, whose
        calendar moves everything that depends on it."""

        def change(options: dict[str, Any]) -> str:
            options["actual"] = {**(options.get("actual") or {}), milestone: str(day)}
            if confirm:
                options["confirm"] = sorted({*(options.get("confirm") or []), milestone})
            return f"{milestone} recorded on {day}"

        made = self._revise(public_id, who, change)
        row, revision = self.plan(public_id)
        self._judged(self.protocol_of(revision, row.protocol), public_id, revision.options)
        return made

    # ---- check-ins and the stage's rule

    def check_in(
        self,
        answers: dict[str, Any],
        *,
        token: str = "",
        public_id: str = "",
        day: date | None = None,
        who: str = "patient",
    ) -> tuple[Verdict, Made | None]:
        """A patient's answers for a day (by default today in the plan's time zone), through their
        link (`token`) or a clinic system (`public_id`): merged into the day's check-in (an answer
        given again replaces the one before; a warning sign, once given, stays), then what the
        stage's rule says (`judge`). A PlanError names a bad answer; TooManyAttemptsError when the
        plan had more than CHECK_IN_LIMIT check-ins in CHECK_IN_WINDOW (nothing is written then)."""
        from sqlalchemy.exc import IntegrityError

        row, revision = self.plan_for_token(token) if token else self.plan(public_id)
        today = plan_today(revision.options)
        day = day or today
        if day > today or day < today - timedelta(CHECK_IN_DAYS_BACK):
            raise PlanError([Problem(f"should be today or one of the {CHECK_IN_DAYS_BACK} days before", field="day")])
        flags = len(self.protocol_of(revision, row.protocol).red_flags)  # the page lists them in this order
        flag = str(answers.get("red_flag") or "").strip()
        if flag and not (flag.isdigit() and 1 <= int(flag) <= flags):
            raise PlanError([Problem(f"should be a warning sign's number, 1 to {flags}", field="red_flag")])
        for attempt in range(2):  # two answers of one day at once: the second finds the first's row
            try:
                self._write_check_in(row.id, answers, day, who)
                break
            except IntegrityError:
                if attempt:
                    raise ConflictError("two check-ins arrived at the same moment; send it again") from None
        return self.judge(row.public_id, today)

    def _write_check_in(self, plan: int, answers: dict[str, Any], today: date, who: str) -> None:
        with self.session() as session:
            since = now() - CHECK_IN_WINDOW
            sent = select(func.count(Audit.id)).where(Audit.plan == plan, Audit.action == "check-in", Audit.at >= since)
            if (session.scalar(sent) or 0) >= CHECK_IN_LIMIT:
                raise TooManyAttemptsError("too many check-ins in the last hour: try again later")
            kept = session.scalar(select(CheckInRow).where(CheckInRow.plan == plan, CheckInRow.day == today))
            merged: dict[str, Any] = (
                {"done": kept.done, "pain": kept.pain, "morning": kept.morning, "red_flag": kept.red_flag}
                if kept
                else {}
            )
            given = {
                key: answers[key]
                for key in ("done", "pain", "morning", "red_flag")
                if answers.get(key) not in (None, "")
            }
            if not given:
                raise PlanError([Problem("missing: at least one answer", field="done")])
            if "done" in given:
                merged.pop("pain", None)  # the pain goes with the answer about the exercises
            merged |= given
            if kept is not None and kept.red_flag and not given.get("red_flag"):
                merged["red_flag"] = kept.red_flag
            if not merged.get("done"):
                merged["done"] = "no" if merged.get("pain") in (None, "") else ""
            checked = CheckIn.of({**merged, "day": today})
            if kept is None:
                kept = CheckInRow(plan=plan, day=today, done=checked.done, at=now())
                session.add(kept)
            kept.done, kept.pain, kept.morning, kept.red_flag = (
                checked.done,
                checked.pain,
                checked.morning,
                checked.red_flag,
            )
            kept.at = now()
            answered = ", ".join(sorted(given))
            session.add(Audit(at=now(), who=who, action="check-in", plan=plan, detail=f"{today}: {answered}"))

    def check_in_on(self, plan: int, day: date) -> CheckIn | None:
        """A plan's check-in of one day, if the patient gave one."""
        with self.session() as session:
            found = session.scalar(select(CheckInRow).where(CheckInRow.plan == plan, CheckInRow.day == day))
            return found.check_in() if found is not None else None

    def check_ins(self, public_id: str) -> list[CheckIn]:
        """A plan's check-ins, oldest first (the latest MAX_CHECK_INS)."""
        with self.session() as session:
            row = _live(session, public_id)
            return _check_ins(session, row.id)

    def judge(self, public_id: str, today: date) -> tuple[Verdict, Made | None]:
        """What the stage's rule says of a plan today, kept on the plan for the clinic's list; where
        the protocol lets the rule decide an advance, the new revision it makes (else None). A step
        back, a review and a red flag always wait for a clinician."""
        row, revision = self.plan(public_id)
        with self.session() as session:
            check_ins = _check_ins(session, row.id)
        schedule = build(self.protocol_of(revision, row.protocol), Plan.from_json(revision.options))
        said = verdict(schedule, check_ins, today)
        made = None
        if said.action == "advance" and not said.proposes:
            with suppress(_StaleError):
                made = self._revise(
                    public_id, RULE, _acting(row.protocol, check_ins, today, ("advance", said.to), by_rule=True)
                )
            if made is not None:
                return self.judge(public_id, today)
        with self.session() as session:
            session.execute(
                update(PlanRow)
                .where(PlanRow.id == row.id)
                .values(attention=_attention(said), verdict=verdict_json(said, today))
            )
        return said, made

    def decide(self, public_id: str, action: str, stage: str, who: str, today: date) -> Made:
        """A clinician confirms what the rule proposes (`action` "advance" or "step-back" of
        `stage`, as the clinician saw it): a new revision, if the check-ins still say so today
        (ConflictError otherwise: the page was old)."""
        if action not in ("advance", "step-back"):
            raise PlanError([Problem('should be "advance" or "step-back"', field="action")])
        with self.session() as session:
            row = _live(session, public_id)
            check_ins = _check_ins(session, row.id)
        try:
            made = self._revise(public_id, who, _acting(row.protocol, check_ins, today, (action, stage), by_rule=False))
        except _StaleError as stale:
            now_said = f"{stale.said.action}" + (f" ({'; '.join(stale.said.reasons)})" if stale.said.reasons else "")
            raise ConflictError(
                f"the check-ins no longer say {action} {stage}: they say {now_said}", field="action"
            ) from None
        self.judge(public_id, today)
        return made

    def _revise(self, public_id: str, who: str, change: Any, unless_hash: str = "") -> Made:
        """One new revision made by `change` (which edits the plan's options and says what it
        did). Two changes at once both land, one after the other: PostgreSQL locks the plan's
        row; SQLite cannot, so the one that finds its revision number taken starts again from
        the revision that took it."""
        from sqlalchemy.exc import IntegrityError

        for _ in range(REVISE_ATTEMPTS - 1):
            try:
                return self._revise_once(public_id, who, change, unless_hash)
            except IntegrityError:
                continue
        try:
            return self._revise_once(public_id, who, change, unless_hash)
        except IntegrityError:
            raise ConflictError("the plan was changed by someone else at the same moment; try again") from None

    def _revise_once(self, public_id: str, who: str, change: Any, unless_hash: str = "") -> Made:
        with self.session() as session:
            row = _live(session, public_id, lock=True)
            current = _current(session, row)
            if unless_hash and current.protocol_hash == unless_hash:  # another request followed it first
                return Made(row.public_id, row.plan_id, row.revision)
            options = json.loads(json.dumps(current.options))
            what = change(options)
            protocol = protocol_named(row.protocol)
            plan = Plan.from_json(options)
            calendar = _calendar(protocol, plan, previous=unpacked(current.calendar))
            current.calendar = b""  # replaced: only the current revision's calendar is served
            row.revision += 1
            _keep_snapshot(session, protocol_hash(protocol), row.protocol, protocol)
            session.add(_revision(row, row.revision, who, what, plan, protocol, calendar))
            session.add(Audit(at=now(), who=who, action="plan-revised", plan=row.id, detail=what))
            return Made(row.public_id, row.plan_id, row.revision)

    def refresh_protocols(self, who: str = "server") -> list[Made]:
        """A new revision for every live plan whose protocol file changed since its current
        revision (another version, or the same version edited): a changed protocol is never a
        silent change. A plan the changed protocol can no longer lay out keeps its revision and
        is reported in the audit log."""
        hashes: dict[str, str | None] = {}
        with self.session() as session:
            rows = list(session.execute(
                select(PlanRow.public_id, PlanRow.protocol, Revision.protocol_hash, Revision.protocol_version)
                .join(Revision, (Revision.plan == PlanRow.id) & (Revision.number == PlanRow.revision))
                .where(PlanRow.deleted.is_(None))
            ))  # fmt: skip
        made = []
        for public_id, name, stored_hash, _ in rows:
            if name not in hashes:
                try:
                    hashes[name] = protocol_hash(protocol_named(name))
                except RecoveryError:
                    hashes[name] = None
            if hashes[name] is not None and hashes[name] != stored_hash:
                followed = self._follow(public_id, who)
                if followed is not None:
                    made.append(followed)
        return made

    def _follow(self, public_id: str, who: str = "server") -> Made | None:
        """A new revision of a plan from its protocol file as it is now, if the file changed since
        the plan's current revision; None when it did not, or when the new file cannot lay the
        plan out (the plan keeps its revision; the refusal is audited once per file version)."""
        with self.session() as session:
            row = _live(session, public_id)
            name, current = row.protocol, _current(session, row)
            stored_hash, stored_version = current.protocol_hash, current.protocol_version
        try:
            protocol = protocol_named(name)
        except RecoveryError:
            return None
        hashed = protocol_hash(protocol)
        if hashed == stored_hash or (public_id, hashed) in _REFUSED:
            return None
        if stored_version == protocol.version:
            what = f"protocol {name} {protocol.version} changed (same version, new content)"
        else:
            what = f"protocol {name} changed from version {stored_version} to {protocol.version}"
        try:
            return self._revise(public_id, who, lambda options: what, unless_hash=hashed)
        except (ProtocolError, PlanError) as error:
            _REFUSED.add((public_id, hashed))
            with self.session() as session:
                row = _live(session, public_id)
                detail = "; ".join(p.shown() for p in error.problems)[:2000]
                session.add(Audit(at=now(), who=who, action="protocol-refused", plan=row.id, detail=detail))
            return None

    def protocol_of(self, revision: Revision, name: str) -> Protocol:
        """The protocol a revision was made from, rebuilt from its snapshot: every page, handout
        and feed of one revision agrees, whatever the file on disk says now. A revision made
        before snapshots were kept has only the file."""
        return self._protocol_by_hash(revision.protocol_hash, name)

    def _protocol_by_hash(self, hashed: str, name: str) -> Protocol:
        known = _SNAPSHOTS.get(hashed)
        if known is not None:
            return known
        with self.session() as session:
            snapshot = session.get(ProtocolSnapshot, hashed)
            kept = (snapshot.data, snapshot.family) if snapshot is not None else None
        if kept is None:
            return protocol_named(name)
        from recovery.protocol import plain
        from recovery.protocol.model import located

        rebuilt = located(plain.from_data(Protocol, kept[0]), f"{name}.toml", {}, kept[1])
        return _SNAPSHOTS.setdefault(hashed, rebuilt)

    def rotate_token(self, public_id: str, who: str) -> Made:
        """A new feed token; every older one of the plan stops working."""
        with self.session() as session:
            row = _live(session, public_id)
            _revoke_tokens(session, row)
            token = _new_token(session, row)
            session.add(Audit(at=now(), who=who, action="feed-rotated", plan=row.id))
            return Made(row.public_id, row.plan_id, row.revision, token)

    def revoke_tokens(self, public_id: str, who: str) -> None:
        with self.session() as session:
            row = _live(session, public_id)
            _revoke_tokens(session, row)
            session.add(Audit(at=now(), who=who, action="feed-revoked", plan=row.id))

    def delete_plan(self, public_id: str, who: str) -> None:
        """Delete a plan: its feed and page answer 410 from now on (a calendar app then stops
        asking; the links' hashes stay for that), and everything it said about the patient is
        erased for good: the clinic's plan id, the protocol, each revision's choices, calendar and
        words, each audit entry's detail. What remains is who did what, and when."""
        with self.session() as session:
            row = _live(session, public_id)
            row.deleted = now()
            row.plan_id, row.protocol = "", ""
            for revision in session.scalars(select(Revision).where(Revision.plan == row.id)):
                revision.calendar, revision.options, revision.what = b"", {}, ""
                revision.protocol_version, revision.protocol_hash = "", ""
            session.execute(update(Audit).where(Audit.plan == row.id).values(detail=""))
            session.add(Audit(at=now(), who=who, action="plan-deleted", plan=row.id))

    def feed(self, token: str, with_calendar: bool = True) -> Feed:
        """What a feed token serves (NotFoundError for an unknown or revoked token, GoneError for
        a deleted plan): one indexed query for the current revision's validators, without its
        calendar unless `with_calendar` (a 304 needs nothing else); a plan whose protocol file
        changed follows it first."""
        with self.engine.connect() as connection:  # one read: no ORM session, no transaction to commit
            found = connection.execute(self._feed_queries[with_calendar], {"token_hash": digest(token)}).first()
        if found is None or found.revoked is not None:
            raise NotFoundError()
        if found.deleted is not None:
            raise GoneError()
        if self._moved(found.protocol, found.protocol_hash) and self._follow(found.public_id) is not None:
            return self.feed(token, with_calendar)
        modified = _aware(found.created)
        stages = self._has_stages(found.protocol_hash, found.protocol)
        return Feed(found.etag, modified, found.number, found.id, found.calendar if with_calendar else None, stages)

    def _has_stages(self, hashed: str, name: str) -> bool:
        """Whether the protocol a revision was made from has stages (its feed then links each
        session to the patient's check-in); known once per protocol version in each process."""
        known = _STAGES.get(hashed)
        if known is None:
            known = _STAGES[hashed] = self._protocol_by_hash(hashed, name).has_stages
        return known

    def calendar(self, feed: Feed) -> bytes:
        """The calendar a feed's revision was made with, gzip-compressed as it is stored
        (`unpacked` gives the text)."""
        if feed.calendar is not None:
            return feed.calendar
        with self.session() as session:
            calendar = session.scalar(select(Revision.calendar).where(Revision.id == feed.revision_id))
        return calendar or b""

    def plan_for_token(self, token: str) -> tuple[PlanRow, Revision]:
        """The plan and current revision behind a patient's link: one indexed lookup."""
        with self.session() as session:
            found = session.execute(
                select(PlanRow, FeedToken.revoked)
                .join(FeedToken, FeedToken.plan == PlanRow.id)
                .where(FeedToken.token_hash == digest(token))
            ).first()
            if found is None or found[1] is not None:
                raise NotFoundError()
            if found[0].deleted is not None:
                raise GoneError()
            row, revision = found[0], _current(session, found[0])
        if self._moved(row.protocol, revision.protocol_hash) and self._follow(row.public_id) is not None:
            return self.plan_for_token(token)
        return row, revision

    def _moved(self, name: str, made_from: str) -> bool:
        """Whether protocol `name`'s file changed since a revision was made from the version with
        digest `made_from` (a look at the file)."""
        try:
            return protocol_hash(protocol_named(name)) != made_from
        except RecoveryError:
            return False


def _aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC one (SQLite gives back naive times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: The shortest and longest password a clinician may have, and how hard to guess it must be:
#: zxcvbn's score, 0 to 4, where 3 is "safely unguessable" by an attacker who has the hashes.
MIN_PASSWORD, MAX_PASSWORD, MIN_STRENGTH = 12, 1024, 3


def check_user(email: str, password: str) -> str:
    """The address as stored (lower case), or an InputError for an address or password not allowed."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InputError([Problem("is not an email address", field="email", detail=email)])
    check_password(password, email)
    return email


def check_password(password: str, email: str) -> None:
    """An InputError for a password that is too short, too long or too easy to guess (zxcvbn, which
    knows common passwords, words, names, keyboard patterns and dates, and the user's address)."""
    if len(password) < MIN_PASSWORD:
        raise InputError([Problem(f"is too short: use at least {MIN_PASSWORD} characters", field="password")])
    if len(password) > MAX_PASSWORD:
        raise InputError([Problem(f"is longer than {MAX_PASSWORD:,} characters", field="password")])
    from zxcvbn import zxcvbn

    judged = zxcvbn(password[:100], user_inputs=[email, *re.split(r"[@.+_-]", email)])
    if judged["score"] < MIN_STRENGTH:
        feedback = judged["feedback"]
        why = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise InputError([Problem(f"is too easy to guess. {why}".strip(), field="password")])


def check_key_name(name: str) -> None:
    """An InputError for an API key's name that its column cannot hold or a log cannot show."""
    if not 1 <= len(name) <= 100 or not name.isprintable():
        message = "an API key's name is 1 to 100 printable characters"
        raise InputError([Problem(message, field="name", detail=name[:100])])


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked for an unknown address so it takes as long as a real one."""
    hashed: str = _hasher().hash(secrets.token_hex(16))
    return hashed


@cache
def _hasher() -> Any:
    """The password hasher (argon2id with the ARGON2_ parameters), made once."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES)


@dataclass(frozen=True)
class _Validated:
    """A protocol file as this process validated it: what the file looked like then (inode, size,
    modification time; a file that looks the same is not read again), a digest of its bytes,
    the protocol."""

    looks: tuple[int, int, int]
    digest: str
    protocol: Protocol


#: Each protocol file as validated once by this process, by its path.
_VALIDATED: dict[str, _Validated] = {}
#: A protocol name's file, and when it was last looked at (time.monotonic): it is looked at again
#: after LOOK_AGAIN_SECONDS, so that an edited file is followed within that time, and a busy
#: feed does not look at the disk on every request.
_FOUND: dict[str, tuple[Path, float]] = {}
LOOK_AGAIN_SECONDS = 1.0


def protocol_named(name: str) -> Protocol:
    """A protocol by name only, from the server's own protocol folders (the bundled ones and
    $RECOVERY_PROTOCOLS): a client never names a file path. A name that is not a protocol name,
    or that no file in those folders has, is refused before any file is read. Each version of a
    file (its bytes) is validated once per process."""
    import time

    if is_path(name) or not re.fullmatch(ID_PATTERN, name):
        raise PlanError(
            [Problem("is not a protocol name such as proximal-hamstring-repair", field="protocol", detail=name)]
        )
    found = _FOUND.get(name)
    if found is not None and time.monotonic() - found[1] < LOOK_AGAIN_SECONDS and str(found[0]) in _VALIDATED:
        return _VALIDATED[str(found[0])].protocol
    path = next((f / f"{name}.toml" for f in search_folders() if (f / f"{name}.toml").is_file()), None)
    if path is None:
        raise PlanError([Problem("is not one of this server's protocols", field="protocol", detail=name)])
    _FOUND[name] = (path, time.monotonic())
    info = path.stat()
    looks = (info.st_ino, info.st_size, info.st_mtime_ns)
    known = _VALIDATED.get(str(path))
    if known is None or known.looks != looks:
        with path.open("rb") as handle:  # the loader refuses a file over MAX_FILE_BYTES
            digest_of_file = hashlib.sha256(handle.read(MAX_FILE_BYTES + 1)).hexdigest()
        protocol = known.protocol if known is not None and known.digest == digest_of_file else load(path)
        known = _VALIDATED[str(path)] = _Validated(looks, digest_of_file, protocol)
    return known.protocol


def protocol_hash(protocol: Protocol) -> str:
    """The SHA-256 of the protocol's file as it was when this protocol was read from it (a changed
    file shows as a new revision's hash)."""
    known = _VALIDATED.get(protocol.source)
    if known is not None and known.protocol is protocol:
        return known.digest
    return hashlib.sha256(Path(protocol.source).read_bytes()).hexdigest()


#: (plan, file version) pairs that version of the file could not lay out: not tried again.
_REFUSED: set[tuple[str, str]] = set()
#: The protocols of revisions, rebuilt from their snapshots: hash → protocol (each is immutable).
_SNAPSHOTS: dict[str, Protocol] = {}
#: Whether each protocol version (by its content hash) has stages: read at every feed request.
_STAGES: dict[str, bool] = {}


def _keep_snapshot(session: Session, hashed: str, name: str, protocol: Protocol) -> None:
    """Keep the protocol a revision is made from, once per version (another process may be
    keeping the same one at the same moment: then its row is the one kept)."""
    from sqlalchemy.exc import IntegrityError

    from recovery.protocol import plain

    if session.get(ProtocolSnapshot, hashed) is not None:
        return
    with suppress(IntegrityError), session.begin_nested():
        session.add(
            ProtocolSnapshot(
                hash=hashed, name=name, family=protocol.family, data=plain.to_data(protocol), created=now()
            )
        )
    _SNAPSHOTS.setdefault(hashed, protocol)


def _calendar(protocol: Protocol, plan: Plan, previous: bytes | None) -> bytes:
    schedule = build(protocol, plan)
    before = read_written(previous) if previous else None  # its own calendar: no icalendar needed
    calendar = to_ics(schedule, stamp=now(), previous=before, options=False, page=True)  # the choices stay here
    head, _, rest = calendar.partition(b"METHOD:PUBLISH\r\n")
    lines = f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}\r\nX-PUBLISHED-TTL:{REFRESH}\r\n".encode()
    return head + b"METHOD:PUBLISH\r\n" + lines + rest


#: The most a stored calendar may unpack to: a plan's is about 44 KB, a long one a few hundred.
MAX_CALENDAR = 8 * 1024 * 1024


def packed(calendar: bytes) -> bytes:
    """A calendar as it is stored and sent: gzip, with no file time (the same bytes every time)."""
    return gzip.compress(calendar, compresslevel=6, mtime=0)


def unpacked(stored: bytes) -> bytes:
    """A stored calendar's text (one stored before compression is returned as it is); bounded,
    so that a corrupted or planted row cannot unpack to more than MAX_CALENDAR."""
    if not stored.startswith(b"\x1f\x8b"):
        return stored
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    calendar = inflater.decompress(stored, MAX_CALENDAR + 1)
    if len(calendar) > MAX_CALENDAR:
        raise ValueError(f"a stored calendar unpacks to more than {MAX_CALENDAR:,} bytes")
    return calendar


def _revision(
    row: PlanRow, number: int, who: str, what: str, plan: Plan, protocol: Protocol, calendar: bytes
) -> Revision:
    return Revision(
        plan=row.id,
        number=number,
        created=now(),
        who=who,
        what=what,
        options=plan.to_json(),
        protocol_version=protocol.version,
        protocol_hash=protocol_hash(protocol),
        calendar=packed(calendar),
        etag='"' + hashlib.sha256(calendar).hexdigest()[:32] + '"',
    )


def _current(session: Session, row: PlanRow) -> Revision:
    found = session.scalar(select(Revision).where(Revision.plan == row.id, Revision.number == row.revision))
    assert found is not None
    return found


def _live(session: Session, public_id: str, lock: bool = False) -> PlanRow:
    """A plan that is not deleted (NotFoundError, GoneError); `lock` holds its row (PostgreSQL)
    until the session ends."""
    query = select(PlanRow).where(PlanRow.public_id == public_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFoundError()
    if row.deleted is not None:
        raise GoneError()
    return row


def _new_token(session: Session, row: PlanRow) -> str:
    token = secrets.token_urlsafe(24)  # 192 random bits
    session.add(FeedToken(plan=row.id, token_hash=digest(token), created=now()))
    return token


def _revoke_tokens(session: Session, row: PlanRow) -> None:
    for token in session.scalars(select(FeedToken).where(FeedToken.plan == row.id, FeedToken.revoked.is_(None))):
        token.revoked = now()


# ---------------------------------------------------------------- check-ins


class _StaleError(Exception):
    """What the rule says in the plan's latest revision is not what was to be done."""

    def __init__(self, said: Verdict):
        self.said = said


def _acting(protocol: str, check_ins: list[CheckIn], today: date, expected: tuple[str, str], by_rule: bool) -> Any:
    """A revision's change that does what the rule says, worked out again from the plan as its
    latest revision has it (under the plan's lock): `_StaleError` when that is not `expected`."""

    def change(options: dict[str, Any]) -> str:
        plan = Plan.from_json(options)
        schedule = build(protocol_named(protocol), plan)
        said = verdict(schedule, check_ins, today)
        if (said.action, said.to) != expected or (by_rule and said.proposes):
            raise _StaleError(said)
        options.clear()
        options.update(moved(plan, schedule, said, today).to_json())
        how = "by the protocol's rule" if by_rule else "confirmed"
        if said.action == "advance":
            title = next((day.title for day in schedule.milestones if day.id == said.to), said.to)
            return f"{said.to} recorded on {today}: {title} ({'; '.join(said.reasons)}; {how})"
        return f"back to the stage before {said.to} on {today} ({'; '.join(said.reasons)}; {how})"

    return change


def _check_ins(session: Session, plan: int) -> list[CheckIn]:
    latest = select(CheckInRow).where(CheckInRow.plan == plan).order_by(CheckInRow.day.desc()).limit(MAX_CHECK_INS)
    return [row.check_in() for row in reversed(list(session.scalars(latest)))]


def _attention(said: Verdict) -> str:
    """What the clinic's list shows of a verdict: "" for a plan without stages to judge."""
    return "" if said.action == "none" else said.action


def verdict_json(said: Verdict, today: date) -> dict[str, Any]:
    return {
        "day": today.isoformat(),
        "action": said.action,
        "stage": said.stage,
        "to": said.to,
        "proposes": said.proposes,
        "reasons": list(said.reasons),
        "met": said.met,
        "looked_at": said.looked_at,
        "red_flag": said.red_flag,
    }


def plan_today(options: dict[str, Any]) -> date:
    """Today in the plan's time zone: the day a patient's check-in is about."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(str(options.get("timezone") or "UTC"))).date()
