"""Settings of the storage service."""

from newsflow.settings import WorkerSettings


class StorageSettings(WorkerSettings):
    pass
