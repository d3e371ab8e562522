"""Entry point: ``python -m newsflow_ingest``."""

from newsflow.runtime.service import run_worker
from newsflow_ingest.app import create_worker
from newsflow_ingest.settings import IngestSettings

if __name__ == "__main__":
    run_worker(IngestSettings, create_worker)
