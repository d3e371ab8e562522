"""Settings of the enrichment service."""

from pathlib import Path

from pydantic import Field

from newsflow.settings import WorkerSettings


class EnrichmentSettings(WorkerSettings):
    taxonomy_path: Path | None = Field(
        default=None,
        description="Taxonomy JSON file; the packaged OSCE taxonomy when unset.",
    )
    topic_model: bool = Field(
        default=False,
        description=(
            "Let the statistical topic model settle inferred topics (precision first; "
            "see ADR 0007 for why it is off by default)."
        ),
    )
    topic_model_path: Path | None = Field(
        default=None,
        description="Topic model JSON file; the packaged one when unset. Read only when on.",
    )
