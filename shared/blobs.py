"""Files kept by their content: e-reports (7.4.4) and the materials a customer
sends against the one-time notice (7.4.3).

A file is named by the SHA-256 of its bytes, the same digest a completed
referral records for its report, so the record and the stored file cannot
disagree: what is fetched under a digest is checked against it before it is
handed out. Storing the same bytes twice keeps one copy.

``BlobStore`` is the interface a store implements:

- ``put(content: bytes) -> str``: keep the bytes, answer their SHA-256 (hex);
- ``get(digest: str) -> bytes``: the bytes, ``NotFound`` when none are kept,
  ``BlobCorrupted`` when what is kept no longer has that digest;
- ``exists(digest) -> bool`` and ``delete(digest)`` (nothing if absent).

``FolderBlobStore`` is the embedded default: a folder (``QI_BLOB_DIR``, by
default ``QI_VAR_DIR/blobs``), a file per digest under two levels of its
first characters, written to a temporary name and renamed (a reader never
sees half a file), readable by the service's user only (0600). Several
gateway instances need the folder shared (a volume) or another store.

An S3-compatible store (MinIO, Ceph RGW, a cloud's object storage) at scale
implements the same four methods over one bucket with the digest as the
object key (``sha256/ab/cd/<digest>``): ``put`` is PutObject with
``ChecksumSHA256`` (the service refuses bytes that do not match) and
``If-None-Match: *`` (a second put of the same content changes nothing),
``get`` is GetObject followed by the same digest check, ``exists`` is
HeadObject, ``delete`` DeleteObject; credentials from the environment, the
bucket private, objects served only through the gateway (never a public
URL: a report is the customer's). It is not part of this installation.

The kinds of file accepted are recognised by their first bytes, not by the
name or the type a browser claims.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from shared import config
from shared.errors import NotFound, ValidationFailed

DIGEST = re.compile(r"^[0-9a-f]{64}$")
# media type -> (the bytes a file of it starts with, its name in Chinese)
SIGNATURES = {
    "application/pdf": (b"%PDF-", "PDF"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG 图片"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG 图片"),
}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
REPORT_TYPES = ("application/pdf",)
MATERIAL_TYPES = ("application/pdf", "image/jpeg", "image/png")


class BlobCorrupted(Exception):
    """What is kept under a digest no longer has that digest."""


class BlobStore(Protocol):
    def put(self, content: bytes) -> str: ...

    def get(self, digest: str) -> bytes: ...

    def exists(self, digest: str) -> bool: ...

    def delete(self, digest: str) -> None: ...


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def normal_digest(digest) -> str | None:
    digest = str(digest or "").strip().lower()
    return digest if DIGEST.match(digest) else None


class FolderBlobStore:
    """Files in a folder, each named by its SHA-256 (see the module doc)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        normal = normal_digest(digest)
        if normal is None:
            raise NotFound("file")
        return self.root / normal[:2] / normal[2:4] / normal

    def put(self, content: bytes) -> str:
        digest = sha256_of(content)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as file:  # mkstemp made it 0600
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise NotFound("file") from None
        if sha256_of(content) != path.name:
            raise BlobCorrupted(path.name)
        return content

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)


def store_from_config() -> BlobStore:
    """The installation's store: QI_BLOB_DIR, or QI_VAR_DIR/blobs."""
    folder = config.get("QI_BLOB_DIR")
    root = Path(folder) if folder else config.var_dir() / "blobs"
    if not root.is_absolute():
        root = config.REPO_ROOT / root
    return FolderBlobStore(root)


def upload_limit() -> int:
    return config.get_int("QI_UPLOAD_MAX_BYTES")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} 字节"


def checked_file(
    content: bytes, field: str, allowed: tuple[str, ...], limit: int | None = None
) -> str:
    """The media type of an uploaded file of one of the ``allowed`` types, by
    its first bytes; refused in Chinese, naming ``field``, when empty, too
    large or of another kind."""
    limit = upload_limit() if limit is None else limit
    if not content:
        raise ValidationFailed.single(field, "请选择要上传的文件（文件不能为空）")
    if len(content) > limit:
        sizes = f"上限 {megabytes(limit)}，该文件 {megabytes(len(content))}"
        raise ValidationFailed.single(field, f"文件过大：{sizes}")
    for media, (magic, _) in SIGNATURES.items():
        if media in allowed and content.startswith(magic):
            return media
    names = "、".join(SIGNATURES[m][1] for m in allowed)
    raise ValidationFailed.single(field, f"文件格式不符：只接受 {names} 文件")
