"""User-facing phrases in Chinese and English; every renderer takes its words from here."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

_STRINGS: dict[str, tuple[str, str]] = {
    # (zh, en)
    "rank_title": ("按{metric}排名({period})", "Ranking by {metric} ({period})"),
    "latest": ("各公司最新期", "each company's latest period"),
    "col_rank": ("排名", "Rank"),
    "col_company": ("公司", "Company"),
    "col_period": ("期间", "Period"),
    "col_value": ("数值", "Value"),
    "col_range": ("p10–p90", "p10–p90"),
    "col_rank_range": ("排名区间", "Rank range"),
    "col_above_next": ("高于下一名概率", "P(above next)"),
    "col_archetype": ("类型", "Archetype"),
    "col_layer": ("层次", "Layer"),
    "col_share": ("占比", "Share"),
    "col_metric": ("指标", "Metric"),
    "col_field": ("输入", "Input"),
    "col_source": ("来源", "Source"),
    "estimated_note": (
        "* 标注为估算:公司未披露算力分配,数值为带区间的估算,区间为蒙特卡洛p10–p90({samples}次抽样,种子{seed})。",
        "* Estimates: companies do not disclose compute splits; ranges are Monte Carlo p10–p90 ({samples} samples, seed {seed}).",
    ),
    "tiers_title": ("{name} 四层拆分({period})", "{name}: four-layer breakdown ({period})"),
    "archetype_line": ("类型:{archetype}{tags}", "Archetype: {archetype}{tags}"),
    "rule_line": ("触发规则:{rule}", "Rule that fired: {rule}"),
    "no_rule_line": ("未触发任何规则:{rule}", "No rule fired: {rule}"),
    "tag_line": ("附加标签:{tag}({rule})", "Tag: {tag} ({rule})"),
    "metrics_title": ("指标", "Metrics"),
    "allocation_title": ("算力分配", "Compute allocation"),
    "sources_title": ("来源", "Sources"),
    "estimate_flag": ("估算", "estimate"),
    "disclosed_flag": ("披露", "disclosed"),
    "profile_title": (
        "{name}({tickers})· {region} · {period}",
        "{name} ({tickers}) · {region} · {period}",
    ),
    "capex_line": ("AI资本开支:{value}(约{usd}){flag}", "AI capex: {value} (≈{usd}){flag}"),
    "range_of": ("区间 {low}–{high}", "range {low}–{high}"),
    "facts_title": ("背景数据", "Context"),
    "periods_line": ("有数据的期间:{periods}", "Periods with data: {periods}"),
    "compare_title": ("对比:{metric}", "Comparison: {metric}"),
    "p_above_line": ("P({a} 高于 {b}) = {p}", "P({a} above {b}) = {p}"),
    "history_title": ("{name} 历史:{metric}", "{name} history: {metric}"),
    "col_of": ("共", "of"),
    "period_changes_title": ("跨期变化", "Changes between periods"),
    "revision_changes_title": ("数据修订带来的变化", "Changes from data revisions"),
    "none": ("无", "none"),
    "move_line": (
        "{label}:排名 {old} → {new},{metric} {old_value} → {new_value}",
        "{label}: rank {old} → {new}, {metric} {old_value} → {new_value}",
    ),
    "archetype_change": ("类型 {old} → {new}", "archetype {old} → {new}"),
    "changed_inputs": ("变化的输入:{fields}", "Inputs that changed: {fields}"),
    "passed_line": ("新排序把握:{items}", "Confidence in the new order: {items}"),
    "whatif_title": ("假设情景:{name}({period})", "What-if: {name} ({period})"),
    "overrides_line": ("调整:{items}", "Overrides: {items}"),
    "baseline": ("基准", "Baseline"),
    "scenario": ("情景", "Scenario"),
    "whatif_note": ("(假设情景,不写入数据库)", "(scenario only; nothing was written)"),
    "sources_all_title": ("全部来源({n})", "All sources ({n})"),
    "sources_company_title": ("{name} 引用的来源({period})", "Sources cited for {name} ({period})"),
    "import_done": (
        "已导入,修订号 {revision}:{n} 条记录有变化。",
        "Imported as revision {revision}: {n} records changed.",
    ),
    "import_same": (
        "数据与现有完全相同,未创建修订。",
        "Identical to the current data; no revision created.",
    ),
    "import_failed": (
        "导入失败,数据库未改动。问题:",
        "Import refused; the database is unchanged. Problems:",
    ),
    "ranking_changes": ("排名变化:", "Ranking changes:"),
    "no_ranking_changes": ("排名没有变化。", "The ranking did not change."),
    "unknown_company": ("找不到公司“{query}”。", "No company called '{query}'."),
    "did_you_mean": ("你是不是想找:{names}?", "Did you mean: {names}?"),
    "error": ("错误:{message}", "Error: {message}"),
    "check_title": (
        "数据检查:{companies} 家公司,{sources} 个来源;{errors} 个错误,{warnings} 个警告",
        "Data check: {companies} companies, {sources} sources; {errors} errors, {warnings} warnings",
    ),
    "neighbours_title": (
        "相邻名次的稳健性(排名 P(上 > 下)):",
        "Robustness of neighbours in the ranking, P(upper > lower):",
    ),
}


def t(key: str, lang: Lang, **values: object) -> str:
    zh, en = _STRINGS[key]
    return (zh if lang == "zh" else en).format(**values)


def detect(text: str | None) -> Lang:
    """'zh-hans', 'zh_CN.UTF-8' → zh; anything else → en."""
    return "zh" if text and text.lower().startswith("zh") else "en"
