"""Seed data for the catalog: the service items of clause 6 (6.1–6.10).

Pure data plus tiny helpers; standard library only.

Coding rule: a top-level item keeps its clause number ("6.1" … "6.10"); a lettered
sub-item is coded by its position in the clause's list, a→1, b→2, … ("6.4 c" is
"6.4.3"). Sub-items follow the standard's lettering exactly, so 6.3 a stays one
sub-item ("6.3.1") rather than being split per stage.

6.9 and 6.10 have no lettered list in the standard, so they have no sub-items here:
6.9 is a single service offered to the supervision department, and 6.10 is an open
slot for whatever else an institution's capability allows.

``materials`` is the checklist the window uses to list every missing item in one
notice (7.4.3); ``cycle_days`` is a default cycle in working days that an
institution may override; ``contact`` is left empty in the seed and filled in per
institution.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemSeed:
    """One service item or sub-item of clause 6."""

    code: str
    name: str
    description: str
    materials: tuple[str, ...]
    cycle_days: int
    contact: str = ""


SEED_ITEMS: tuple[ItemSeed, ...] = (
    # 6.1
    ItemSeed(
        code="6.1",
        name="计量服务",
        description="提供计量咨询、器具校准检定、计量数据分析及计量培训等服务。",
        materials=(
            "计量服务委托单",
            "营业执照复印件",
            "计量器具清单",
            "计量器具原始检定/校准证书",
            "经办人授权委托书",
        ),
        cycle_days=10,
    ),
    ItemSeed(
        code="6.1.1",
        name="计量技术咨询",
        description="就量值溯源、测量方法和计量管理体系建设等问题提供技术咨询。",
        materials=(
            "咨询申请表",
            "营业执照复印件",
            "咨询问题说明",
            "现有计量器具清单",
        ),
        cycle_days=5,
    ),
    ItemSeed(
        code="6.1.2",
        name="计量设备校准和检定",
        description="对客户送检或现场的计量器具开展校准和检定并出具证书。",
        materials=(
            "校准/检定委托单",
            "营业执照复印件",
            "计量器具清单(名称、型号、编号、准确度等级)",
            "计量器具使用说明书",
            "上次检定/校准证书",
        ),
        cycle_days=7,
    ),
    ItemSeed(
        code="6.1.3",
        name="计量数据处理和分析",
        description="对测量数据进行处理、不确定度评定和统计分析并出具分析报告。",
        materials=(
            "数据分析委托单",
            "原始测量数据",
            "测量方法或作业指导书",
            "所用计量器具校准证书",
        ),
        cycle_days=10,
    ),
    ItemSeed(
        code="6.1.4",
        name="计量培训和认证",
        description="组织计量人员业务培训和考核,协助办理相关能力认证。",
        materials=(
            "培训报名表",
            "学员身份证复印件",
            "学历或专业技术资格证明",
            "单位推荐函",
        ),
        cycle_days=20,
    ),
    # 6.2
    ItemSeed(
        code="6.2",
        name="标准服务",
        description="提供标准咨询、标准科研及标准制修订指导等服务。",
        materials=(
            "标准服务委托单",
            "营业执照复印件",
            "需求说明",
            "相关标准或技术文件",
            "经办人授权委托书",
        ),
        cycle_days=15,
    ),
    ItemSeed(
        code="6.2.1",
        name="标准咨询",
        description="提供标准查询、标准有效性确认和标准适用性解读等咨询服务。",
        materials=(
            "标准咨询申请表",
            "营业执照复印件",
            "产品或服务说明",
            "拟查询标准清单",
        ),
        cycle_days=5,
    ),
    ItemSeed(
        code="6.2.2",
        name="标准科研",
        description="围绕客户需求开展标准化课题研究并形成研究报告。",
        materials=(
            "科研合作协议",
            "营业执照复印件",
            "课题任务书或研究方案",
            "相关技术资料",
        ),
        cycle_days=60,
    ),
    ItemSeed(
        code="6.2.3",
        name="标准制修订指导",
        description="指导企业和团体编制、修订各级标准并协助完成立项和报批。",
        materials=(
            "标准制修订指导委托书",
            "营业执照复印件",
            "标准立项申请书",
            "标准草案及编制说明",
            "试验验证数据",
        ),
        cycle_days=30,
    ),
    # 6.3
    ItemSeed(
        code="6.3",
        name="检验检测服务",
        description="为客户提供全过程检验检测、相关咨询技术服务及检验检测业务培训。",
        materials=(
            "检验检测委托协议",
            "营业执照复印件",
            "样品及样品信息表",
            "产品标准或技术要求",
            "经办人授权委托书",
        ),
        cycle_days=15,
    ),
    ItemSeed(
        code="6.3.1",
        name="检验检测及技术服务",
        description="在产品研发、采购、生产、交付等环节提供检验检测及技术服务。",
        materials=(
            "检验检测委托协议",
            "营业执照复印件",
            "样品及样品信息表",
            "产品标准或技术要求",
            "产品说明书或图纸",
        ),
        cycle_days=15,
    ),
    ItemSeed(
        code="6.3.2",
        name="检验检测业务培训",
        description="面向企业检验人员开展检验检测方法、标准和实验室管理培训。",
        materials=(
            "培训报名表",
            "学员身份证复印件",
            "单位推荐函",
            "培训需求说明",
        ),
        cycle_days=10,
    ),
    # 6.4
    ItemSeed(
        code="6.4",
        name="认证认可咨询服务",
        description="提供强制性认证、自愿性认证法规、认证机构查询及体系认证咨询。",
        materials=(
            "认证咨询申请表",
            "营业执照复印件",
            "产品或组织情况说明",
            "经办人授权委托书",
        ),
        cycle_days=10,
    ),
    ItemSeed(
        code="6.4.1",
        name="强制性产品认证咨询",
        description="就产品是否属于强制性认证目录及申请流程、资料准备提供咨询。",
        materials=(
            "认证咨询申请表",
            "营业执照复印件",
            "产品说明书及型号清单",
            "关键元器件清单",
            "产品检验报告",
        ),
        cycle_days=10,
    ),
    ItemSeed(
        code="6.4.2",
        name="自愿性认证法规咨询",
        description="解读自愿性认证相关法律法规和实施规则,帮助客户选择认证方案。",
        materials=(
            "咨询申请表",
            "营业执照复印件",
            "拟认证产品或服务说明",
        ),
        cycle_days=5,
    ),
    ItemSeed(
        code="6.4.3",
        name="认证机构及认证范围查询",
        description="查询具有资质的认证机构及其批准的认证范围并告知客户结果。",
        materials=(
            "查询申请表",
            "拟认证产品或领域说明",
        ),
        cycle_days=2,
    ),
    ItemSeed(
        code="6.4.4",
        name="管理体系认证咨询培训",
        description="为组织建立和运行管理体系提供认证咨询和内审员等培训服务。",
        materials=(
            "咨询培训委托书",
            "营业执照复印件",
            "组织机构图",
            "现有管理体系文件",
            "培训人员名单",
        ),
        cycle_days=20,
    ),
    # 6.5
    ItemSeed(
        code="6.5",
        name="质量管理服务",
        description="组织专家指导企业质量提升,提供质量管理培训信息并协助培养质量人才。",
        materials=(
            "质量管理服务申请表",
            "营业执照复印件",
            "企业质量状况说明",
            "经办人授权委托书",
        ),
        cycle_days=20,
    ),
    ItemSeed(
        code="6.5.1",
        name="专家指导质量提升",
        description="组织技术专家深入企业诊断质量问题并制定质量提升方案。",
        materials=(
            "质量提升帮扶申请表",
            "营业执照复印件",
            "企业质量状况说明",
            "近年质量问题及客户投诉汇总",
            "主要产品检验报告",
        ),
        cycle_days=30,
    ),
    ItemSeed(
        code="6.5.2",
        name="质量管理培训信息",
        description="向企业推送质量管理知识相关培训的时间、内容和报名信息。",
        materials=(
            "信息订阅登记表",
            "联系人信息",
        ),
        cycle_days=3,
    ),
    ItemSeed(
        code="6.5.3",
        name="质量人才培养",
        description="协助企业制定质量人才培养计划并组织首席质量官等人员培训。",
        materials=(
            "人才培养申请表",
            "营业执照复印件",
            "拟培养人员名单",
            "人员学历及岗位证明",
        ),
        cycle_days=30,
    ),
    # 6.6
    ItemSeed(
        code="6.6",
        name="质量认证服务",
        description="开展质量、环境、职业健康安全等管理体系认证服务。",
        materials=(
            "认证申请书",
            "营业执照复印件",
            "管理体系文件",
            "组织机构图及场所清单",
            "内审和管理评审记录",
        ),
        cycle_days=30,
    ),
    ItemSeed(
        code="6.6.1",
        name="质量管理体系认证",
        description="依据GB/T 19001开展质量管理体系(QMS)认证审核并颁发证书。",
        materials=(
            "认证申请书",
            "营业执照复印件",
            "质量手册及程序文件",
            "产品及工艺流程说明",
            "内审和管理评审记录",
        ),
        cycle_days=30,
    ),
    ItemSeed(
        code="6.6.2",
        name="环境管理体系认证",
        description="依据GB/T 24001开展环境管理体系(EMS)认证审核并颁发证书。",
        materials=(
            "认证申请书",
            "营业执照复印件",
            "环境管理体系文件",
            "环境影响评价批复及排污许可证",
            "环境因素识别评价清单",
            "内审和管理评审记录",
        ),
        cycle_days=30,
    ),
    ItemSeed(
        code="6.6.3",
        name="职业健康安全管理体系认证",
        description="依据GB/T 45001开展职业健康安全管理体系(OHS)认证审核并颁发证书。",
        materials=(
            "认证申请书",
            "营业执照复印件",
            "职业健康安全管理体系文件",
            "危险源辨识和风险评价清单",
            "安全生产许可或相关证照",
            "内审和管理评审记录",
        ),
        cycle_days=30,
    ),
    # 6.7
    ItemSeed(
        code="6.7",
        name="仪器共享服务",
        description="建设大型仪器设备共享平台并向客户开放共享使用。",
        materials=(
            "仪器共享申请表",
            "营业执照复印件或身份证明",
            "仪器设备清单",
            "安全使用承诺书",
        ),
        cycle_days=5,
    ),
    ItemSeed(
        code="6.7.1",
        name="大型仪器共享平台建设",
        description="组织大型仪器设备入网登记,建设共享平台或共享基地。",
        materials=(
            "仪器入网登记表",
            "仪器设备清单(名称、型号、技术指标、存放地点)",
            "仪器设备检定/校准证书",
            "共享服务管理制度",
            "操作人员资质证明",
        ),
        cycle_days=60,
    ),
    ItemSeed(
        code="6.7.2",
        name="大型仪器设备共享使用",
        description="为客户预约安排大型检验仪器设备的机时和操作服务。",
        materials=(
            "仪器共享预约申请表",
            "营业执照复印件或身份证明",
            "测试方案及样品信息表",
            "安全使用承诺书",
        ),
        cycle_days=5,
    ),
    # 6.8
    ItemSeed(
        code="6.8",
        name="食品审核服务",
        description="承担食品生产许可核查、监督检查、配方注册和技术咨询等审核服务。",
        materials=(
            "食品审核服务申请表",
            "营业执照复印件",
            "食品生产许可证或申请材料",
            "产品执行标准",
            "经办人授权委托书",
        ),
        cycle_days=20,
    ),
    ItemSeed(
        code="6.8.1",
        name="食品生产许可核查",
        description="对食品及特殊食品生产许可申请开展材料审查和现场核查。",
        materials=(
            "食品生产许可申请书",
            "营业执照复印件",
            "生产场所平面图及设备布局图",
            "主要生产设备设施清单",
            "工艺流程图",
            "食品安全管理制度",
        ),
        cycle_days=15,
    ),
    ItemSeed(
        code="6.8.2",
        name="食品生产监督检查",
        description="受监管部门委托对食品生产企业开展日常或专项监督检查。",
        materials=(
            "监督检查任务书",
            "食品生产许可证复印件",
            "食品安全自查报告",
            "原料进货查验及出厂检验记录",
        ),
        cycle_days=10,
    ),
    ItemSeed(
        code="6.8.3",
        name="产品配方注册",
        description="为婴幼儿配方乳粉、特殊医学用途配方食品等配方注册提供审核服务。",
        materials=(
            "配方注册申请书",
            "营业执照复印件",
            "产品配方及配方研发报告",
            "生产工艺说明",
            "产品检验报告",
            "标签和说明书样稿",
        ),
        cycle_days=60,
    ),
    ItemSeed(
        code="6.8.4",
        name="食品技术研究与咨询",
        description="开展食品安全与质量技术研究,并为企业提供标准和法规咨询。",
        materials=(
            "技术咨询委托书",
            "营业执照复印件",
            "产品配方及工艺说明",
            "问题描述及相关检验报告",
        ),
        cycle_days=20,
    ),
    # 6.9
    ItemSeed(
        code="6.9",
        name="产品召回服务",
        description="为监督管理部门提供本行政区域内缺陷消费品召回技术支撑服务。",
        materials=(
            "监管部门委托函",
            "缺陷产品信息及调查报告",
            "生产者召回计划",
            "涉及产品批次及销售流向清单",
            "召回进展及总结报告",
        ),
        cycle_days=30,
    ),
    # 6.10
    ItemSeed(
        code="6.10",
        name="其他服务",
        description="根据各检验检测机构服务能力为客户提供其他一站式服务项目。",
        materials=(
            "服务申请表",
            "营业执照复印件或身份证明",
            "服务需求说明",
        ),
        cycle_days=10,
    ),
)

ITEM_CODES: frozenset[str] = frozenset(item.code for item in SEED_ITEMS)


def seed_by_code() -> dict[str, ItemSeed]:
    """Return the seed items keyed by code, in clause order."""
    return {item.code: item for item in SEED_ITEMS}


def parent_code(code: str) -> str | None:
    """Return the parent item code: "6.3.2" → "6.3"; a top-level "6.3" → None."""
    parts = code.split(".")
    if len(parts) <= 2:
        return None
    return ".".join(parts[:-1])
