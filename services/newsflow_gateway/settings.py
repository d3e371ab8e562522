"""Settings of the query gateway."""

from pathlib import Path

from pydantic import AliasChoices, Field

from newsflow.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("GATEWAY_HOST", "NEWSFLOW_GATEWAY_HOST"),
    )
    port: int = Field(
        default=8000,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("GATEWAY_PORT", "NEWSFLOW_GATEWAY_PORT"),
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed by CORS, e.g. ['https://app.example.org']; empty: no CORS.",
    )
    taxonomy_path: Path | None = Field(
        default=None, description="Taxonomy JSON file; the packaged OSCE taxonomy when unset."
    )
    query_timeout_ms: int = Field(default=15_000, ge=100, description="maxTimeMS for queries.")
    read_requires_key: bool = Field(
        default=False,
        description="When true, GET endpoints need a key with the 'read' scope.",
    )
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest POST body; 413 above it."
    )
    max_batch: int = Field(default=100, ge=1, le=1000, description="Items per POST, at most.")
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests per API key per minute; 429 above it."
    )
    ingest_max_lag: int = Field(
        default=10_000,
        ge=1,
        description="Undelivered entries on news:ingest above which POST answers 503.",
    )
    idempotency_ttl_s: int = Field(
        default=86_400, ge=60, description="How long an Idempotency-Key is remembered."
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?$",
        description=(
            "Absolute URL clients reach the gateway at, e.g. https://news.example.org; "
            "feeds build their ids and links from it. Unset: the listening address, "
            "or trusted proxy headers when trust_proxy_headers is set. Never the Host header."
        ),
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description=(
            "Take the public scheme and host from X-Forwarded-Proto/X-Forwarded-Host. "
            "Only behind a proxy that sets them; ignored when public_base_url is set."
        ),
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description=(
            "Serve /metrics on this port (at metrics_host) instead of the public port. "
            "Unset: /metrics is on the public port, with the same key rule as reading "
            "but the 'admin' scope."
        ),
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address of the metrics port.")
    max_live_clients: int = Field(
        default=500,
        ge=1,
        description=(
            "Live-feed (SSE) clients at once; more answer 503. Each commit of the index "
            "costs one search per client."
        ),
    )
    index_dir: Path = Field(
        default=Path(".data/index"),
        validation_alias=AliasChoices("NEWSFLOW_INDEX_DIR", "INDEX_DIR"),
        description=(
            "Folder of this gateway's search index. One per gateway replica: two "
            "processes cannot write one folder (the second reports 'failed')."
        ),
    )
    index_commit_ms: int = Field(
        default=250,
        ge=10,
        le=10_000,
        description="The follower commits at least this often while news:stored has work.",
    )
    index_batch: int = Field(
        default=1000, ge=1, le=100_000, description="news:stored entries per commit, at most."
    )
    index_rebuild_batch: int = Field(
        default=2000, ge=1, le=100_000, description="Stories read from MongoDB per rebuild step."
    )
    index_writer_mb: int = Field(
        default=64, ge=16, le=4096, description="Memory of the index writer, in MB."
    )
    ops_session_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="How long an operator-console login lasts without activity, in seconds.",
    )
    ops_login_per_minute: int = Field(
        default=10,
        ge=1,
        description="Operator-console login attempts per client address per minute; 429 above.",
    )
