"""Entry point: ``python -m newsflow_gateway`` serves the API with uvicorn."""

import uvicorn

from newsflow.runtime.service import configure_logging, load_settings
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
