"""Users, API tokens and sharing groups: who a caller is, and which groups its agency is in.

A token is ``sw_<43 url-safe characters>`` (256 random bits). Only its SHA-256 is stored: a
secret shown once, unrecoverable from the database, compared by hash look-up. With 256 bits of
entropy a fast hash is the right one (a slow password hash protects guessable secrets, not these).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from scamwall.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound
from scamwall.exchange.policy import Caller, Role
from scamwall.store.records import Agency
from scamwall.store.repository import Store
from scamwall.store.schema import (
    agencies,
    group_members,
    id_set,
    read_id_set,
    sharing_groups,
    tokens,
    users,
)
from scamwall.validation import clean_text

__all__ = [
    "MAX_TOKEN_DAYS",
    "MAX_TOKEN_ID",
    "TOKEN_PREFIX",
    "Access",
    "IssuedToken",
    "SharingGroup",
    "TokenInfo",
    "User",
    "group_key",
]

TOKEN_PREFIX = "sw_"  # noqa: S105 - a prefix, not a secret
#: Tries of a group's creation that lost a race to another creation of the same name.
_GROUP_ATTEMPTS = 3
#: The longest :func:`group_key` (``sharing_groups.name_folded``).
_GROUP_KEY_LENGTH = 300
#: The largest token id: ``tokens.id`` is a 32-bit INTEGER on PostgreSQL.
MAX_TOKEN_ID = 2**31 - 1
#: The longest a token may live, in days (ten years).
MAX_TOKEN_DAYS = 3650

# Built once: authentication runs on every request.
_TOKEN_HOLDER = (
    select(
        tokens.c.expires_at,
        tokens.c.revoked_at,
        users.c.id,
        users.c.name,
        users.c.role,
        users.c.disabled_at,
        agencies.c.id.label("agency_id"),
        agencies.c.code,
        id_set(group_members.c.group_id, group_members.c.agency_id == agencies.c.id, "group_ids"),
    )
    .join(users, users.c.id == tokens.c.user_id)
    .join(agencies, agencies.c.id == users.c.agency_id)
    .where(tokens.c.secret_sha256 == bindparam("digest"))
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def group_key(name: str) -> str:
    """A sharing group's name as names are compared: spacing collapsed, compatibility forms
    unified (NFKC: a full-width "ＯＰＳ" is "OPS") and case folded (casefold: "Straße" is
    "STRASSE", which lower() would keep apart). Stored as ``sharing_groups.name_folded``, so
    changing it needs a migration that recomputes the column."""
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def _user_name(name: str) -> str:
    """A new user's name, lower-cased, or :class:`InvalidInput` saying what a name may be."""
    clean = name.strip().lower()
    # ASCII only: a name in look-alike letters of another script (Cyrillic "а" for Latin
    # "a") would be a second user that reads, on a RED sighting, like the first
    if not 2 <= len(clean) <= 64 or not all(
        ch.isascii() and (ch.isalnum() or ch in "-_.@") for ch in clean
    ):
        raise InvalidInput(
            f"user name {name!r} must be 2-64 ASCII letters, digits or -_.@", field="name"
        )
    return clean


def _expiry(expires_in: timedelta | None, now: datetime) -> datetime | None:
    """When a token issued ``now`` expires, or :class:`InvalidInput` for a lifetime too long."""
    if expires_in is None:
        return None
    if abs(expires_in) > timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidInput(
            f"a token lives {MAX_TOKEN_DAYS} days at most; give fewer days, or none for a token "
            "that never expires",
            field="expires_days",
        )
    return now + expires_in


@dataclass(frozen=True, slots=True)
class User:
    """A person or machine client of an agency, with one role."""

    id: int
    name: str
    role: Role
    agency_code: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    id: int
    secret: str
    user: User
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What can be shown about a token later: never its secret."""

    id: int
    user: str
    role: Role
    agency_code: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    note: str | None


@dataclass(frozen=True, slots=True)
class SharingGroup:
    """A named set of agencies, e.g. the Mekong joint operation."""

    id: int
    name: str
    description: str | None
    members: tuple[str, ...]


class Access:
    """Users, tokens and groups, kept in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # users and tokens ------------------------------------------------------------------------

    def add_user(self, name: str, *, agency_code: str, role: Role) -> User:
        """Register a user (or machine client) of an agency."""
        agency = self.store.get_agency(agency_code)
        clean = _user_name(name)
        with self.store.transaction() as connection:
            return self._insert_user(connection, clean, agency, role)

    @staticmethod
    def _insert_user(connection: Connection, name: str, agency: Agency, role: Role) -> User:
        try:
            result = connection.execute(
                insert(users).values(
                    agency_id=agency.id, name=name, role=role.value, created_at=datetime.now(UTC)
                )
            )
        except IntegrityError:  # the transaction is lost with it: the caller's ends here
            raise AlreadyExists(f"user {name} exists already", name=name) from None
        assert result.inserted_primary_key is not None
        return User(result.inserted_primary_key[0], name, role, agency.code)

    def get_user(self, name: str) -> User:
        """The user with this name."""
        clean = name.strip().lower()
        if not clean or not all(ch.isalnum() or ch in "-_.@" for ch in clean):
            raise NotFound(f"no user named {name!r}")
        with self.store.reading() as connection:
            user = self._find_user(connection, clean)
        if user is None:
            raise NotFound(f"no user named {name!r}")
        return user

    @staticmethod
    def _find_user(connection: Connection, name: str) -> User | None:
        query = (
            select(users.c.id, users.c.name, users.c.role, agencies.c.code)
            .join(agencies, agencies.c.id == users.c.agency_id)
            .where(users.c.name == name)
        )
        row = connection.execute(query).one_or_none()
        return None if row is None else User(row.id, row.name, Role(row.role), row.code)

    def disable_user(self, name: str) -> User:
        """Disable a user at once: every token of theirs is refused from the next request."""
        user = self.get_user(name)
        with self.store.transaction() as connection:
            connection.execute(
                update(users)
                .where(users.c.id == user.id, users.c.disabled_at.is_(None))
                .values(disabled_at=datetime.now(UTC))
            )
        return user

    def user_exists(self, name: str) -> bool:
        """Whether a user of this name exists (of any agency)."""
        try:
            self.get_user(name)
        except NotFound:
            return False
        return True

    def issue_token(
        self, user: User, *, expires_in: timedelta | None = None, note: str | None = None
    ) -> IssuedToken:
        """A new token for ``user``; its secret is in the result and nowhere else."""
        if note is not None:
            note = clean_text(note, field="note", max_length=200)
        now = datetime.now(UTC)
        expires = _expiry(expires_in, now)
        with self.store.transaction() as connection:
            return self._insert_token(connection, user, expires, note, now)

    @staticmethod
    def _insert_token(
        connection: Connection,
        user: User,
        expires: datetime | None,
        note: str | None,
        now: datetime,
    ) -> IssuedToken:
        # read in the transaction that writes the token: a user disabled meanwhile gets none
        holder = connection.execute(
            select(users.c.disabled_at).where(users.c.id == user.id)
        ).one_or_none()
        if holder is None:
            raise NotFound(f"no user named {user.name!r}")
        if holder.disabled_at is not None:
            raise InvalidInput(
                f"user {user.name} is disabled: every token of theirs is refused, so none is "
                "issued; give another user name",
                field="user",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        result = connection.execute(
            insert(tokens).values(
                user_id=user.id,
                secret_sha256=_digest(secret),
                created_at=now,
                expires_at=expires,
                note=note,
            )
        )
        assert result.inserted_primary_key is not None
        return IssuedToken(result.inserted_primary_key[0], secret, user, expires)

    def issue_token_for(
        self,
        *,
        agency_code: str,
        role: Role,
        user_name: str | None = None,
        expires_in: timedelta | None = None,
        note: str | None = None,
        connection: Connection | None = None,
    ) -> IssuedToken:
        """A token for the named user, created with ``role`` when new (a machine client gets a
        generated name). An existing user keeps its role: asking for another one is an error.
        Everything is checked before anything is written, and the user and its token are
        written in one transaction: ``connection``'s when given (an audit entry can join it),
        else one of their own."""
        if note is not None:
            note = clean_text(note, field="note", max_length=200)
        now = datetime.now(UTC)
        expires = _expiry(expires_in, now)
        agency = self.store.get_agency(agency_code)
        if user_name is None:
            user_name = f"{agency.code.lower()}-{role.value}-{secrets.token_hex(3)}"
        writing = self.store.transaction() if connection is None else nullcontext(connection)
        with writing as writer:
            user = self._find_user(writer, user_name.strip().lower()) or self._insert_user(
                writer, _user_name(user_name), agency, role
            )
            if user.role is not role or user.agency_code != agency.code:
                raise InvalidInput(
                    f"user {user.name} is {user.role.value} of {user.agency_code}; "
                    "give another user name for another role or agency",
                    field="user",
                )
            return self._insert_token(writer, user, expires, note, now)

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token at once; revoking twice is harmless."""
        if not 1 <= token_id <= MAX_TOKEN_ID:
            raise NotFound(f"no token with id {token_id}: token ids are 1-{MAX_TOKEN_ID}")
        with self.store.transaction() as connection:
            done = connection.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            if (
                done.rowcount == 0
                and connection.execute(select(tokens.c.id).where(tokens.c.id == token_id)).first()
                is None
            ):
                raise NotFound(f"no token with id {token_id}")

    def list_tokens(self) -> list[TokenInfo]:
        """Every token's metadata, newest first."""
        query = (
            select(tokens, users.c.name, users.c.role, agencies.c.code)
            .join(users, users.c.id == tokens.c.user_id)
            .join(agencies, agencies.c.id == users.c.agency_id)
            .order_by(tokens.c.id.desc())
        )
        with self.store.reading() as connection:
            rows = connection.execute(query).all()
        return [
            TokenInfo(
                r.id, r.name, Role(r.role), r.code, r.created_at, r.expires_at, r.revoked_at, r.note
            )
            for r in rows
        ]

    def authenticate(self, secret: str, *, now: datetime | None = None) -> Caller:
        """The caller a token stands for, or :class:`NotAuthenticated` saying why not. Spaces
        and line ends around it are not part of it (a token read from a file ends in one)."""
        secret = secret.strip()
        if not secret.startswith(TOKEN_PREFIX):
            raise NotAuthenticated("malformed token: scamwall tokens start with 'sw_'")
        with self.store.reading() as connection:
            row = connection.execute(_TOKEN_HOLDER, {"digest": _digest(secret)}).one_or_none()
        if row is None:
            raise NotAuthenticated("unknown token; ask an administrator for a new one")
        moment = now or datetime.now(UTC)
        if row.revoked_at is not None:
            raise NotAuthenticated("this token was revoked; ask an administrator for a new one")
        if row.expires_at is not None and row.expires_at <= moment:
            raise NotAuthenticated(
                f"this token expired at {row.expires_at.isoformat()}; ask for a new one"
            )
        if row.disabled_at is not None:
            raise NotAuthenticated(f"user {row.name} is disabled")
        groups = read_id_set(row.group_ids)
        return Caller(
            name=row.name,
            role=Role(row.role),
            user_id=row.id,
            agency_id=row.agency_id,
            agency_code=row.code,
            group_ids=groups,
        )

    def agency_reader(self, code: str) -> Caller:
        """The caller an agency is as a whole, for what goes to it in an export or a sync:
        an analyst of the agency with its sharing groups, and no user (so never a RED
        recipient)."""
        agency = self.store.get_agency(code)
        with self.store.reading() as connection:
            groups = connection.execute(
                select(group_members.c.group_id).where(group_members.c.agency_id == agency.id)
            ).scalars()
            group_ids = frozenset(int(g) for g in groups)
        return Caller(
            name=f"agency:{agency.code}",
            role=Role.ANALYST,
            agency_id=agency.id,
            agency_code=agency.code,
            group_ids=group_ids,
        )

    # sharing groups --------------------------------------------------------------------------

    def add_group(
        self, name: str, *, members: list[str], description: str | None = None
    ) -> SharingGroup:
        """Create a sharing group, or add members to it when it exists under this name in any
        case, spacing or Unicode form (:func:`group_key`)."""
        clean = " ".join(clean_text(name, field="name", max_length=100).split())
        if not clean:
            raise InvalidInput("a group needs a name", field="name")
        if description is not None:
            description = clean_text(description, field="description", max_length=2000)
        member_agencies = [self.store.get_agency(code) for code in members]
        key = group_key(clean)
        if len(key) > _GROUP_KEY_LENGTH:  # a few letters unfold into many ("ﷺ": 18)
            raise InvalidInput(
                f"group name {clean!r} is too long once compared: {len(key)} characters with "
                f"its case folded, of {_GROUP_KEY_LENGTH} at most; shorten it",
                field="name",
            )
        for attempt in range(_GROUP_ATTEMPTS):
            try:
                with self.store.transaction() as connection:
                    self._add_members(connection, clean, key, description, member_agencies)
                break
            except IntegrityError:
                # another creation of this group (in any case), or of one of its members,
                # landed between our look and our insert: the next try finds and joins it
                if attempt == _GROUP_ATTEMPTS - 1:
                    raise
        return self.get_group(clean)

    @staticmethod
    def _add_members(
        connection: Connection,
        name: str,
        key: str,
        description: str | None,
        member_agencies: list[Agency],
    ) -> None:
        group_id = connection.execute(
            select(sharing_groups.c.id).where(sharing_groups.c.name_folded == key)
        ).scalar_one_or_none()
        if group_id is None:
            group_id = connection.execute(
                insert(sharing_groups).values(
                    name=name,
                    name_folded=key,
                    description=description,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        present = set(
            connection.execute(
                select(group_members.c.agency_id).where(group_members.c.group_id == group_id)
            ).scalars()
        )
        new_rows = [
            {"group_id": group_id, "agency_id": a.id}
            for a in member_agencies
            if a.id not in present
        ]
        if new_rows:
            connection.execute(insert(group_members), new_rows)

    def get_group(self, name: str) -> SharingGroup:
        """The group with this name (in any case, spacing or Unicode form) and its members."""
        group_id = self._group_ids().get(group_key(name))
        group = next((g for g in self.list_groups() if g.id == group_id), None)
        if group is None:
            raise NotFound(f"no sharing group named {name!r}; create it with `scamwall group add`")
        return group

    def _group_ids(self) -> dict[str, int]:
        """Every group's id by its folded name. Matched in Python, not in a query: a name asked
        for may be any text (a lone surrogate no database driver takes), over a few rows."""
        query = select(sharing_groups.c.name_folded, sharing_groups.c.id)
        with self.store.reading() as connection:
            return {row.name_folded: row.id for row in connection.execute(query)}

    def list_groups(self) -> list[SharingGroup]:
        """Every sharing group with its members, by name."""
        query = (
            select(sharing_groups, agencies.c.code)
            .outerjoin(group_members, group_members.c.group_id == sharing_groups.c.id)
            .outerjoin(agencies, agencies.c.id == group_members.c.agency_id)
            .order_by(sharing_groups.c.name, agencies.c.code)
        )
        with self.store.reading() as connection:
            rows = connection.execute(query).all()
        grouped: dict[int, SharingGroup] = {}
        for row in rows:
            group = grouped.get(row.id) or SharingGroup(row.id, row.name, row.description, ())
            members = (*group.members, row.code) if row.code else group.members
            grouped[row.id] = SharingGroup(group.id, group.name, group.description, members)
        return list(grouped.values())

    def group_ids_by_name(self, names: list[str]) -> frozenset[int]:
        """Ids of the named groups, matched as :meth:`add_group` matches them (any case,
        spacing or Unicode form); an unknown name is an error that names it."""
        known = self._group_ids()
        missing = [n for n in names if group_key(n) not in known]
        if missing:
            raise InvalidInput(f"unknown sharing group(s): {', '.join(missing)}", field="groups")
        return frozenset(known[group_key(n)] for n in names)
