"""Entry point: ``python -m newsflow_gateway`` serves the API with uvicorn."""

import uvicorn

from newsflow.runtime.logs import configure_logging
from newsflow.runtime.service import load_settings
from newsflow.runtime.tracing import configure_tracing
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging(settings.log_level, settings.log_format, "gateway")
    provider = configure_tracing("gateway", settings.otlp_endpoint)
    try:
        serve(settings)
    finally:
        if provider is not None:
            provider.shutdown()  # sends what is still buffered


def serve(settings: GatewaySettings) -> None:
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # uvicorn's loggers go through the root handler, in NEWSFLOW_LOG_FORMAT.
        log_config=None,
        timeout_graceful_shutdown=10,
        # uvicorn trusts X-Forwarded-For/-Proto from 127.0.0.1 unless told not to:
        # without a proxy, a client on the host could pick its address (and dodge
        # the per-address login limit) or make a cookie Secure over plain HTTP.
        proxy_headers=settings.trust_proxy_headers,
    )


if __name__ == "__main__":
    main()
