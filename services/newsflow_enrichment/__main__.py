"""Entry point: ``python -m newsflow_enrichment``."""

from newsflow.service import configure_logging, load_settings, run_service
from newsflow.worker import serve
from newsflow_enrichment.app import create_worker
from newsflow_enrichment.settings import EnrichmentSettings


async def main() -> int:
    settings = load_settings(EnrichmentSettings)
    configure_logging(settings.log_level)
    worker, broker = create_worker(settings)
    return await serve(worker, broker)


if __name__ == "__main__":
    run_service(main)
