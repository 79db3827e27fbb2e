"""Where raw FIRDS files are staged and archived: one small interface, Azure Blob or memory.

In Azure the workers reach the storage account with their user-assigned identity
(DefaultAzureCredential); locally an Azurite connection string; in tests, memory.
https://learn.microsoft.com/azure/storage/blobs/storage-quickstart-blobs-python
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient


class BlobStore(Protocol):
    def upload(
        self, container: str, name: str, source: Path, metadata: Mapping[str, str] | None = None
    ) -> None:
        """Store the file under `name` (replacing a blob of that name) with its metadata."""
        ...

    def exists(self, container: str, name: str) -> bool: ...

    def metadata(self, container: str, name: str) -> dict[str, str]: ...

    def move(self, container: str, name: str, to_container: str, to_name: str) -> None:
        """Copy the blob and its metadata, then delete the original (no rename in blobs)."""
        ...

    def names(self, container: str, prefix: str = "") -> list[str]: ...


class InMemoryBlobStore:
    """Blobs in a dict: tests, and runs where no storage is configured."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.meta: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def upload(
        self, container: str, name: str, source: Path, metadata: Mapping[str, str] | None = None
    ) -> None:
        with self._lock:
            self.blobs[(container, name)] = source.read_bytes()
            self.meta[(container, name)] = dict(metadata or {})

    def exists(self, container: str, name: str) -> bool:
        return (container, name) in self.blobs

    def metadata(self, container: str, name: str) -> dict[str, str]:
        return dict(self.meta[(container, name)])

    def move(self, container: str, name: str, to_container: str, to_name: str) -> None:
        with self._lock:
            self.blobs[(to_container, to_name)] = self.blobs.pop((container, name))
            self.meta[(to_container, to_name)] = self.meta.pop((container, name))

    def names(self, container: str, prefix: str = "") -> list[str]:
        return sorted(n for c, n in self.blobs if c == container and n.startswith(prefix))


class AzureBlobStore:
    """Azure Blob Storage (or Azurite) through azure-storage-blob."""

    def __init__(self, service: BlobServiceClient, *, create_containers: bool) -> None:
        # In Azure the stack creates the containers (infra/etl); only Azurite starts empty.
        self._service = service
        self._create = create_containers

    @classmethod
    def with_identity(cls, account_url: str, client_id: str | None) -> AzureBlobStore:
        from azure.identity import DefaultAzureCredential
        from azure.storage.blob import BlobServiceClient

        credential = DefaultAzureCredential(managed_identity_client_id=client_id)
        return cls(BlobServiceClient(account_url, credential=credential), create_containers=False)

    @classmethod
    def from_connection_string(cls, connection_string: str) -> AzureBlobStore:
        from azure.storage.blob import BlobServiceClient

        return cls(
            BlobServiceClient.from_connection_string(connection_string), create_containers=True
        )

    def _container(self, container: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        if not self._create:
            return
        with contextlib.suppress(ResourceExistsError):
            self._service.create_container(container)

    def upload(
        self, container: str, name: str, source: Path, metadata: Mapping[str, str] | None = None
    ) -> None:
        self._container(container)
        with source.open("rb") as handle:
            self._service.get_blob_client(container, name).upload_blob(
                handle, overwrite=True, metadata=dict(metadata or {})
            )

    def exists(self, container: str, name: str) -> bool:
        return bool(self._service.get_blob_client(container, name).exists())

    def metadata(self, container: str, name: str) -> dict[str, str]:
        properties = self._service.get_blob_client(container, name).get_blob_properties()
        return dict(properties.metadata or {})

    def move(self, container: str, name: str, to_container: str, to_name: str) -> None:
        # Streamed through the worker: a server-side copy would need the source authorised
        # by SAS, and the workers hold no keys.
        self._container(to_container)
        source = self._service.get_blob_client(container, name)
        target = self._service.get_blob_client(to_container, to_name)
        download = source.download_blob()
        target.upload_blob(
            download.chunks(), overwrite=True, metadata=dict(download.properties.metadata or {})
        )
        source.delete_blob()

    def names(self, container: str, prefix: str = "") -> list[str]:
        client = self._service.get_container_client(container)
        return sorted(b.name for b in client.list_blobs(name_starts_with=prefix or None))
