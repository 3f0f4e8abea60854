"""Materials the customer sends against the one-time notice (7.4.3): uploaded
by the progress code, listed and read by the demand's staff."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import text
from services.gateway.routing.declare import Call, endpoint, route
from services.gateway.routing.query import PAGE
from services.gateway.routing.uploads import file_of, form_text
from services.gateway.usecases import customer, files
from shared import blobs

MATERIAL_FIELDS = {
    "required": ["material"],
    "properties": {"material": text("材料名称（告知书所列）", 200)},
}

# a file the customer uploaded (services/gateway/uploads.py), never its content
FILE_FIELDS = {
    "material": answers.STRING,
    "sha256": answers.STRING,
    "size": answers.INTEGER,
    "media_type": answers.STRING,
    "filename": answers.STRING,
}
FILE_REQUIRED = ("material", "sha256", "size", "media_type")
# the upload's answer names its moment ``at``; the stored list ``uploaded_at``
RECEIVED = answers.record(
    "收到的材料", (*FILE_REQUIRED, "at"), **FILE_FIELDS, at=answers.STRING
)
UPLOADED = answers.record(
    "客户上传的材料",
    (*FILE_REQUIRED, "uploaded_at"),
    **FILE_FIELDS,
    uploaded_at=answers.STRING,
)


class MaterialRoutes:
    @route(
        "POST",
        "/api/v1/progress/{code}/materials",
        customer.upload_material,
        "凭进度查询码上传一次性告知书所列的材料（PDF、JPEG、PNG）",
        status=201,
        upload=blobs.MATERIAL_TYPES,
        upload_fields=MATERIAL_FIELDS,
        guard="progress",
        answer=RECEIVED,
    )
    def upload_material(self, call: Call):
        content, filename = file_of(call.request)
        return call.run(
            material=form_text(call.request, "material"),
            content=content,
            filename=filename,
        )

    demand_materials = endpoint(
        "GET",
        "/api/v1/demands/{demand_id}/materials",
        files.materials,
        "客户按告知书上传的材料（本机构服务人员）",
        paged=True,
        query=PAGE,
        answer=answers.page(UPLOADED),
    )

    @route(
        "GET",
        "/api/v1/demands/{demand_id}/materials/{sha256}",
        files.material_file,
        "下载客户上传的一份材料",
        media=("application/pdf", "image/jpeg", "image/png"),
        inner=("sha256",),
        answer=answers.FILE,
    )
    def demand_material_file(self, call: Call):
        return call.run()
