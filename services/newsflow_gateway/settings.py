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
