"""Settings of the ingest service."""

from pydantic import Field

from newsflow.settings import WorkerSettings


class IngestSettings(WorkerSettings):
    idempotency_window_s: int = Field(
        default=86_400,
        ge=1,
        description="How long a publisher's idempotency_key is remembered.",
    )
