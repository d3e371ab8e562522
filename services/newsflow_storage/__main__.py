"""Entry point: ``python -m newsflow_storage``."""

from newsflow.runtime.service import run_worker
from newsflow_storage.app import create_worker
from newsflow_storage.settings import StorageSettings

if __name__ == "__main__":
    run_worker(StorageSettings, create_worker)
