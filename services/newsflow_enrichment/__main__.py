"""Entry point: ``python -m newsflow_enrichment``."""

from newsflow.runtime.service import run_worker
from newsflow_enrichment.app import create_worker
from newsflow_enrichment.settings import EnrichmentSettings

if __name__ == "__main__":
    run_worker(EnrichmentSettings, create_worker)
