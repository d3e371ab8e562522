"""The part of kustomize that ``deploy/kubernetes/`` uses, so the tests render it offline.

No kustomize binary is on PyPI or npm (the ``kustomize`` wheel on PyPI is an unrelated
Python DSL), and the suite downloads nothing at test time. So this module renders a
kustomization the way ``kustomize build`` does, for these fields only:

- ``resources``: YAML files (any number of documents) and folders holding a
  ``kustomization.yaml``, rendered recursively;
- ``namespace``: set on every namespaced object;
- ``labels`` with ``pairs`` (added to ``metadata.labels``; not to selectors or pod
  templates, which is kustomize's default for ``labels``);
- ``images``: ``name`` with ``newName`` and/or ``newTag``, on every container;
- ``replicas``: ``name`` and ``count``;
- ``patches`` with ``path``: strategic-merge patches, each document matched to one
  object by kind and name. Built-in kinds merge ``containers``, ``env``, ``volumes``
  and the like by their merge key; custom resources (KEDA) replace lists whole, as
  kustomize does without their OpenAPI schema.

Any other field is an error, so a kustomization never silently renders differently
here than with the real tool; where kubectl is installed, ``test_kubernetes.py``
compares the two renderings object by object.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION = "kustomization.yaml"
_FIELDS = frozenset(
    {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "patches"}
)
#: Objects without a namespace (only those the manifests could contain).
_CLUSTER_SCOPED = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
)
#: Strategic-merge keys of the built-in list fields the patches may touch.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
_SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})

Manifest = dict[str, Any]


class KustomizeError(ValueError):
    """The kustomization uses something this subset does not implement, or is wrong."""


def build(folder: Path) -> list[Manifest]:
    """Render the kustomization in ``folder`` into its list of objects."""
    path = folder / KUSTOMIZATION
    if not path.is_file():
        raise KustomizeError(f"{folder}: no {KUSTOMIZATION}")
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(spec) - _FIELDS
    if unknown:
        raise KustomizeError(f"{path}: fields not implemented here: {sorted(unknown)}")
    objects: list[Manifest] = []
    for entry in spec.get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            objects.extend(build(target))
        elif target.is_file():
            objects.extend(load_documents(target))
        else:
            raise KustomizeError(f"{path}: resource {entry} does not exist")
    _check_unique(objects, path)
    for patch in spec.get("patches", []):
        _apply_patch_file(objects, folder, patch, path)
    for item in spec.get("replicas", []):
        _set_replicas(objects, item, path)
    for image in spec.get("images", []):
        _set_image(objects, image)
    for label in spec.get("labels", []):
        unsupported = set(label) - {"pairs"}
        if unsupported:
            raise KustomizeError(f"{path}: labels fields not implemented: {sorted(unsupported)}")
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in _CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return objects


def load_documents(path: Path) -> list[Manifest]:
    """Every non-empty YAML document in ``path``, each of which must be an object."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "metadata" not in doc:
            raise KustomizeError(f"{path}: a document is not a Kubernetes object")
    return docs


def key(obj: Manifest) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _check_unique(objects: list[Manifest], path: Path) -> None:
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        if key(obj) in seen:
            raise KustomizeError(f"{path}: {key(obj)} is defined twice")
        seen.add(key(obj))


def _find(objects: list[Manifest], kind: str, name: str, path: Path) -> Manifest:
    for obj in objects:
        if key(obj) == (kind, name):
            return obj
    raise KustomizeError(f"{path}: no {kind} {name} to patch or scale")


def _apply_patch_file(
    objects: list[Manifest], folder: Path, patch: dict[str, Any], path: Path
) -> None:
    if set(patch) != {"path"}:
        raise KustomizeError(f"{path}: only `patches: - path: FILE` is implemented")
    for doc in load_documents(folder / patch["path"]):
        target = _find(objects, doc["kind"], doc["metadata"]["name"], path)
        builtin = "." not in target["apiVersion"].split("/")[0] or target["apiVersion"].startswith(
            ("apps/", "batch/", "policy/", "autoscaling/")
        )
        merged = _merge(target, doc, builtin)
        target.clear()
        target.update(merged)


def _merge(base: Any, patch: Any, builtin: bool) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for name, value in patch.items():
            if name in out:
                out[name] = _merge_field(name, out[name], value, builtin)
            else:
                out[name] = copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


def _merge_field(name: str, base: Any, patch: Any, builtin: bool) -> Any:
    merge_key = _MERGE_KEYS.get(name) if builtin else None
    if merge_key and isinstance(base, list) and isinstance(patch, list):
        out = [copy.deepcopy(item) for item in base]
        for item in patch:
            match = next(
                (i for i, old in enumerate(out) if old[merge_key] == item[merge_key]), None
            )
            if match is None:
                out.append(copy.deepcopy(item))
            else:
                out[match] = _merge(out[match], item, builtin)
        return out
    return _merge(base, patch, builtin)


def _set_replicas(objects: list[Manifest], item: dict[str, Any], path: Path) -> None:
    matches = [
        o for o in objects if o["kind"] in _SCALABLE and o["metadata"]["name"] == item["name"]
    ]
    if not matches:
        raise KustomizeError(f"{path}: replicas: nothing named {item['name']} to scale")
    for obj in matches:
        obj["spec"]["replicas"] = item["count"]


def containers(obj: Manifest) -> Iterator[dict[str, Any]]:
    """Every container and init container of a workload, wherever its pod spec sits."""
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get(
        "template", {}
    ).get("spec")
    if obj["kind"] == "Pod":
        pod = spec
    for field in ("initContainers", "containers"):
        yield from (pod or {}).get(field, [])


def split_image(reference: str) -> tuple[str, str]:
    """``registry:5000/name:tag`` -> (``registry:5000/name``, ``tag``); no tag -> ''."""
    colon = reference.rfind(":")
    if colon > reference.rfind("/"):
        return reference[:colon], reference[colon + 1 :]
    return reference, ""


def _set_image(objects: list[Manifest], image: dict[str, Any]) -> None:
    for obj in objects:
        for container in containers(obj):
            name, tag = split_image(container["image"])
            if name != image["name"]:
                continue
            name = image.get("newName", name)
            tag = image.get("newTag", tag)
            container["image"] = f"{name}:{tag}" if tag else name
