"""The Kubernetes manifests, rendered and checked without a cluster.

``deploy/kubernetes/`` is rendered by ``tests/deploy/kustomize.py`` (the subset of
kustomize it uses). Every object is then validated against the Kubernetes API's
strict JSON schemas (shipped in the ``kubernetes-validate`` wheel: an unknown field
is an error) and KEDA's objects against ``deploy/kubernetes/schemas/``. The other
tests check what the schemas cannot: that the manifests agree with the code (the
streams and groups, the settings each service reads, its ports and drain time).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from newsflow import streams
from newsflow.runtime.redis_factory import create_broker
from newsflow.settings import SECRETS_DIR
from newsflow_enrichment.settings import EnrichmentSettings
from newsflow_gateway.settings import GatewaySettings
from newsflow_ingest.settings import IngestSettings
from newsflow_storage.settings import StorageSettings
from tests.deploy import kustomize

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "production")
KEDA_SCHEMA = KUBE / "schemas" / "keda.sh-v1alpha1.json"
#: The oldest Kubernetes the manifests claim (the preStop `sleep` action is on by
#: default from 1.30) and the newest whose schemas the wheel ships.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "enrichment": EnrichmentSettings,
    "storage": StorageSettings,
    "gateway": GatewaySettings,
}
WORKERS = ("ingest", "enrichment", "storage")
#: The stream each worker consumes (its group is streams.GROUPS[stream]).
WORKER_STREAM = {
    "ingest": streams.INGEST,
    "enrichment": streams.INGESTED,
    "storage": streams.ENRICHED,
}
GATEWAY_MAIN = ROOT / "services" / "newsflow_gateway" / "__main__.py"
MONGO_INIT = ROOT / "services" / "mongo-init" / "create-users.js"
_MONGO_USERS = re.compile(r"\{\s*user:\s*'(?P<user>\w+)'")

Manifest = dict[str, Any]


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    out = {name: kustomize.build(KUBE / "overlays" / name) for name in OVERLAYS}
    out["first-key"] = kustomize.build(KUBE / "first-key")
    return out


def _one(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objects if kustomize.key(o) == (kind, name)]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def _pod(obj: Manifest) -> dict[str, Any]:
    pod: dict[str, Any] = obj["spec"]["template"]["spec"]
    return pod


def _workloads(objects: list[Manifest]) -> Iterator[Manifest]:
    yield from (o for o in objects if o["kind"] in {"Deployment", "StatefulSet", "Job"})


def _validate(obj: Manifest) -> None:
    """Raise unless ``obj`` matches its schema, unknown fields forbidden."""
    if obj["apiVersion"].startswith("keda.sh/"):
        schema = json.loads(KEDA_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(obj)
        return
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)


def _config(objects: list[Manifest], deployment: Manifest) -> dict[str, str]:
    """The environment a Deployment's container gets from its ConfigMaps and env."""
    container = _pod(deployment)["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_one(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        env[item["name"]] = item["value"]
    return env


def _secret_keys(objects: list[Manifest], deployment: Manifest) -> dict[str, str]:
    """The files a Deployment finds in the secrets folder (dev overlay values)."""
    pod = _pod(deployment)
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    files: dict[str, str] = {}
    for volume in pod["volumes"]:
        if "secret" in volume and mounts.get(volume["name"]) == str(SECRETS_DIR):
            files.update(_one(objects, "Secret", volume["secret"]["secretName"])["stringData"])
    return files


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$")
_UNITS = {None: 1.0, "m": 0.001, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30}


def _quantity(text: str) -> float:
    match = _QUANTITY.match(str(text))
    assert match, f"quantity {text!r} not understood"
    return float(match[1]) * _UNITS[match[2]]


# ------------------------------------------------------------------- schemas, subset


@pytest.mark.parametrize("build", [*OVERLAYS, "first-key"])
def test_every_rendered_object_matches_its_schema(
    rendered: dict[str, list[Manifest]], build: str
) -> None:
    assert rendered[build], f"{build} renders nothing"
    for obj in rendered[build]:
        _validate(obj)


def _set(obj: Manifest, path: str, value: Any) -> Manifest:
    """A copy of ``obj`` with ``value`` at the dotted ``path`` (digits index lists)."""
    out = copy.deepcopy(obj)
    node: Any = out
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return out


MISTAKES = [
    # (overlay, kind, name, path of the bad field, value)
    ("dev", "Deployment", "ingest", "spec.template.spec.containers.0.imagePullPolicyy", "Always"),
    ("dev", "Deployment", "gateway", "spec.template.spec.securityContext.runAsNonroot", True),
    ("dev", "PodDisruptionBudget", "storage", "spec.minAvailabe", 1),
    ("dev", "Service", "gateway", "spec.ports.0.targetport", "http"),
    ("production", "HorizontalPodAutoscaler", "gateway", "spec.maxReplicaCount", 9),
    ("production", "ScaledObject", "storage", "spec.maxReplicas", 9),
    ("production", "ScaledObject", "ingest", "spec.triggers.0.metadata.lagcount", "5"),
    ("production", "TriggerAuthentication", "newsflow-redis", "spec.secretTargetRef.0.secret", "x"),
]


@pytest.mark.parametrize(("overlay", "kind", "name", "path", "value"), MISTAKES)
def test_an_unknown_field_fails_validation(
    rendered: dict[str, list[Manifest]], overlay: str, kind: str, name: str, path: str, value: Any
) -> None:
    good = _one(rendered[overlay], kind, name)
    _validate(good)
    with pytest.raises(jsonschema.ValidationError):
        _validate(_set(good, path, value))


def test_a_wrong_type_fails_validation(rendered: dict[str, list[Manifest]]) -> None:
    deployment = _one(rendered["dev"], "Deployment", "storage")
    with pytest.raises(jsonschema.ValidationError):
        _validate(_set(deployment, "spec.template.spec.terminationGracePeriodSeconds", "30s"))


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: '1'}\n"


def test_the_renderer_refuses_fields_it_does_not_implement(tmp_path: Path) -> None:
    _write(tmp_path, {"c.yaml": CONFIG_MAP, "kustomization.yaml": "resources: [c.yaml]\n"})
    assert kustomize.build(tmp_path)[0]["data"] == {"A": "1"}
    (tmp_path / "kustomization.yaml").write_text("resources: [c.yaml]\ncommonLabels: {a: b}\n")
    with pytest.raises(kustomize.KustomizeError, match="commonLabels"):
        kustomize.build(tmp_path)


def test_the_renderer_refuses_a_patch_without_a_target(tmp_path: Path) -> None:
    patch = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {A: '2'}\n"
    _write(
        tmp_path,
        {
            "c.yaml": CONFIG_MAP,
            "p.yaml": patch,
            "kustomization.yaml": "resources: [c.yaml]\npatches: [{path: p.yaml}]\n",
        },
    )
    with pytest.raises(kustomize.KustomizeError, match="no ConfigMap other"):
        kustomize.build(tmp_path)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("build", ["overlays/dev", "overlays/production", "first-key"])
def test_the_renderer_agrees_with_kubectl_kustomize(build: str) -> None:
    """Where kubectl is installed (the project's machine image ships it), its own
    kustomize renders exactly the objects ours does."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUBE / build)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    theirs = {kustomize.key(o): o for o in yaml.safe_load_all(result.stdout) if o}
    ours = {kustomize.key(o): o for o in kustomize.build(KUBE / build)}
    assert ours == theirs


def test_a_patch_merges_containers_by_name(tmp_path: Path) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - {name: a, image: x, env: [{name: K, value: '1'}]}\n"
        "      - {name: b, image: y}\n"
    )
    patch = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - {name: a, env: [{name: L, value: '2'}]}\n"
    )
    _write(
        tmp_path,
        {
            "d.yaml": deployment,
            "p.yaml": patch,
            "kustomization.yaml": "resources: [d.yaml]\npatches: [{path: p.yaml}]\n"
            "images: [{name: x, newName: reg:5000/x, newTag: '2'}]\n",
        },
    )
    (rendered,) = kustomize.build(tmp_path)
    a, b = _pod(rendered)["containers"]
    assert a["image"] == "reg:5000/x:2"
    assert [e["name"] for e in a["env"]] == ["K", "L"]
    assert b == {"name": "b", "image": "y"}


# ------------------------------------------------------------- services, code agreement


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SETTINGS)
def test_each_service_runs_its_module_from_the_one_image(
    rendered: dict[str, list[Manifest]], overlay: str, service: str
) -> None:
    objects = rendered[overlay]
    container = _pod(_one(objects, "Deployment", service))["containers"][0]
    assert container["command"] == ["python", "-m", f"newsflow_{service}"]
    images = {_pod(d)["containers"][0]["image"] for d in _of_kind(objects, "Deployment")}
    assert len(images) == 1, f"services run different images: {images}"
    if overlay == "production":
        assert container["image"] == "registry.example.org/newsflow:0.1.0"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SETTINGS)
def test_the_settings_a_service_is_given_are_the_ones_it_reads(
    rendered: dict[str, list[Manifest]],
    overlay: str,
    service: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Every ConfigMap key and secret file parses as a setting of that service: a
    misspelt name would be ignored at run time (extra="ignore"), so check here."""
    objects = rendered[overlay]
    deployment = _one(objects, "Deployment", service)
    env = _config(objects, deployment)
    cls = SETTINGS[service]
    prefix = str(cls.model_config.get("env_prefix", ""))
    known: set[str] = set()
    for name, field in cls.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        known |= set(choices) if choices else {f"{prefix}{name}".upper()}
    unknown = set(env) - known
    assert not unknown, f"{service} does not read {sorted(unknown)}"

    files = _secret_keys(objects, deployment) if overlay == "dev" else {}
    for name, value in files.items():
        (tmp_path / name).write_text(value, encoding="utf-8")
    for name in known:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: Any = cls(_secrets_dir=tmp_path)  # type: ignore[call-arg]
    if service in WORKERS:
        assert settings.http_port == 8080
        assert settings.http_host == "0.0.0.0"
    else:
        assert settings.port == 8000
        assert settings.metrics_port == 9100
    if overlay == "dev":
        assert settings.redis_url == files["REDIS_URL"]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SETTINGS)
def test_probes_hit_healthz_and_readyz_on_the_served_port(
    rendered: dict[str, list[Manifest]], overlay: str, service: str
) -> None:
    objects = rendered[overlay]
    deployment = _one(objects, "Deployment", service)
    container = _pod(deployment)["containers"][0]
    env = _config(objects, deployment)
    served = int(env["GATEWAY_PORT"] if service == "gateway" else env["NEWSFLOW_HTTP_PORT"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{service} {probe}"
        assert ports[get["port"]] == served, f"{service} {probe} probes another port"


def test_credentials_are_files_never_environment(rendered: dict[str, list[Manifest]]) -> None:
    for overlay in (*OVERLAYS, "first-key"):
        for workload in _workloads(rendered[overlay]):
            for container in _pod(workload)["containers"]:
                for item in container.get("env", []):
                    assert "://" not in str(item.get("value", "")), f"URL in env: {item}"
                    assert "secretKeyRef" not in item.get("valueFrom", {}), f"secret in env: {item}"
                assert all("secretRef" not in s for s in container.get("envFrom", []))
    for service in SETTINGS:
        pod = _pod(_one(rendered["production"], "Deployment", service))
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[str(SECRETS_DIR)])
        assert volume["secret"]["secretName"] == f"newsflow-{service}"


def test_dev_ships_every_secret_it_uses_and_production_none(
    rendered: dict[str, list[Manifest]],
) -> None:
    assert not _of_kind(rendered["production"], "Secret")
    dev = rendered["dev"]
    secrets = {s["metadata"]["name"] for s in _of_kind(dev, "Secret")}
    for workload in _workloads(dev):
        for volume in _pod(workload).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets
    for service in ("storage", "gateway"):
        files = _secret_keys(dev, _one(dev, "Deployment", service))
        assert files["MONGODB_URL"].startswith("mongodb://")


def _env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as ``kubectl create secret --from-env-file`` reads them."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            pairs[name] = value
    return pairs


def test_production_secret_templates_cover_every_secret_it_mounts(
    rendered: dict[str, list[Manifest]],
) -> None:
    """The operator makes production's Secrets from these files (README, step 5):
    Redis through Sentinel, MongoDB as a replica set acknowledging w=majority."""
    folder = KUBE / "overlays" / "production" / "secrets"
    templates = {p.name.removesuffix(".env.example"): p for p in folder.glob("*.env.example")}
    objects = rendered["production"]
    wanted: dict[str, set[str]] = {}
    for workload in _workloads(objects):
        for volume in _pod(workload).get("volumes", []):
            if "secret" in volume:
                wanted.setdefault(volume["secret"]["secretName"], set())
    for service in SETTINGS:
        keys = {"REDIS_URL", "MONGODB_URL"} if service in {"storage", "gateway"} else {"REDIS_URL"}
        wanted[f"newsflow-{service}"] = keys
    for auth in _of_kind(objects, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            wanted.setdefault(ref["name"], set()).add(ref["key"])
    assert set(templates) == set(wanted)
    users = {u["user"] for u in _MONGO_USERS.finditer(MONGO_INIT.read_text(encoding="utf-8"))}
    for name, keys in wanted.items():
        values = _env_file(templates[name])
        assert set(values) == keys, f"{name}: {sorted(values)} instead of {sorted(keys)}"
        if "REDIS_URL" in values:
            assert values["REDIS_URL"].startswith("redis+sentinel://")
            assert values["REDIS_URL"].endswith("/mymaster/0")
            # Each service as its own Redis user (README, "Redis ACLs").
            service = name.removeprefix("newsflow-")
            assert values["REDIS_URL"].startswith(f"redis+sentinel://{service}:"), service
        if "MONGODB_URL" in values:
            url = values["MONGODB_URL"]
            query = dict(part.split("=") for part in url.partition("?")[2].split("&"))
            assert query["w"] == "majority"
            assert query["replicaSet"]
            assert query["authSource"] == "admin"
            user = re.match(r"mongodb://([^:]+):", url)
            assert user, url
            assert user[1] == f"newsflow_{name.removeprefix('newsflow-')}"
            assert user[1] in users, f"{user[1]} is not a user create-users.js makes"
    assert _env_file(templates["newsflow-keda-redis"])["username"] == "keda"
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "deploy/kubernetes/overlays/production/secrets/*.env" in gitignore


#: What KEDA's Redis scalers take from a TriggerAuthentication.
KEDA_REDIS_AUTH = {"username", "password", "sentinelUsername", "sentinelPassword"}


@pytest.mark.parametrize("build", ["production", "autoscaling"])
def test_keda_logs_in_as_its_own_redis_user(
    rendered: dict[str, list[Manifest]], build: str
) -> None:
    objects = rendered[build] if build in rendered else kustomize.build(KUBE / build)
    (auth,) = _of_kind(objects, "TriggerAuthentication")
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert set(refs) <= KEDA_REDIS_AUTH
    # Without a username KEDA would log in as the default user, which is off.
    assert {"username", "password"} <= set(refs)
    assert refs["username"]["name"] == refs["password"]["name"] == "newsflow-keda-redis"


# ---------------------------------------------------------------------- Redis users


def _dev_redis(objects: list[Manifest]) -> tuple[list[str], dict[str, str], str]:
    """The dev Redis: its command, the files of its Secret by path, its probe."""
    redis = _one(objects, "StatefulSet", "redis")
    pod = _pod(redis)
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    files: dict[str, str] = {}
    for mount in container["volumeMounts"]:
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret:
            data = _one(objects, "Secret", secret["secretName"])["stringData"]
            files.update({f"{mount['mountPath']}/{k}": v for k, v in data.items()})
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    return container["command"], files, probe


def _acl_hashes(text: str) -> dict[str, str]:
    """User -> its ``#sha256`` password (empty when it has none) in a users.acl."""
    out = {}
    for line in text.splitlines():
        word, user, *rule = line.split()
        assert word == "user", f"not a user line: {line!r}"
        out[user] = next((r for r in rule if r.startswith("#")), "")
    return out


def _sha(password: str) -> str:
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def test_dev_redis_loads_its_users_from_the_acl_file(rendered: dict[str, list[Manifest]]) -> None:
    command, files, probe = _dev_redis(rendered["dev"])
    assert command[0] == "redis-server"
    assert "requirepass" not in " ".join(command)
    acl_path = command[command.index("--aclfile") + 1]
    acl = files[acl_path]
    assert acl.splitlines()[-1] == "user default off"
    users = _acl_hashes(acl)
    # The readiness probe logs in as a user of the file (the default user is off).
    match = re.search(r'REDISCLI_AUTH="\$\(cat (\S+)\)" redis-cli --user (\w+) ping', probe)
    assert match, probe
    assert users[match[2]] == _sha(files[match[1]])


@pytest.mark.parametrize("service", SETTINGS)
def test_each_dev_service_connects_as_its_own_redis_user(
    rendered: dict[str, list[Manifest]], service: str
) -> None:
    objects = rendered["dev"]
    command, files, _ = _dev_redis(objects)
    users = _acl_hashes(files[command[command.index("--aclfile") + 1]])
    url = _secret_keys(objects, _one(objects, "Deployment", service))["REDIS_URL"]
    match = re.fullmatch(r"redis://(\w+):([^@]+)@redis:6379/0", url)
    assert match, url
    assert match[1] == service
    assert users[service] == _sha(match[2]), f"{service}: not the password of the ACL file"


def test_the_dev_acl_file_is_what_newsflow_acl_prints(
    rendered: dict[str, list[Manifest]],
) -> None:
    """The rules are written once, in newsflow_tools.acl: the dev Secret holds its
    output for the passwords dev-only-<user>."""
    acl = pytest.importorskip("newsflow_tools.acl", reason="the tools are not installed")
    command, files, _ = _dev_redis(rendered["dev"])
    out, err = io.StringIO(), io.StringIO()
    acl.render("file", {u.name: f"dev-only-{u.name}" for u in acl.users()}, out, err)
    assert files[command[command.index("--aclfile") + 1]] == out.getvalue()


# ------------------------------------------------------------------------ hardening


@pytest.mark.parametrize("build", [*OVERLAYS, "first-key"])
def test_every_pod_is_locked_down(rendered: dict[str, list[Manifest]], build: str) -> None:
    for workload in _workloads(rendered[build]):
        name = workload["metadata"]["name"]
        pod = _pod(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            resources = container["resources"]
            for what in ("cpu", "memory"):
                request = _quantity(resources["requests"][what])
                limit = _quantity(resources["limits"][what])
                assert 0 < request <= limit, f"{name}: {what} request {request} > limit {limit}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_only_writable_paths_are_volumes(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    objects = rendered[overlay]
    for service in SETTINGS:
        deployment = _one(objects, "Deployment", service)
        pod = _pod(deployment)
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in pod["containers"][0]["volumeMounts"]}
        assert "emptyDir" in mounts["/tmp"], service
        if service == "gateway":
            index = _config(objects, deployment)["NEWSFLOW_INDEX_DIR"]
            # One index per replica (docs/adr/0005): a pod-local folder, rebuilt when new.
            assert "emptyDir" in mounts[index]
            assert _quantity(mounts[index]["emptyDir"]["sizeLimit"]) >= 2**30


def test_workers_get_longer_to_stop_than_they_take_to_drain(
    rendered: dict[str, list[Manifest]],
) -> None:
    drain = create_broker("redis://127.0.0.1:1/0").config.graceful_timeout
    assert drain, "FastStream would not wait for the batch in flight"
    uvicorn = re.search(r"timeout_graceful_shutdown=(\d+)", GATEWAY_MAIN.read_text())
    assert uvicorn, "the gateway sets no graceful shutdown time"
    for overlay in OVERLAYS:
        for service in WORKERS:
            pod = _pod(_one(rendered[overlay], "Deployment", service))
            assert pod["terminationGracePeriodSeconds"] >= 2 * drain, service
        pod = _pod(_one(rendered[overlay], "Deployment", "gateway"))
        pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pod["terminationGracePeriodSeconds"] > pre_stop + int(uvicorn[1])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_a_disruption_budget(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    objects = rendered[overlay]
    for service in SETTINGS:
        deployment = _one(objects, "Deployment", service)
        budget = _one(objects, "PodDisruptionBudget", service)
        selector = budget["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{service}: budget selects other pods"
        assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


# ---------------------------------------------------------------------- autoscaling


def test_production_scales_each_worker_on_its_groups_lag(
    rendered: dict[str, list[Manifest]],
) -> None:
    objects = rendered["production"]
    auth = {a["metadata"]["name"] for a in _of_kind(objects, "TriggerAuthentication")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in _of_kind(objects, "ScaledObject")}
    assert set(scaled) == set(WORKERS)
    for service, obj in scaled.items():
        deployment = _one(objects, "Deployment", service)
        ready_max_lag = int(_config(objects, deployment)["NEWSFLOW_READY_MAX_LAG"])
        (trigger,) = obj["spec"]["triggers"]
        metadata = trigger["metadata"]
        assert trigger["type"] == "redis-sentinel-streams"
        assert metadata["stream"] == WORKER_STREAM[service]
        assert metadata["consumerGroup"] == streams.GROUPS[WORKER_STREAM[service]]
        assert metadata["sentinelMaster"]
        assert all(a.rpartition(":")[2] == "26379" for a in metadata["addresses"].split(","))
        # Scale out before readiness reports the lag (README, "Deploying").
        assert 0 < 2 * int(metadata["lagCount"]) <= ready_max_lag, service
        assert trigger["authenticationRef"]["name"] in auth
        assert 1 <= obj["spec"]["minReplicaCount"] < obj["spec"]["maxReplicaCount"]


def test_the_autoscaling_base_uses_the_plain_redis_streams_scaler() -> None:
    objects = kustomize.build(KUBE / "autoscaling")
    for obj in _of_kind(objects, "ScaledObject"):
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "redis-streams"
        service = obj["spec"]["scaleTargetRef"]["name"]
        assert trigger["metadata"]["stream"] == WORKER_STREAM[service]


def test_production_scales_the_gateway_on_cpu(rendered: dict[str, list[Manifest]]) -> None:
    objects = rendered["production"]
    hpa = _one(objects, "HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert hpa["spec"]["minReplicas"] >= 2
    _one(objects, "Deployment", "gateway")


def test_no_deployment_fixes_its_replicas_where_an_autoscaler_owns_them(
    rendered: dict[str, list[Manifest]],
) -> None:
    for deployment in _of_kind(rendered["production"], "Deployment"):
        assert "replicas" not in deployment["spec"], deployment["metadata"]["name"]


def test_dev_runs_one_of_each_on_pinned_backing_images(
    rendered: dict[str, list[Manifest]],
) -> None:
    objects = rendered["dev"]
    assert not _of_kind(objects, "ScaledObject")
    assert not _of_kind(objects, "HorizontalPodAutoscaler")
    for service in SETTINGS:
        assert _one(objects, "Deployment", service)["spec"]["replicas"] == 1
    images = {
        s["metadata"]["name"]: _pod(s)["containers"][0]["image"]
        for s in _of_kind(objects, "StatefulSet")
    }
    assert images == {"redis": "redis:7.4", "mongo": "mongo:8.0"}
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert namespaces == {"newsflow-dev"}


# ---------------------------------------------------------------------- the first key


def test_the_first_key_job_runs_once() -> None:
    (job,) = kustomize.build(KUBE / "first-key")
    assert job["kind"] == "Job"
    assert job["spec"]["backoffLimit"] == 0, "a retry would make a second key"
    assert _pod(job)["restartPolicy"] == "Never"


@pytest.mark.integration
def test_the_first_key_job_makes_a_key_the_gateway_accepts(
    mongo_server: Any, mongo_db_name: str
) -> None:
    """Runs the Job's own command against a real MongoDB-wire server."""
    from pymongo import MongoClient

    from newsflow.runtime import keys

    (job,) = kustomize.build(KUBE / "first-key")
    container = _pod(job)["containers"][0]
    assert container["command"][0] == "python"
    # In the cluster MONGODB_URL is a file in /run/secrets; the environment is read
    # the same way (tests/unit/test_settings_secrets.py), and needs no such folder.
    env = {"MONGODB_URL": mongo_server.url, "MONGODB_DATABASE": mongo_db_name}
    result = subprocess.run(
        [sys.executable, "-c", container["command"][2], *container["args"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    presented = result.stdout.strip()
    parsed = keys.parse_key(presented)
    assert parsed, f"not a key: {presented!r}"
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_server.url)
    try:
        doc = client[mongo_db_name][keys.API_KEYS].find_one({"_id": parsed[0]})
    finally:
        client.close()
    key = keys.verify(doc, parsed[1])
    assert key is not None
    assert key.publisher == "admin"
    assert key.scopes == {"admin", "publish", "read"}
