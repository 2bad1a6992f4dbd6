"""The vocabulary of the thesis: layers, metrics and archetypes, in Chinese and English."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from tools.models import LAYERS

Unit = Literal["share", "usd"]


class Term(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    zh: str
    en: str
    definition_zh: str
    definition_en: str

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en


class Metric(Term):
    unit: Unit
    formula: str


# In margin order, low to high: the index + 1 is the layer's rank on the margin ladder.
LAYER_TERMS: dict[str, Term] = {
    t.id: t
    for t in [
        Term(
            id="iaas",
            zh="算力租赁",
            en="compute rental (IaaS)",
            definition_zh="出租GPU算力,客户自行部署模型,按小时或算力计费;毛利最低、周期性最强。",
            definition_en=(
                "Renting out GPU time; customers deploy their own models; billed per hour or "
                "unit of compute. Lowest margin, most cyclical."
            ),
        ),
        Term(
            id="maas",
            zh="模型即服务",
            en="model as a service (MaaS)",
            definition_zh="把训练好的模型以API形式出售,按token或套餐计费。",
            definition_en="Trained models sold behind an API, billed per token or plan.",
        ),
        Term(
            id="solutions",
            zh="解决方案与Agent服务",
            en="solutions & agent services",
            definition_zh="面向行业的调优模型、应用、SaaS与Agent,卖的是业务结果。",
            definition_en=(
                "Tuned models, apps, SaaS and agents for a vertical; sells business outcomes."
            ),
        ),
        Term(
            id="edge",
            zh="边缘推理",
            en="edge inference",
            definition_zh="在用户设备(手机、汽车、家居中枢)上运行推理:便宜、实时、私密。",
            definition_en=(
                "Inference on the user's device (phone, car, home hub): cheap, real-time, private."
            ),
        ),
    ]
}

METRICS: dict[str, Metric] = {
    m.id: m
    for m in [
        Metric(
            id="self_use_inference_share",
            zh="自用推理占比",
            en="self-use inference share",
            unit="share",
            formula="own_inference",
            definition_zh="AI算力中用于自身业务推理的比例,排名的核心指标。",
            definition_en=(
                "Share of AI compute used for inference serving the company's own business: "
                "the ranking metric."
            ),
        ),
        Metric(
            id="inference_self_use_ratio",
            zh="推理自用率",
            en="inference self-use ratio",
            unit="share",
            formula="own_inference / (own_inference + external_maas)",
            definition_zh="在它运行的推理中,有多少是为自己服务的。",
            definition_en="Of the inference it runs, how much serves itself.",
        ),
        Metric(
            id="external_supply_share",
            zh="对外算力占比",
            en="external supply share",
            unit="share",
            formula="external_iaas + external_maas",
            definition_zh="对外出售(IaaS/MaaS)的算力比例,即“卖水”周期的敞口。",
            definition_en="Compute sold to outsiders (IaaS/MaaS): exposure to the selling-water cycle.",
        ),
        Metric(
            id="self_use_inference_usd",
            zh="自用推理算力投入(美元)",
            en="self-use inference capex (USD)",
            unit="usd",
            formula="ai_capex_usd * own_inference",
            definition_zh="用于自用推理的AI资本开支绝对额,衡量“推理消费之王”。",
            definition_en="Absolute AI capex behind own-use inference: the inference-consumption king.",
        ),
        Metric(
            id="margin_position",
            zh="毛利阶梯位置",
            en="margin position",
            unit="share",
            formula="sum(layer_mix[l] * rank(l)) / 4",
            definition_zh="业务在毛利阶梯上的位置,0.25(全是算力租赁)到1(全是边缘推理)。",
            definition_en="Where the business sits on the margin ladder: 0.25 (all IaaS) to 1 (all edge).",
        ),
        Metric(
            id="ai_capex_usd",
            zh="AI资本开支(美元)",
            en="AI capex (USD)",
            unit="usd",
            formula="ai_capex * usd_per_unit",
            definition_zh="当期AI相关资本开支,按存储的汇率换算为美元。",
            definition_en="AI-related capital expenditure in the period, converted at the stored FX rate.",
        ),
    ]
}
DEFAULT_METRIC: Final = "self_use_inference_share"

ARCHETYPES: dict[str, Term] = {
    t.id: t
    for t in [
        Term(
            id="supplier",
            zh="卖水者",
            en="supplier",
            definition_zh="一半以上算力对外出售,随算力周期起伏。",
            definition_en="Sells at least half of its compute; rides the compute cycle.",
        ),
        Term(
            id="dual",
            zh="卖水与用水双重角色",
            en="dual role",
            definition_zh="既大量对外出售算力,也大量自用推理。",
            definition_en="Both sells compute at scale and uses it heavily for its own inference.",
        ),
        Term(
            id="self_user",
            zh="重度用水的内驱型",
            en="self-user",
            definition_zh="算力主要用于自身业务推理,对外出售很少:内生增长。",
            definition_en="Compute mostly serves its own inference, little is sold: grows from within.",
        ),
        Term(
            id="unclassified",
            zh="未归类",
            en="unclassified",
            definition_zh="未满足任何一条规则(例如训练占比很高)。",
            definition_en="No rule matched (for example, training takes most of the compute).",
        ),
        Term(
            id="edge_builder",
            zh="定义未来场景的生态构建者",
            en="edge ecosystem builder",
            definition_zh="附加标签:边缘推理占业务40%以上。",
            definition_en="Secondary tag: edge inference is at least 40% of the AI business.",
        ),
    ]
}


def margin_rank(layer: str) -> int:
    """1 for IaaS up to 4 for edge: the layer's place on the margin ladder."""
    return LAYERS.index(layer) + 1
