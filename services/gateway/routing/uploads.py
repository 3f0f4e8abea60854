"""A route's file body: multipart/form-data with the file in ``file`` and the
route's other fields beside it (an e-report and its number, a material and
its name). The size is refused before the body is read; the kind of file is
checked by its first bytes (``shared.blobs.checked_file``)."""

from __future__ import annotations

from shared import blobs
from shared.errors import ValidationFailed

# room for a file body's form fields and multipart boundaries
FORM_OVERHEAD = 64 * 1024
FILE_FIELD = "file"


def refuse_oversized_upload(request) -> None:
    """Refused by its declared length before anything reads it; one sent
    without a length stops being read past the limit (werkzeug's
    RequestEntityTooLarge, answered 413)."""
    limit = blobs.upload_limit() + FORM_OVERHEAD
    request.max_content_length = limit
    if request.content_length and request.content_length > limit:
        raise ValidationFailed.single(
            FILE_FIELD, f"文件过大：上限 {blobs.megabytes(blobs.upload_limit())}"
        )


def file_of(request, field: str = FILE_FIELD) -> tuple[bytes, str]:
    """The uploaded file's bytes and its name as sent ("" when none was)."""
    if not request.mimetype.startswith("multipart/form-data"):
        raise ValidationFailed.single(
            field,
            "请以 multipart/form-data 上传文件（curl 用 -F 'file=@报告.pdf'）",
        )
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise ValidationFailed.single(field, "请选择要上传的文件")
    return upload.read(), upload.filename[:200]


def form_text(request, name: str, longest: int = 200) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > longest:
        raise ValidationFailed.single(name, f"不能超过 {longest} 个字符")
    return value
