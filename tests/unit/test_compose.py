"""The Docker deployment, checked without Docker.

There is no Docker engine in CI, so these tests keep ``docker-compose.yml``,
``services/Dockerfile``, ``.dockerignore``, ``.env.example``, the MongoDB init
script and ``deploy/compose/init-secrets.sh`` honest by parsing (or running) them:
the compose specification's JSON schema, services and images, healthchecks,
start-up order, replicas, secrets, and that no secret is written into a committed
file or a container's environment. Each test asserts a property the stack relies
on at run time.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import importlib.resources
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from newsflow.settings import SECRETS_DIR

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "services" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
MONGO_INIT_DIR = ROOT / "services" / "mongo-init"
MONGO_INIT_SCRIPT = MONGO_INIT_DIR / "create-users.js"
INIT_SECRETS = ROOT / "deploy" / "compose" / "init-secrets.sh"
MONITORING = ("prometheus", "grafana")

APP_SERVICES = ("ingest", "enrichment", "storage", "gateway")
WORKERS = ("ingest", "enrichment", "storage")
REPLICATED = ("enrichment", "storage")
BACKING_SERVICES = ("redis", "mongo")
#: Services that talk to MongoDB, with the role their user must have (least privilege).
MONGO_ROLES = {"storage": "readWrite", "gateway": "readWrite"}
#: Services that only use Redis and must have no MongoDB credentials at all.
NO_MONGO = ("ingest", "enrichment")

WORKER_HTTP_PORT = "8080"
GATEWAY_PORT = "8000"

#: Compose interpolation: ``$$`` is an escaped ``$`` (expanded later by the
#: container's shell); ``${VAR...}`` and ``$VAR`` are compose variables.
_INTERPOLATION = re.compile(
    r"\$\$"
    r"|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[^}]*)\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
#: A value that is exactly one required compose variable, e.g. ``${X:?msg}``.
_REQUIRED_VAR = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}$")
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|(?:^|_)KEY$|PASSPHRASE", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://(?P<user>[^:/@\s]*):(?P<password>[^@\s]+)@")
_DIGITS = re.compile(r"^\d+$")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict), "docker-compose.yml has no services mapping"
    return found


def _variables(text: str) -> Iterator[tuple[str, str]]:
    """Each compose variable reference in ``text``: (name, modifier such as ``:?msg``)."""
    for match in _INTERPOLATION.finditer(text):
        if match["braced"]:
            yield match["braced"], match["modifier"]
        elif match["bare"]:
            yield match["bare"], ""


def _variable_names(text: str) -> set[str]:
    return {name for name, _ in _variables(text)}


def _strings(node: Any) -> Iterator[str]:
    """Every string (keys included) anywhere in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _as_text(command: Any) -> str:
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    return str(command)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever syntax the file uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str | None]:
    """Dependency -> condition (None for the short list syntax, which waits for nothing)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps)
    return {name: (spec or {}).get("condition") for name, spec in deps.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    return _as_text(service["healthcheck"]["test"])


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        assert sep, f".env.example: not NAME=value: {raw!r}"
        values[name.strip()] = value.strip().strip("'\"")
    return values


def _mongo_users() -> list[dict[str, str]]:
    """The users create-users.js creates, in order: user, env (password variable), role."""
    pattern = re.compile(
        r"\{\s*user:\s*'(?P<user>\w+)',\s*env:\s*'(?P<env>\w+)',\s*role:\s*'(?P<role>\w+)'\s*\}"
    )
    return [m.groupdict() for m in pattern.finditer(MONGO_INIT_SCRIPT.read_text(encoding="utf-8"))]


def _mongo_url_parts(url: str) -> re.Match[str]:
    match = re.match(
        r"^mongodb://(?P<user>[^:@/]+):(?P<password>[^@]+)@mongo:27017/"
        r"(?P<db>[^?]*)\?(?P<query>.*)$",
        url,
    )
    assert match, f"MONGODB_URL is not mongodb://user:PASSWORD@mongo:27017/?...: {url!r}"
    return match


def _granted(service: dict[str, Any]) -> dict[str, str]:
    """The secrets a service is granted: file name under /run/secrets -> secret name."""
    out: dict[str, str] = {}
    for item in service.get("secrets") or []:
        if isinstance(item, str):
            out[item] = item
        else:
            out[item.get("target") or item["source"]] = item["source"]
    return out


def _target(service: dict[str, Any], secret: str) -> str:
    """The file name under /run/secrets where ``service`` finds the secret ``secret``."""
    names = [target for target, source in _granted(service).items() if source == secret]
    assert names, f"the service is not granted {secret}"
    return names[0]


class _AclFile:
    """A users.acl file: each user's hashed password and the rest of its rule."""

    def __init__(self, text: str) -> None:
        self.hashes: dict[str, str] = {}
        self.rules: dict[str, list[str]] = {}
        for line in text.splitlines():
            word, user, *rule = line.split()
            assert word == "user", f"not a user line: {line!r}"
            self.hashes[user] = next((r for r in rule if r.startswith("#")), "")
            self.rules[user] = rule

    def __getitem__(self, user: str) -> str:
        assert user in self.hashes, f"no user {user} in the ACL file"
        return self.hashes[user]


def _acl_users(text: str) -> _AclFile:
    return _AclFile(text)


def _hashed(password: str) -> str:
    return "#" + hashlib.sha256(password.encode()).hexdigest()


@pytest.fixture(scope="module")
def secret_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What deploy/compose/init-secrets.sh writes: secret file name -> content."""
    folder = tmp_path_factory.mktemp("compose") / "secrets"
    subprocess.run(["sh", str(INIT_SECRETS), str(folder)], check=True, timeout=30)
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


def _secret_content(compose: dict[str, Any], files: dict[str, str], secret: str) -> str:
    """The content init-secrets.sh gives the top-level secret ``secret``."""
    path = PurePosixPath(compose["secrets"][secret]["file"])
    assert path.parts[:2] == (".", "secrets") or path.parts[0] == "secrets", path
    return files[path.name]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def _dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (last match wins)."""
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = PurePosixPath(path).parts
    # A path is excluded if it or any of its parent directories matches.
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").strip("/")
        alternatives = [pat, pat[3:]] if pat.startswith("**/") else [pat]
        if any(fnmatch.fnmatchcase(c, alt) for c in candidates for alt in alternatives):
            excluded = not negate
    return excluded


# ---------------------------------------------------------------- services and images


def test_all_services_are_defined(services: dict[str, dict[str, Any]]) -> None:
    missing = set(APP_SERVICES + BACKING_SERVICES) - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_backing_services_use_real_redis_7_and_mongo_8(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["redis"].get("image") == "redis:7.4"
    assert services["mongo"].get("image") == "mongo:8.0"
    for name in BACKING_SERVICES:
        assert "build" not in services[name], f"{name} must run the upstream image"


def test_every_upstream_image_is_pinned_to_a_minor_version(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name in APP_SERVICES:
            continue
        image = str(service.get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert re.fullmatch(r"v?\d+\.\d+(?:\.\d+)?", tag), f"{name}: {image!r} is not pinned"


# -------------------------------------------------------------- the compose schema


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    """The compose specification's JSON schema, as vendored in check-jsonschema."""
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas") / "vendor"
    text = (vendor / "compose-spec.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_file_follows_the_compose_specification(
    compose: dict[str, Any], compose_schema: dict[str, Any]
) -> None:
    jsonschema.Draft202012Validator(compose_schema).validate(compose)


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        (("services", "gateway"), "replica", 2),
        (("services", "redis", "healthcheck"), "intervall", "5s"),
        (("secrets", "ingest_redis_url"), "path", "./secrets/ingest_redis_url"),
        ((), "service", {}),
    ],
)
def test_the_schema_refuses_an_unknown_field(
    compose: dict[str, Any],
    compose_schema: dict[str, Any],
    where: tuple[str, ...],
    field: str,
    value: Any,
) -> None:
    broken = copy.deepcopy(compose)
    node = broken
    for part in where:
        node = node[part]
    node[field] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(compose_schema).validate(broken)


def test_app_services_share_one_image_built_from_services_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    builds = set()
    for name in APP_SERVICES:
        service = services[name]
        build = service.get("build")
        assert isinstance(build, dict), f"{name}: build must name context and dockerfile"
        context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
        dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
        assert context == ROOT, f"{name}: build context must be the repository root"
        assert dockerfile == DOCKERFILE.resolve(), f"{name}: must build services/Dockerfile"
        assert service.get("image"), f"{name}: needs an image name so all services share it"
        builds.add((service["image"], context, dockerfile))
    assert len(builds) == 1, f"app services must share one image and build, got {builds}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_its_module(services: dict[str, dict[str, Any]], name: str) -> None:
    module = f"newsflow_{name}"
    assert services[name].get("command") == ["python", "-m", module]
    assert (ROOT / "services" / module).is_dir(), f"no package services/{module}"


@pytest.mark.parametrize("name", APP_SERVICES + BACKING_SERVICES)
def test_service_restarts_after_a_crash(services: dict[str, dict[str, Any]], name: str) -> None:
    policy = str(services[name].get("restart", "no"))
    assert policy in {"always", "unless-stopped"} or policy.startswith("on-failure"), (
        f"{name}: restart policy {policy!r} would leave a crashed service down"
    )


# ---------------------------------------------------------------------- healthchecks


@pytest.mark.parametrize("name", APP_SERVICES + BACKING_SERVICES)
def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name].get("healthcheck")
    assert isinstance(check, dict), f"{name}: no healthcheck"
    assert not check.get("disable"), f"{name}: healthcheck disabled"
    test = check.get("test")
    assert isinstance(test, list), f"{name}: healthcheck test must be a CMD/CMD-SHELL list"
    assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test {test[0]!r}"
    assert len(test) > 1, f"{name}: healthcheck has no command"
    assert all(part.strip() for part in test[1:]), f"{name}: empty healthcheck argument"
    for key in ("interval", "timeout", "retries"):
        assert key in check, f"{name}: healthcheck lacks {key}"


def test_redis_healthcheck_authenticates(services: dict[str, dict[str, Any]]) -> None:
    text = _healthcheck_text(services["redis"])
    assert "redis-cli" in text
    assert "ping" in text.lower()
    assert "REDISCLI_AUTH" in text or re.search(r"\s-a\s", text), "redis ping must authenticate"


def test_mongo_healthcheck_pings_as_the_last_created_user(
    services: dict[str, dict[str, Any]],
) -> None:
    text = _healthcheck_text(services["mongo"])
    assert "mongosh" in text
    assert "db.adminCommand('ping')" in text
    # The entrypoint's temporary init-time mongod answers a bare ping too; logging in
    # as the user created last means "healthy" only once every user exists.
    users = _mongo_users()
    assert users, "create-users.js defines no users"
    match = re.search(r"--username\s+(\S+)", text)
    assert match, "mongo healthcheck must authenticate"
    assert match.group(1) == users[-1]["user"]
    password = re.search(r"--password\s+(\"[^\"]+\"|\S+)", text)
    assert password, "mongo healthcheck must pass a password"
    file_var = _environment(services["mongo"])[f"{users[-1]['env']}_FILE"]
    assert password.group(1).strip("\"'") == f"$$(cat {file_var})"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_healthcheck_probes_healthz_on_the_service_port(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    env = _environment(service)
    text = _healthcheck_text(service)
    if name in WORKERS:
        port = env.get("NEWSFLOW_HTTP_PORT")
        assert port == WORKER_HTTP_PORT, f"{name}: NEWSFLOW_HTTP_PORT={port!r}"
        assert env.get("NEWSFLOW_HTTP_HOST") == "0.0.0.0"
    else:
        port = env.get("GATEWAY_PORT")
        assert port == GATEWAY_PORT, f"{name}: GATEWAY_PORT={port!r}"
        assert env.get("GATEWAY_HOST") == "0.0.0.0"
    assert "urllib.request" in text, "the slim image has no curl; use python's urllib"
    assert f"127.0.0.1:{port}/healthz" in text, f"{name}: healthcheck must hit /healthz:{port}"


# ----------------------------------------------------------- start-up order, replicas


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_backends(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    deps = _depends_on(services[name])
    assert "redis" in deps, f"{name} must depend on redis"
    if name in MONGO_ROLES:
        assert "mongo" in deps, f"{name} must depend on mongo"
    if name in NO_MONGO:
        assert "mongo" not in deps, f"{name} does not use mongo"
    for dep, condition in deps.items():
        assert dep in services, f"{name} depends on unknown service {dep}"
        assert condition == "service_healthy", f"{name} -> {dep}: condition {condition!r}"


@pytest.mark.parametrize("name", REPLICATED)
def test_replicated_workers(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    assert (service.get("deploy") or {}).get("replicas") == 2
    assert "container_name" not in service, f"{name}: container_name breaks replicas"
    assert not service.get("ports"), f"{name}: fixed host ports break replicas"


def test_only_the_gateway_publishes_a_port(services: dict[str, dict[str, Any]]) -> None:
    ports = [str(p) for p in services["gateway"].get("ports") or []]
    assert any(p.endswith(f":{GATEWAY_PORT}") for p in ports), f"gateway ports: {ports}"
    for name in (*WORKERS, *BACKING_SERVICES):
        assert not services[name].get("ports"), f"{name} must not publish host ports"


def test_the_gateway_scales_without_port_clashes(services: dict[str, dict[str, Any]]) -> None:
    """A host port range: each replica of `--scale gateway=N` takes the next one."""
    gateway = services["gateway"]
    assert "container_name" not in gateway
    (published,) = [str(p) for p in gateway["ports"]]
    host, _, container = published.rpartition(":")
    assert container == GATEWAY_PORT
    first, _, last = host.partition("-")
    assert last, f"gateway publishes one host port ({published}): a second replica would clash"
    assert int(last) - int(first) + 1 >= 2


def test_monitoring_is_an_optional_profile(services: dict[str, dict[str, Any]]) -> None:
    for name in MONITORING:
        assert services[name].get("profiles") == ["monitoring"], name
    for name in (*APP_SERVICES, *BACKING_SERVICES):
        assert not services[name].get("profiles"), f"{name} must start without a profile"
    prometheus = [str(v) for v in services["prometheus"]["volumes"]]
    assert "./deploy/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus
    grafana = services["grafana"]
    assert _environment(grafana)["GF_SECURITY_ADMIN_PASSWORD__FILE"] == (
        f"/run/secrets/{_granted(grafana)['grafana_admin_password']}"
    )


def test_every_file_compose_mounts_is_in_the_repository(
    services: dict[str, dict[str, Any]],
) -> None:
    """A bind mount of a missing path makes Docker create an empty folder in its place:
    Prometheus would start without its rules, Grafana without its dashboard."""
    mounted = [
        str(volume).split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if str(volume).startswith("./")
    ]
    assert mounted, "no bind mounts found"
    missing = [path for path in mounted if not (ROOT / path).exists()]
    assert missing == [], f"compose mounts paths the repository does not have: {missing}"
    prometheus = [str(v) for v in services["prometheus"]["volumes"]]
    assert "./deploy/monitoring/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus


# --------------------------------------------------------------------- redis, mongo


def test_redis_uses_aof_and_loads_its_users_from_the_acl_secret(
    services: dict[str, dict[str, Any]],
) -> None:
    redis = services["redis"]
    command = _as_text(redis.get("command", ""))
    assert re.search(r"--appendonly\s+yes\b", command), "redis must run with appendonly yes"
    acl_file = f"{SECRETS_DIR}/{_target(redis, 'redis_users_acl')}"
    assert re.search(rf"--aclfile\s+{re.escape(acl_file)}(?:\s|$)", command), command
    # One password for all would be the default user's: the ACL file switches it off.
    assert "requirepass" not in command
    # The image's entrypoint drops root only when redis-server is the first argument.
    assert redis["command"][0] == "redis-server", "a shell would bypass the entrypoint"
    assert not _environment(redis), "redis needs no environment"


def test_the_redis_healthcheck_logs_in_as_a_user_of_the_acl_file(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], secret_files: dict[str, str]
) -> None:
    """The default user is off: an unauthenticated PING gets NOAUTH, so the check
    must name a user (and PONG proves the file was loaded)."""
    redis = services["redis"]
    check = _healthcheck_text(redis)
    match = re.search(r"redis-cli --user (\w+) ping", check)
    assert match, check
    user = match[1]
    password_file = f"{SECRETS_DIR}/{_target(redis, f'redis_{user}_password')}"
    # The password comes from the secret file, read inside the container.
    assert f'REDISCLI_AUTH="$$(cat {password_file})"' in check, check
    acl = _acl_users(_secret_content(compose, secret_files, "redis_users_acl"))
    password = _secret_content(compose, secret_files, f"redis_{user}_password")
    assert acl[user] == _hashed(password), f"{user}'s password is not the one in the ACL file"
    assert "+ping" in acl.rules[user] or "+@all" in acl.rules[user], f"{user} may not PING"


def test_data_lives_in_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, target in (("redis", "/data"), ("mongo", "/data/db")):
        mounts = [str(v).split(":") for v in services[name].get("volumes") or []]
        sources = [m[0] for m in mounts if len(m) > 1 and m[1] == target]
        assert sources, f"{name}: nothing mounted on {target}"
        assert sources[0] in declared, f"{name}: {sources[0]} is not a named volume"


def test_mongo_runs_the_init_script(services: dict[str, dict[str, Any]]) -> None:
    mounts = [str(v).split(":") for v in services["mongo"].get("volumes") or []]
    sources = [m[0] for m in mounts if m[1].rstrip("/") == "/docker-entrypoint-initdb.d"]
    assert sources, "mongo must mount an init directory on /docker-entrypoint-initdb.d"
    assert (COMPOSE_FILE.parent / sources[0]).resolve() == MONGO_INIT_DIR.resolve()
    assert MONGO_INIT_SCRIPT.is_file()
    script = MONGO_INIT_SCRIPT.read_text(encoding="utf-8")
    assert "process.env" in script, "init script must read passwords from the environment"


@pytest.mark.parametrize("name", sorted(MONGO_ROLES))
def test_mongo_credentials_chain_from_secret_to_user(
    compose: dict[str, Any],
    services: dict[str, dict[str, Any]],
    secret_files: dict[str, str],
    name: str,
) -> None:
    """Service URL file -> init script user and role -> the password file mongo reads."""
    granted = _granted(services[name])
    url = _mongo_url_parts(_secret_content(compose, secret_files, granted["MONGODB_URL"]))
    assert "authSource=admin" in url["query"].split("&")

    users = {u["user"]: u for u in _mongo_users()}
    assert url["user"] in users, f"{name}: user {url['user']} is not created by the init script"
    created = users[url["user"]]
    assert created["role"] == MONGO_ROLES[name], f"{name}: role {created['role']}"

    mongo = services["mongo"]
    file_var = _environment(mongo).get(f"{created['env']}_FILE", "")
    assert file_var.startswith(f"{SECRETS_DIR}/"), f"mongo gets no {created['env']}_FILE"
    mongo_secret = _granted(mongo)[file_var.removeprefix(f"{SECRETS_DIR}/")]
    assert url["password"] == _secret_content(compose, secret_files, mongo_secret), (
        f"{name} connects with another password than its user is created with"
    )


def test_each_service_has_its_own_mongo_user(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], secret_files: dict[str, str]
) -> None:
    root_user = _environment(services["mongo"]).get("MONGO_INITDB_ROOT_USERNAME", "")
    root_names = {root_user, "root", "admin"} | _variable_names(root_user)
    users = [
        _mongo_url_parts(
            _secret_content(compose, secret_files, _granted(services[name])["MONGODB_URL"])
        )["user"]
        for name in MONGO_ROLES
    ]
    assert len(set(users)) == len(users), f"services share a MongoDB user: {users}"
    assert not root_names & set(users), "no service may connect as the root user"


def test_the_acl_file_switches_the_default_user_off(
    compose: dict[str, Any], secret_files: dict[str, str]
) -> None:
    text = _secret_content(compose, secret_files, "redis_users_acl")
    assert text.splitlines()[-1] == "user default off"
    assert "#@" not in text, "a placeholder of the template was left in the file"
    # redis-server refuses the whole file for one line that is not a user.
    assert all(line.startswith("user ") for line in text.splitlines())


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_connects_as_its_own_redis_user(
    compose: dict[str, Any],
    services: dict[str, dict[str, Any]],
    secret_files: dict[str, str],
    name: str,
) -> None:
    """Service URL file -> a user of the ACL file, whose hash is of the URL's password."""
    url = _secret_content(compose, secret_files, _granted(services[name])["REDIS_URL"])
    match = re.fullmatch(r"redis://(?P<user>\w+):(?P<password>[0-9a-f]{64})@redis:6379/0", url)
    assert match, f"{name}: REDIS_URL {url!r}"
    assert match["user"] == name
    acl = _acl_users(_secret_content(compose, secret_files, "redis_users_acl"))
    assert acl[name] == _hashed(match["password"]), f"{name}: the ACL file has another password"
    assert acl[name] == _hashed(secret_files[f"redis_{name}_password"])


def test_init_secrets_keeps_what_it_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    subprocess.run(["sh", str(INIT_SECRETS), str(folder)], check=True, timeout=30)
    first = {p.name: p.read_text() for p in folder.iterdir()}
    (folder / "ingest_redis_url").unlink()
    (folder / "redis_users_acl").unlink()
    subprocess.run(["sh", str(INIT_SECRETS), str(folder)], check=True, timeout=30)
    second = {p.name: p.read_text() for p in folder.iterdir()}
    assert second == first, "a second run must change nothing, and rebuild a lost file"
    redis_users = set(_acl_users(first["redis_users_acl"]).hashes) - {"default"}
    passwords = [first[n] for n in first if n.endswith("_password")]
    assert len(set(passwords)) == len(passwords) == 4 + len(redis_users), "passwords repeat"
    assert folder.stat().st_mode & 0o077 == 0, "the secrets folder is open to other users"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_gets_only_its_own_credentials(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    assert "env_file" not in service, f"{name}: env_file would hand it every secret"
    granted = _granted(service)
    expected = {"REDIS_URL": f"{name}_redis_url"}
    if name in MONGO_ROLES:
        expected["MONGODB_URL"] = f"{name}_mongodb_url"
        assert _environment(service).get("MONGODB_DATABASE"), f"{name}: MONGODB_DATABASE"
    assert granted == expected, f"{name} is granted {granted}"
    env = _environment(service)
    assert "REDIS_URL" not in env
    assert "MONGODB_URL" not in env


# ------------------------------------------------------------------ secrets, .env


def test_every_compose_variable_is_documented_in_env_example(compose: dict[str, Any]) -> None:
    # Parsed values, not raw text: compose does not interpolate comments.
    used = _variable_names("\n".join(_strings(compose)))
    assert used, "compose file references no variables; secrets must come from .env"
    missing = used - set(_env_example())
    assert not missing, f".env.example does not document: {sorted(missing)}"


def test_no_container_gets_a_password_in_its_environment(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if _SECRET_NAME.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} is a secret in the environment"
                assert value.startswith(f"{SECRETS_DIR}/"), f"{name}: {key}={value!r}"
        for var in _variable_names(" ".join(_environment(service).values())):
            assert not _SECRET_NAME.search(var), f"{name}: ${{{var}}} interpolates a secret"


def test_every_secret_is_a_file_under_secrets_and_used(compose: dict[str, Any]) -> None:
    declared = compose["secrets"]
    used = {s for service in compose["services"].values() for s in _granted(service).values()}
    assert set(declared) == used, f"declared but unused or missing: {set(declared) ^ used}"
    for name, spec in declared.items():
        assert set(spec) == {"file"}, f"{name}: only file secrets ({spec})"
        assert PurePosixPath(spec["file"]).parent == PurePosixPath("secrets"), name


def test_no_literal_secrets_in_compose(compose: dict[str, Any]) -> None:
    for text in _strings(compose):
        assert not _URL_CREDENTIALS.search(text), f"credentials in a URL: {text!r}"
        for flag in re.finditer(r"(?:--requirepass|--password|\s-a)\s+(\S+)", text):
            assert flag.group(1).strip("\"'").startswith("$$(cat"), f"literal secret: {text!r}"
            assert "/run/secrets/" in text[flag.end() :], f"literal secret: {text!r}"


def test_env_example_holds_no_secrets() -> None:
    example = _env_example()
    assert not {k for k in example if _SECRET_NAME.search(k)}, ".env.example names secrets"
    # The URLs are secret files; in .env they would also leak into `make run`.
    assert "REDIS_URL" not in example
    assert "MONGODB_URL" not in example


def test_env_file_is_neither_committed_nor_sent_to_the_build() -> None:
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert any(line.strip() in {".env", "/.env"} for line in gitignore), ".env is not git-ignored"
    assert any(line.strip() in {"secrets/", "/secrets/"} for line in gitignore), (
        "secrets/ is not git-ignored"
    )
    for path in (
        ".env",
        "secrets/ingest_redis_url",
        ".git/config",
        ".venv/bin/python",
        ".data/x",
        "tests/unit/x.py",
        "tools/newsflow_tools/cli.py",
    ):
        assert _dockerignore_excludes(path), f".dockerignore lets {path} into the build context"


def test_build_context_holds_what_pip_install_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = ["pyproject.toml", project["readme"], "shared/newsflow/settings.py"]
    needed += [f"services/newsflow_{name}/__init__.py" for name in APP_SERVICES]
    for path in needed:
        assert not _dockerignore_excludes(path), f".dockerignore excludes {path}"


# ------------------------------------------------------------------------ Dockerfile


def test_dockerfile_base_image_is_a_pinned_python_311_slim() -> None:
    instructions = _dockerfile_instructions()
    args = {}
    for keyword, rest in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            key, _, default = rest.partition("=")
            args[key.strip()] = default.strip()
    stages: set[str] = set()
    froms = [rest.split() for keyword, rest in instructions if keyword == "FROM"]
    assert froms, "Dockerfile has no FROM"
    for words in froms:
        image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], ""), words[0])
        # Pinned: an exact Python 3.11 release, and the digest of that image.
        pinned = re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm)?@sha256:[0-9a-f]{64}", image)
        assert image in stages or pinned, f"base image {image!r}"
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2])


def test_dockerfile_installs_the_project_without_the_embedded_extra() -> None:
    instructions = _dockerfile_instructions()
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert any(re.search(r"pip install(?:\s+-\S+)*\s+\.(?:\s|$|&&|;)", run) for run in installs), (
        f"no `pip install .` in {installs}"
    )
    for keyword, rest in instructions:
        assert "embedded" not in rest.lower(), f"{keyword} {rest}: the embedded extra is GPL"
        if keyword == "RUN":
            assert not re.search(r"pip install[^&;]*\.\[", rest), f"extras installed: {rest}"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    users = [rest for keyword, rest in instructions[last_from:] if keyword == "USER"]
    assert users, "the final stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0].strip()
    assert user not in {"root", "0", ""}, f"final USER is {user!r}"
    if not _DIGITS.match(user):
        creates = " ".join(rest for keyword, rest in instructions[last_from:] if keyword == "RUN")
        assert re.search(rf"useradd\b[^&;]*\b{re.escape(user)}\b", creates), (
            f"USER {user} is never created"
        )


def test_each_gateway_replica_keeps_its_search_index_on_its_own_volume(
    services: dict[str, dict[str, Any]],
) -> None:
    """The root file system is read-only: the index needs a writable volume, and one
    per replica (two processes cannot write one index folder): an anonymous volume,
    which compose creates for each container, never a named one they would share."""
    gateway = services["gateway"]
    folder = _environment(gateway)["NEWSFLOW_INDEX_DIR"]
    assert folder in [str(v) for v in gateway.get("volumes", [])], "index not on a volume"
    for mount in gateway.get("volumes", []):
        assert not str(mount).endswith(f":{folder}"), f"{mount}: replicas would share it"
    assert ("VOLUME", folder) in _dockerfile_instructions()
