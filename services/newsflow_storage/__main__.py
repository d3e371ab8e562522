"""Entry point: ``python -m newsflow_storage``."""

from newsflow.service import configure_logging, load_settings, run_service
from newsflow.worker import serve
from newsflow_storage.app import create_worker
from newsflow_storage.settings import StorageSettings


async def main() -> int:
    settings = load_settings(StorageSettings)
    configure_logging(settings.log_level)
    worker, broker = create_worker(settings)
    return await serve(worker, broker)


if __name__ == "__main__":
    run_service(main)
