"""Settings of the ``newsflow`` command: which Redis, MongoDB and gateway it talks to.

Read once per command, here and nowhere else, in this order (first wins):

1. a command-line flag (``--redis-url``, ``--mongodb-url``);
2. the environment (``REDIS_URL`` or ``NEWSFLOW_REDIS_URL``, ...), then ``.env``;
3. the state file of a running ``newsflow run`` (``.data/stack.json``, see
   :mod:`newsflow_tools.stack_state`), so that ``newsflow status`` after
   ``make run`` looks at that stack's Redis and not at whatever listens on 6379;
4. the defaults of :class:`newsflow.settings.ServiceSettings`.

Each setting remembers where it came from (:meth:`ToolSettings.origin`), so the
command can say which server it talks to and why, and the bench can tell a URL
given on purpose from one it merely found.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, PrivateAttr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from newsflow.settings import ServiceSettings
from newsflow_tools import stack_state
from newsflow_tools.stack_state import StackState

Origin = Literal["flag", "environment", "dotenv", "stack", "default"]

#: Sources by class name, as pydantic-settings files their data, in priority order.
_ORIGIN_OF_SOURCE: dict[str, Origin] = {
    "InitSettingsSource": "flag",
    "EnvSettingsSource": "environment",
    "DotEnvSettingsSource": "dotenv",
    "StackStateSource": "stack",
}
#: Where the settings being built came from; handed from the sources to the model.
_building: ContextVar[tuple[dict[str, Origin], Path, StackState | None]] = ContextVar("building")


def _key(name: str, field: FieldInfo) -> str:
    """The key under which the sources file a field: its first alias, else its name."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return alias if isinstance(alias, str) else name


class StackStateSource(PydanticBaseSettingsSource):
    """The Redis, MongoDB and gateway URLs of the running stack, from its state file.

    The file is looked for in ``data_dir`` as the higher sources set it (a flag or
    ``NEWSFLOW_DATA_DIR``), else in the default ``.data``.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        data_dir = Path(
            self.current_state.get("data_dir") or self.settings_cls.model_fields["data_dir"].default
        )
        path = stack_state.path_in(data_dir)
        state = stack_state.read(path)
        fields = self.settings_cls.model_fields
        values: dict[str, Any] = {}
        if state is not None:
            for name in ("redis_url", "mongodb_url", "gateway_url"):
                values[_key(name, fields[name])] = getattr(state, name)
        # The last source before the defaults: record which source gave each field.
        origins: dict[str, Origin] = {}
        data = {**self.settings_sources_data, "StackStateSource": values}
        for name, field in fields.items():
            key = _key(name, field)
            origins[name] = next(
                (o for s, o in _ORIGIN_OF_SOURCE.items() if key in data.get(s, {})), "default"
            )
        _building.set((origins, path, state))
        return values


class ToolSettings(ServiceSettings):
    """Where the ``newsflow`` command finds its servers (see the module docstring)."""

    gateway_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias=AliasChoices("GATEWAY_URL", "NEWSFLOW_GATEWAY_URL"),
        description="Base URL of the gateway.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where `newsflow run` keeps its data and its state file, stack.json.",
    )
    mongodb_timeout_ms: int = Field(
        default=5000,
        ge=1,
        le=600_000,
        description="How long a command waits for MongoDB before saying it cannot reach it.",
    )
    # The names enrichment reads, so `newsflow reenrich` in the stack's environment
    # compares against the version enrichment stamps (ADR 0007).
    topic_model: bool = Field(
        default=False, description="Whether enrichment runs with the statistical topic model."
    )
    topic_model_path: Path | None = Field(
        default=None,
        description="The topic model file enrichment uses (the packaged one if unset).",
    )
    _origins: dict[str, Origin] = PrivateAttr(default_factory=dict)
    _state_path: Path = PrivateAttr(default=Path(".data") / stack_state.FILE_NAME)
    _stack: StackState | None = PrivateAttr(default=None)

    @field_validator("gateway_url")
    @classmethod
    def _http_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("GATEWAY_URL must start with http:// or https://")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, StackStateSource(settings_cls))

    def model_post_init(self, context: Any) -> None:
        origins, path, state = _building.get(({}, self._state_path, None))
        self._origins, self._state_path, self._stack = origins, path, state

    @property
    def state_path(self) -> Path:
        """The state file looked for (whether or not it was there)."""
        return self._state_path

    @property
    def stack(self) -> StackState | None:
        """The running stack the state file names, if there was one."""
        return self._stack

    def origin(self, name: str) -> Origin:
        return self._origins.get(name, "default")

    def explicit(self, name: str) -> bool:
        """True when the setting was given on purpose: a flag, the environment or .env."""
        return self.origin(name) in ("flag", "environment", "dotenv")

    def source_of(self, name: str) -> str:
        """Where a setting came from, in words: ``from the running stack, .data/stack.json``."""
        origin = self.origin(name)
        if origin == "flag":
            return f"from --{name.replace('_', '-')}"
        if origin == "environment":
            return "from the environment"
        if origin == "dotenv":
            return "from .env"
        if origin == "stack":
            return f"from the running stack, {self._state_path}"
        return f"the default; no running stack in {self._state_path}"


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``, fit to print.

    The credentials end at the *last* ``@`` of the authority, as the clients read
    them: a password may hold ``@`` and ``:`` unescaped, and all of it must go.
    """
    scheme, slashes, rest = url.partition("//")
    end = next((i for i, c in enumerate(rest) if c in "/?#"), len(rest))
    credentials, at, hosts = rest[:end].rpartition("@")
    user, colon, _ = credentials.partition(":")
    if not slashes or not at or not colon:
        return url
    return f"{scheme}//{user}:***@{hosts}{rest[end:]}"
