"""Where uploaded files live: a folder (the default, `instance/files`) or any S3-compatible
store (`METABIZ_FILES=s3://bucket/prefix`), behind one small interface.

The database keeps only each file's description; several servers share an S3 store.
S3 credentials and the endpoint come from boto3's usual settings (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 for a store other than AWS).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from metabiz.errors import NotFound

log = logging.getLogger(__name__)


class FileStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every stored key with when it was stored (aware UTC), partial writes included."""
        ...

    def list_keys(self) -> Iterator[str]:
        """Every complete stored file's key (what a backup copies)."""
        ...


#: what a folder store's interrupted write leaves behind (never a key metabiz hands out)
PARTIAL = ".part"


class FolderStorage:
    """Files under one folder, by key (keys are made by metabiz: no `..`, no absolute)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            raise NotFound(f"no stored file {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"the stored file {key!r} is missing") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file():
                stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
                yield path.relative_to(self.root).as_posix(), stamp

    def list_keys(self) -> Iterator[str]:
        return (key for key, _ in self.listing() if not key.endswith(PARTIAL))


class S3Storage:
    """Files as objects of one bucket under a prefix, through boto3."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        import boto3  # a third-party client, loaded only when an S3 store is configured

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client("s3")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"the stored file {key!r} is missing") from None
        return answer["Body"].read()  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start)
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(start):], item["LastModified"]

    def list_keys(self) -> Iterator[str]:
        return (key for key, _ in self.listing())


def storage_for(setting: str, instance_path: Path) -> FileStorage:
    """The storage METABIZ_FILES names: `s3://bucket/prefix`, a folder, or (empty) the
    instance folder's files/."""
    if setting.startswith("s3://"):
        bucket, _, prefix = setting[len("s3://"):].partition("/")
        if not bucket:
            raise ValueError(f"METABIZ_FILES {setting!r} names no bucket (s3://bucket/prefix)")
        return S3Storage(bucket, prefix)
    return FolderStorage(Path(setting) if setting else instance_path / "files")
