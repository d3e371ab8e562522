"""Settings of the enrichment service."""

from pathlib import Path

from pydantic import Field

from newsflow.settings import WorkerSettings


class EnrichmentSettings(WorkerSettings):
    taxonomy_path: Path | None = Field(
        default=None,
        description="Taxonomy JSON file; the packaged OSCE taxonomy when unset.",
    )
