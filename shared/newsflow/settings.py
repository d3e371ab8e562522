"""Typed settings shared by every service.

Each service subclasses :class:`ServiceSettings` with its own knobs. Settings are
read from the environment (and an optional ``.env`` file) once, in the service's
entry point, and passed down as plain arguments: no other code reads
``os.environ``. A bad value stops the service at start-up with a message that
names the variable, rather than failing later on first use.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

#: Where Docker and compose mount ``secrets:``, one file per secret. A file named like
#: a setting's variable (``REDIS_URL``, ``MONGODB_URL``) sets it, so credentials need
#: not sit in the container's environment. Environment variables still win.
SECRETS_DIR = Path("/run/secrets")


def default_consumer_name() -> str:
    """A consumer name unique per process: host and pid.

    Replicas in one consumer group must not share a name, or Redis would treat
    them as one consumer and a crash of either would strand the other's entries.
    """
    return f"{socket.gethostname()}-{os.getpid()}"


class ServiceSettings(BaseSettings):
    """What every service needs: where Redis and MongoDB are, and how to log."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        secrets_dir=SECRETS_DIR,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the secrets folder only where it exists: outside a container there is
        none, and pydantic-settings would warn about it on every start."""
        folder = getattr(file_secret_settings, "secrets_dir", None)
        if isinstance(folder, str | os.PathLike) and Path(folder).is_dir():
            return init_settings, env_settings, dotenv_settings, file_secret_settings
        return init_settings, env_settings, dotenv_settings

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "NEWSFLOW_REDIS_URL"),
        description=(
            "Redis connection URL: redis://, rediss://, unix://, or "
            "redis+sentinel://[user:pass@]host:26379[,host2:port...]/mastername[/db]."
        ),
    )
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/?directConnection=true",
        validation_alias=AliasChoices("MONGODB_URL", "NEWSFLOW_MONGODB_URL"),
        description="MongoDB connection URL (mongodb:// or mongodb+srv://).",
    )
    mongodb_database: str = Field(
        default="newsflow",
        validation_alias=AliasChoices("MONGODB_DATABASE", "NEWSFLOW_MONGODB_DATABASE"),
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9_-]+$",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = Field(
        default="text",
        description=(
            "json: one JSON object per line, for a log shipper (the image's default); "
            "text: readable lines for a terminal."
        ),
    )

    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "NEWSFLOW_OTLP_ENDPOINT"),
        description=(
            "Base URL of an OpenTelemetry collector (OTLP over HTTP, e.g. "
            "http://otel-collector:4318); spans go to <url>/v1/traces. Unset: no tracing."
        ),
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("OTEL_EXPORTER_OTLP_ENDPOINT must start with http:// or https://")
        return value or None

    # -- Redis high availability and stream retention --------------------------
    # (README "Redis high availability" and "Retention"; docs/adr/0006.)
    redis_wait_replicas: int = Field(
        default=0,
        ge=0,
        le=16,
        description=(
            "Replicas that must acknowledge an accepted batch (Redis WAIT) before it is "
            "answered as accepted; 0 (one host, no replica) does not wait."
        ),
    )
    redis_wait_timeout_ms: int = Field(
        default=1000,
        ge=1,
        le=60_000,
        description="How long acceptance waits for those replicas before answering 503.",
    )
    retention_window_s: float = Field(
        default=7 * 24 * 3600,
        gt=0,
        description=(
            "Stream entries younger than this are never trimmed. Older ones are trimmed "
            "once every consumer group is past them (news:dead never)."
        ),
    )
    retention_interval_s: float = Field(
        default=60.0, gt=0, le=86_400, description="Time between two trim passes."
    )
    # -- end of Redis high availability and stream retention -------------------

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value.startswith("redis+sentinel://"):
            # Imported here: the runtime package imports this module.
            from newsflow.runtime.redis_factory import parse_sentinel_url

            parse_sentinel_url(value)
            return value
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "REDIS_URL must start with redis://, rediss://, unix:// or redis+sentinel://"
            )
        return value

    @field_validator("mongodb_url")
    @classmethod
    def _mongo_scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("MONGODB_URL must start with mongodb:// or mongodb+srv://")
        return value


class WorkerSettings(ServiceSettings):
    """Knobs of a stream worker (ingest, enrichment, storage)."""

    consumer_name: str = Field(
        default_factory=default_consumer_name,
        min_length=1,
        max_length=200,
        description="This process's consumer name in its group; unique per replica.",
    )
    batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Entries read per XREADGROUP. Bounds how much one replica grabs.",
    )
    poll_ms: int = Field(default=1000, ge=10, le=60_000, description="XREADGROUP block time.")
    reclaim_idle_ms: int = Field(
        default=30_000,
        ge=100,
        description=(
            "An entry pending this long on another consumer is taken to be abandoned "
            "and reclaimed. Keep it well above the slowest normal handling."
        ),
    )
    max_deliveries: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="After this many failed deliveries an entry goes to the dead-letter stream.",
    )
    http_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port for /healthz, /readyz and /metrics; unset means no HTTP endpoint.",
    )
    ready_max_lag: int = Field(
        default=10_000,
        ge=1,
        description="Readiness fails while the group lags more than this many entries.",
    )
    http_host: str = Field(
        default="127.0.0.1", description="Address of the health/metrics HTTP server."
    )
