"""``newsflow acl``: the Redis users a deployment needs, as ACL lines.

One user per role, each allowed only the commands its code sends and only the
keys it touches (``-@all`` first, then ``+command`` and ``~key`` one by one):

- ``publisher``: XADD to ``news:ingest``, nothing else. Publishers get no answer
  through Redis (the gateway answers over HTTP), so there is nothing to read.
- ``ingest``, ``enrichment``, ``storage``: read their input stream in their group,
  publish onward, to ``news:rejected`` and ``news:dead``, and trim the streams
  :data:`newsflow.streams.TRIMMED_BY` gives them; ingest also holds the
  publishers' idempotency keys.
- ``gateway``: enqueue to ``news:ingest`` (WAIT included), follow ``news:stored``,
  its rate-limit and Idempotency-Key keys, and the admin routes (dead letters:
  read, replay onto the pipeline streams, delete).
- ``operator``: the ``newsflow`` CLI (status, push, dlq, reenrich): any command
  but the dangerous ones, on the pipeline's keys.
- ``keda``: KEDA's streams scaler, which sizes the workers from their groups' lag:
  ``XINFO``, ``XPENDING`` and ``XLEN`` on the three worker input streams, no data.
- ``replica`` and ``sentinel``: what a replica and Sentinel need on a data node.
- ``default`` is switched off.

The output is a users.acl file (``--format file``, for ``aclfile``) or ACL SETUSER
commands (``--format commands``). Passwords are stored as SHA-256 (``#...``); a
password not given with ``--password USER=SECRET`` is generated and printed once
on stderr. ``--format template`` prints the file with ``#@USER@`` where each hash
goes: ``deploy/compose/init-secrets.sh`` fills it in with ``sha256sum`` on hosts
that have no Python environment for these tools.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TextIO

from newsflow import streams
from newsflow.runtime import idempotency, retention

#: Key prefixes the gateway writes (``newsflow_gateway.auth`` and ``routes.publish``).
GATEWAY_RATE: Final = "newsflow:rate:*"
GATEWAY_IDEMPOTENCY: Final = "newsflow:idem:*"

#: What every stream worker sends (``newsflow.runtime.worker``, FastStream's
#: subscribers, and the trimmer of ``newsflow.runtime.retention``).
WORKER_COMMANDS: Final = tuple(
    "ping xgroup xreadgroup xautoclaim xclaim xack xpending xinfo xrange xadd xtrim "
    "multi exec discard set hset hincrby".split()
)


@dataclass(frozen=True)
class AclUser:
    """One Redis user: what it is for, its commands and its key patterns."""

    name: str
    why: str
    commands: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    #: Whole rules after the commands, for the users defined by Redis' own needs.
    extra: tuple[str, ...] = ()

    def rule(self, password: str) -> str:
        """The user's rule, from a clean slate, with ``password`` stored hashed.

        No ``CLIENT`` subcommand is allowed: redis-py's connection handshakes
        (``CLIENT SETINFO``, ``CLIENT MAINT_NOTIFICATIONS``) are optional, it carries
        on when they are refused, and naming a subcommand the server does not know
        would make older servers refuse the whole ACL file.
        """
        return self.rule_for(f"#{hashlib.sha256(password.encode()).hexdigest()}")

    def rule_for(self, hashed: str) -> str:
        """The rule with ``hashed`` (``#`` and the hex digest) as its password."""
        parts = ["on", hashed, "resetkeys", "resetchannels", "-@all"]
        parts += [f"+{c}" for c in self.commands]
        parts += list(self.extra)
        parts += [f"~{k}" for k in self.keys]
        return " ".join(parts)


def _retention_keys(service: str) -> tuple[str, ...]:
    trimmed = streams.TRIMMED_BY.get(service, ())
    return tuple(
        f"{p}{s}" for s in trimmed for p in (retention.LOCK_PREFIX, retention.STATE_PREFIX)
    )


def _worker(service: str, stream: str, *more_keys: str) -> AclUser:
    io: tuple[str, ...] = (stream, streams.NEXT[stream], streams.REJECTED, streams.DEAD)
    keys = io + tuple(s for s in streams.TRIMMED_BY.get(service, ()) if s not in io)
    return AclUser(
        service,
        f"the {service} service: reads {stream} in group {streams.GROUPS[stream]}",
        WORKER_COMMANDS + (("get", "mget") if more_keys else ()),
        keys + _retention_keys(service) + more_keys,
    )


def users() -> list[AclUser]:
    """Every user of a deployment, ``default`` (switched off) last."""
    ingest, ingested, enriched = streams.INGEST, streams.INGESTED, streams.ENRICHED
    return [
        AclUser("publisher", "external publishers: XADD to news:ingest only", ("xadd",), (ingest,)),
        _worker("ingest", ingest, f"{idempotency.PREFIX}*"),
        _worker("enrichment", ingested),
        _worker("storage", enriched),
        AclUser(
            "gateway",
            "the query gateway: enqueue, follow news:stored, rate limits, dead letters",
            tuple(
                (
                    "ping wait xadd xread xrange xrevrange xinfo xdel watch unwatch multi exec "
                    "discard get mget set del zadd zrem zremrangebyscore zcard zrange expire"
                ).split()
            ),
            (
                ingest,
                ingested,
                enriched,
                streams.STORED,
                streams.DEAD,
                GATEWAY_RATE,
                GATEWAY_IDEMPOTENCY,
            ),
        ),
        AclUser(
            "operator",
            "the newsflow CLI: status, push, dlq, reenrich; nothing dangerous",
            ("@all",),
            ("news:*", "newsflow:*"),
            ("-@dangerous",),
        ),
        AclUser(
            "keda",
            "KEDA's streams scaler: the workers' consumer-group lag, no data",
            ("ping", "xinfo", "xpending", "xlen"),
            tuple(streams.GROUPS),
        ),
        AclUser(
            "replica", "a replica's link to its primary (masteruser)", ("psync", "replconf", "ping")
        ),
        AclUser(
            "sentinel",
            "Redis Sentinel on the data nodes (sentinel auth-user)",
            tuple(
                (
                    "multi exec slaveof ping subscribe publish info role config|rewrite "
                    "client|setname client|kill script|kill"
                ).split()
            ),
            (),
            ("allchannels",),
        ),
    ]


Format = Literal["file", "commands", "template"]


def template_placeholder(name: str) -> str:
    """What ``--format template`` writes where ``name``'s hashed password goes."""
    return f"#@{name}@"


def render(
    format_: Format, passwords: Mapping[str, str], out: TextIO, err: TextIO
) -> dict[str, str]:
    """Write every user's line to ``out``; generated passwords go to ``err``, once.

    No comments in ``out``: Redis refuses an ACL file with any line that is not a user.

    Returns the password of each user (given or generated); none for ``template``,
    whose lines hold :func:`template_placeholder` instead of a hash.
    """
    chosen: dict[str, str] = {}
    head = "ACL SETUSER" if format_ == "commands" else "user"
    for user in users():
        if format_ == "template":
            out.write(f"{head} {user.name} {user.rule_for(template_placeholder(user.name))}\n")
            continue
        password = passwords.get(user.name) or secrets.token_urlsafe(24)
        if user.name not in passwords:
            err.write(f"{user.name} ({user.why}): {password}\n")
        chosen[user.name] = password
        out.write(f"{head} {user.name} {user.rule(password)}\n")
    out.write(f"{head} default off\n")
    if len(chosen) > len(passwords):
        err.write("Store the generated passwords now: they are shown only once.\n")
    return chosen


def parse_passwords(pairs: Sequence[str]) -> dict[str, str]:
    """``USER=SECRET`` pairs; ValueError naming a bad one or an unknown user."""
    known = {u.name for u in users()}
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, secret = pair.partition("=")
        if not sep or not secret:
            raise ValueError(f"--password takes USER=SECRET, not {pair!r}")
        if name not in known:
            raise ValueError(f"no user {name!r}; the users are {', '.join(sorted(known))}")
        if any(c.isspace() for c in secret):
            raise ValueError(f"the password of {name} must not contain white space")
        out[name] = secret
    return out
