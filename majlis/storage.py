"""Where recordings and transcripts are kept: a folder (embedded tier) or an S3-compatible store (production).

`MAJLIS_STORAGE_URL`: unset for `<instance>/attachments`; `file:///srv/majlis/attachments` for another folder;
`s3://bucket/prefix` for S3, MinIO, Ceph or any S3-compatible store through boto3, with `?endpoint=https://…` for a
store other than AWS and `&region=…`. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, an instance role); they never appear in the URL.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class StorageError(RuntimeError):
    """The store refused or could not be reached."""


class FolderStorage:
    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError("a key outside the folder")
        return path

    def put(self, key: str, source: str, content_type: str) -> None:
        """Move a finished local file into the store under `key` (atomically: a reader never sees half a file)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        shutil.copyfile(source, partial)
        os.replace(partial, path)

    def path(self, key: str) -> Path:
        return self._path(key)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", *, endpoint: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                                   config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                 signature_version="s3v4"))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: str, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:  # multipart for large files, by boto3's transfer manager
            self.client.upload_file(source, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"upload refused: {type(exc).__name__}") from exc

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError:
            return False
        return True

    def presigned_url(self, key: str, *, filename: str, seconds: int = 300) -> str:
        """A short-lived link the browser downloads from directly (Majlis has checked who may have it)."""
        return self.client.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": self._key(key),
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})


def from_config(config, instance_path: str):
    """The store the configuration names."""
    url = config.get("MAJLIS_STORAGE_URL")
    if not url:
        return FolderStorage(os.path.join(instance_path, "attachments"))
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderStorage(unquote(parts.path))
    if parts.scheme == "s3" and parts.netloc:
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        return S3Storage(parts.netloc, unquote(parts.path), endpoint=options.get("endpoint"),
                         region=options.get("region"))
    raise StorageError("MAJLIS_STORAGE_URL must be file:///path or s3://bucket/prefix")
