"""The catalog over HTTP: public service information (5.1.5, 6.4 c) and its
upkeep by the platform's administrator — partner institutions and their
qualifications (4.1), the service items of clause 6, the public guide."""

from __future__ import annotations

from services.gateway.routing import answers
from services.gateway.routing.body import choice, fields, plain, plains, whole
from services.gateway.routing.declare import Call, endpoint, fields_of, form, route
from services.gateway.routing.query import ON, param
from services.gateway.routing.query import day as query_day
from services.gateway.usecases import catalog
from shared.errors import ValidationFailed

INSTITUTIONS = "/api/v1/catalog/institutions"
QUALIFICATIONS = INSTITUTIONS + "/{institution_id}/qualifications"
QUALIFICATION = QUALIFICATIONS + "/{cert_no}"
INSTITUTION = fields(
    {
        "code": plain("机构代码", 64),
        "name": plain("机构名称", 100),
        "kind": plain("机构类别", 32),
        "contact_phone": plain("联系电话", 32),
        "address": plain("地址", 200),
    },
    required=("code", "name", "kind"),
)
GRANT = fields(
    {
        "kind": plain("资质类别", 32),
        "cert_no": plain("证书编号", 64),
        "scope_codes": plains("资质范围（服务事项编码）", 10, most=100),
        "scope_text": plain("范围说明", 2000),
        "valid_from": plain("有效期起", 10),
        "valid_to": plain("有效期止", 10),
    },
    required=("kind", "cert_no", "scope_codes", "valid_from", "valid_to"),
)
STATUS = fields(
    {
        "action": choice("操作", ["suspend", "reinstate", "revoke"]),
        "effective_on": plain("生效日期", 10),
        "reason": plain("原因", 500),
    },
    required=("action", "effective_on", "reason"),
)
ITEM = fields(
    {
        "name": plain("名称", 100),
        "description": plain("说明", 2000),
        "materials": plains("所需材料", 200),
        "cycle_days": whole("办理周期（工作日）"),
    }
)
GUIDE = fields(
    {
        "process": plains("服务流程", 500),
        "service_phone": plain("服务电话", 32),
        "complaint_phone": plain("投诉电话", 32),
        "suggestion_email": plain("意见建议邮箱", 100),
        "address": plain("地址", 200),
    }
)

# -- answers -----------------------------------------------------------------
GUIDE_ANSWER = answers.record(
    "服务指南",
    ("process", "version"),
    process=answers.listing(answers.STRING),
    service_phone=answers.STRING,
    complaint_phone=answers.STRING,
    suggestion_email=answers.STRING,
    address=answers.STRING,
    version=answers.INTEGER,
)
ITEM_ANSWER = answers.record(
    "服务事项",
    ("code", "name"),
    code=answers.STRING,
    name=answers.STRING,
    description=answers.STRING,
    materials=answers.listing(answers.STRING),  # 所需材料的名称
    cycle_days=answers.maybe(answers.INTEGER),
    parent=answers.maybe(answers.STRING),
    version=answers.INTEGER,
)
QUALIFICATION_FIELDS = {
    "cert_no": answers.STRING,
    "kind": answers.STRING,
    "kind_label": answers.STRING,
    "scope_codes": answers.listing(answers.STRING),
    "scope_text": answers.STRING,
    "valid_from": answers.STRING,
    "valid_to": answers.STRING,
    "status": answers.STRING,  # 在所查日期的状态
    "status_label": answers.STRING,
}
QUALIFICATION_ROW = answers.record(
    "资质及其在某日的状态（4.1）",
    ("cert_no", "kind", "scope_codes", "valid_from", "valid_to", "status"),
    **QUALIFICATION_FIELDS,
)
QUALIFIED_INSTITUTION = answers.record(
    "具备该事项资质的机构及其资质",
    ("institution_id", "institution_name", "cert_no", "scope_codes", "status"),
    institution_id=answers.STRING,
    institution_code=answers.STRING,
    institution_name=answers.STRING,
    institution_kind=answers.STRING,
    **QUALIFICATION_FIELDS,
)
INSTITUTION_ANSWER = answers.record(
    "机构及其资质",
    ("id", "code", "name"),
    id=answers.STRING,
    code=answers.STRING,
    name=answers.STRING,
    kind=answers.STRING,
    kind_label=answers.STRING,
    contact_phone=answers.STRING,
    address=answers.STRING,
    qualifications=answers.listing(QUALIFICATION_ROW),
    version=answers.INTEGER,
)
INSTITUTIONS_ON = answers.record(
    "某日的认证机构及其资质",
    ("on", "institutions"),
    on=answers.STRING,
    institutions=answers.listing(INSTITUTION_ANSWER),
)
QUALIFIED_ON = answers.record(
    "某日具备某服务事项资质的机构",
    ("on", "item", "institutions"),
    on=answers.STRING,
    item=answers.STRING,
    institutions=answers.listing(QUALIFIED_INSTITUTION),
)


class CatalogRoutes:
    service_guide = endpoint(
        "GET", "/api/v1/public/guide", catalog.guide, "服务指南", answer=GUIDE_ANSWER
    )
    catalog_item = endpoint(
        "GET",
        "/api/v1/catalog/items/{code}",
        catalog.item,
        "服务事项详情与所需材料",
        answer=ITEM_ANSWER,
    )

    @route(
        "GET",
        "/api/v1/catalog/items",
        catalog.items,
        "服务事项目录",
        answer=answers.items(ITEM_ANSWER),
    )
    def catalog_items(self, call: Call):
        return {"items": call.run()}

    @route(
        "GET",
        "/api/v1/catalog/certification-bodies",
        catalog.certification_bodies,
        "认证机构及其认证范围（6.4 c）",
        query=(ON,),
        answer=INSTITUTIONS_ON,
    )
    def certification_bodies(self, call: Call):
        on = query_day(call.arg("on"))
        return {"on": on, "institutions": call.run(on=on)}

    @route(
        "GET",
        "/api/v1/catalog/qualified-institutions",
        catalog.qualified,
        "某日具备某服务事项资质的机构（4.1）",
        query=(param("item", required=True), ON),
        answer=QUALIFIED_ON,
    )
    def qualified_institutions(self, call: Call):
        """Who may serve an item on a day: ``?item=6.4.3&on=2026-05-31``."""
        item = call.arg("item")
        if not item:
            raise ValidationFailed.single("item", "请给出服务事项编码")
        on = query_day(call.arg("on"))
        return {"item": item, "on": on, "institutions": call.run(item=item, on=on)}

    # -- upkeep by the platform's administrator ----------------------------

    register_institution = endpoint(
        "POST",
        INSTITUTIONS,
        catalog.register_institution,
        "登记合作机构（平台管理员）",
        form,
        body=INSTITUTION,
        status=201,
        answer=INSTITUTION_ANSWER,
    )
    grant_qualification = endpoint(
        "POST",
        QUALIFICATIONS,
        catalog.grant_qualification,
        "登记机构资质及其范围（4.1，平台管理员）",
        form,
        body=GRANT,
        status=201,
        answer=INSTITUTION_ANSWER,
    )
    change_qualification_status = endpoint(
        "POST",
        QUALIFICATION + "/status",
        catalog.change_qualification_status,
        "暂停、恢复或撤销资质（自生效日期起，平台管理员）",
        fields_of,
        body=STATUS,
        inner=("cert_no",),
        answer=INSTITUTION_ANSWER,
    )
    renew_qualification = endpoint(
        "POST",
        QUALIFICATION + "/renewal",
        catalog.renew_qualification,
        "资质续期（平台管理员）",
        fields_of,
        body=fields({"valid_to": plain("有效期止", 10)}, required=("valid_to",)),
        inner=("cert_no",),
        answer=INSTITUTION_ANSWER,
    )
    revise_catalog_item = endpoint(
        "POST",
        "/api/v1/catalog/items/{code}/revision",
        catalog.revise_item,
        "修订服务事项（平台管理员）",
        form,
        body=ITEM,
        answer=ITEM_ANSWER,
    )
    revise_service_guide = endpoint(
        "POST",
        "/api/v1/catalog/guide/revision",
        catalog.revise_guide,
        "修订公开的服务指南（平台管理员）",
        form,
        body=GUIDE,
        answer=GUIDE_ANSWER,
    )
