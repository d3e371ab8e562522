"""The contracts other programs build on, generated from the code.

- :mod:`newsflow.contracts.schemas`: the JSON Schema of every event and of the
  publisher item, shipped in the package (``newsflow/schemas/*.json``).
- :mod:`newsflow.contracts.asyncapi`: the AsyncAPI 3.0 document of every stream
  (committed as ``docs/asyncapi.json``, served by the gateway at ``/asyncapi.json``).

Both are built from the pydantic models (:mod:`newsflow.events`,
:mod:`newsflow.domain.contract`) and the topology (:mod:`newsflow.streams`); the
copies on disk are checked against them by ``tests/unit/test_contracts*.py``.
Each module runs as a script to rewrite its copy.
"""
