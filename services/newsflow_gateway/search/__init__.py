"""The gateway's search path: ``params`` (HTTP query parameters → a
:class:`~newsflow_gateway.search.backend.StoryQuery`) and ``backend`` (the one
interface routes search through, :class:`~newsflow_gateway.search.backend.StorySearch`)."""
