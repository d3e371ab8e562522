"""Stream and consumer-group names: the pipeline's topology in one place.

::

    publishers ──XADD item=<json>──▶ news:ingest
                                        │  group "ingest"
                                        ▼
                                  [ingest service] ──invalid──▶ news:rejected
                                        │
                                        ▼
                                   news:ingested
                                        │  group "enrichment"
                                        ▼
                                [enrichment service]
                                        │
                                        ▼
                                   news:enriched
                                        │  group "storage"
                                        ▼
                                 [storage service] ──upsert──▶ MongoDB items
                                        │
                                        ▼
                                    news:stored ──XREAD──▶ [gateway] SSE /v1/stream

    any worker ──after N failed deliveries──▶ news:dead

Every entry on our own streams holds one field, ``event``, whose value is the JSON
of a versioned event model from :mod:`newsflow.events`. External publishers write
one field, ``item``, holding a JSON object in the publisher contract
(:mod:`newsflow.domain.contract`); FastStream's own envelope is accepted as well.
"""

from typing import Final

INGEST: Final = "news:ingest"
INGESTED: Final = "news:ingested"
ENRICHED: Final = "news:enriched"
STORED: Final = "news:stored"
REJECTED: Final = "news:rejected"
DEAD: Final = "news:dead"

#: The field external publishers put their JSON item in.
ITEM_FIELD: Final = "item"
#: The field our services put their JSON events in.
EVENT_FIELD: Final = "event"

#: Consumer group of each worker service, keyed by the stream it reads.
GROUPS: Final[dict[str, str]] = {
    INGEST: "ingest",
    INGESTED: "enrichment",
    ENRICHED: "storage",
}

#: Every stream a status report should show, in pipeline order.
ALL_STREAMS: Final = (INGEST, INGESTED, ENRICHED, STORED, REJECTED, DEAD)

#: Streams only an operator empties (``newsflow dlq``); retention never trims them.
NEVER_TRIMMED: Final = (DEAD,)

#: Which worker service trims which streams (see :mod:`newsflow.runtime.retention`):
#: its own input, and the streams no worker reads, which their main writer trims.
TRIMMED_BY: Final[dict[str, tuple[str, ...]]] = {
    "ingest": (INGEST, REJECTED),
    "enrichment": (INGESTED,),
    "storage": (ENRICHED, STORED),
}

#: Where each worker service publishes what it made of an entry of its input.
NEXT: Final[dict[str, str]] = {
    INGEST: INGESTED,
    INGESTED: ENRICHED,
    ENRICHED: STORED,
}
