"""``newsflow acl``: the users, their rules, and bad --password values."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow import streams
from newsflow_tools import cli
from newsflow_tools.acl import parse_passwords, render, users

pytestmark = pytest.mark.tools


def lines(fmt: str = "file", **passwords: str) -> tuple[dict[str, str], str, str]:
    out, err = io.StringIO(), io.StringIO()
    chosen = render(fmt, passwords, out, err)  # type: ignore[arg-type]
    return chosen, out.getvalue(), err.getvalue()


def test_the_publisher_may_only_xadd_to_news_ingest() -> None:
    _, out, _ = lines(publisher="s3cret")
    rule = next(line for line in out.splitlines() if line.startswith("user publisher "))
    digest = hashlib.sha256(b"s3cret").hexdigest()
    assert rule == (f"user publisher on #{digest} resetkeys resetchannels -@all +xadd ~news:ingest")


def test_every_service_reads_only_its_stream_and_the_default_user_is_off() -> None:
    by_name = {u.name: u for u in users()}
    for stream, group in streams.GROUPS.items():
        user = by_name[group]
        assert stream in user.keys
        assert streams.NEXT[stream] in user.keys
        others = set(streams.GROUPS) - {stream, streams.NEXT[stream]}
        assert not others & set(user.keys)  # no other service's input
        assert "flushall" not in user.commands
    _, out, _ = lines("commands")
    assert out.splitlines()[-1] == "ACL SETUSER default off"
    assert all(line.startswith("ACL SETUSER ") for line in out.splitlines())


def test_generated_passwords_are_shown_once_on_stderr_and_never_on_stdout() -> None:
    chosen, out, err = lines(ingest="given")
    assert chosen["ingest"] == "given"
    assert "ingest" not in {line.split()[0] for line in err.splitlines()}
    for name, password in chosen.items():
        assert password not in out
        if name != "ingest":
            assert password in err


@pytest.mark.parametrize(
    ("pair", "complaint"),
    [("ingest", "USER=SECRET"), ("ingest=", "USER=SECRET"), ("nobody=x", "no user 'nobody'"),
     ("ingest=a b", "white space")],
)  # fmt: skip
def test_a_bad_password_argument_is_refused(pair: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_passwords([pair])


def test_the_cli_prints_the_users(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["acl", "--password", "publisher=p"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("user publisher on #")
    assert "Store the generated passwords now" in err
    assert cli.main(["acl", "--password", "publisher"]) == 2
    assert "USER=SECRET" in capsys.readouterr().err


def test_keda_may_read_the_workers_lag_and_nothing_else() -> None:
    keda = {u.name: u for u in users()}["keda"]
    assert set(keda.keys) == set(streams.GROUPS), "the streams the ScaledObjects scale on"
    assert set(keda.commands) == {"ping", "xinfo", "xpending", "xlen"}
    _, out, _ = lines(keda="k")
    rule = next(line for line in out.splitlines() if line.startswith("user keda "))
    assert " -@all " in rule
    assert "~*" not in rule.split()


def test_the_template_is_the_file_with_placeholders_for_the_hashes() -> None:
    """init-secrets.sh replaces each #@USER@ with the user's SHA-256: the result is
    the file ``newsflow acl`` writes for those passwords, line for line."""
    _, template, err = lines("template")
    assert err == ""
    passwords = {u.name: f"pw-{u.name}" for u in users()}
    _, expected, _ = lines(**passwords)
    filled = template
    for name, password in passwords.items():
        filled = filled.replace(f"#@{name}@", f"#{hashlib.sha256(password.encode()).hexdigest()}")
    assert filled == expected


def test_the_compose_template_is_what_newsflow_acl_prints() -> None:
    """deploy/compose/users.acl.template is generated; regenerate it with
    `newsflow acl --format template > deploy/compose/users.acl.template`."""
    committed = Path(__file__).resolve().parents[2] / "deploy" / "compose" / "users.acl.template"
    assert committed.read_text(encoding="utf-8") == lines("template")[1]
