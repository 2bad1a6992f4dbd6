"""Write bench/data/claims.yaml: analyst-style answers over the true figures of the CLI.

The phrasings are written by hand (zh and en, the way a capable model answers: rounding,
comparisons, gaps, ratios, conversions, reasons); the figures come from `inference-lens --json`
on a fresh database, so every claim in the corpus is true. Run once after the data changes:
    .venv/bin/python bench/write_corpus.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from claims_corpus import ARCHETYPE_WORDS, CORPUS, render

CLI = str(Path(sys.executable).parent / "inference-lens")
DB = Path(tempfile.mkdtemp()) / "corpus.db"


def cli(*args: str) -> Any:
    out = subprocess.run([CLI, "--db", str(DB), *args, "--json"], capture_output=True, check=True)
    return json.loads(out.stdout)


class Answer:
    """Text assembled from plain pieces and claims, so each claim knows its span."""

    def __init__(self, lang: str) -> None:
        self.lang, self.text, self.claims = lang, "", []

    def say(self, piece: str) -> Answer:
        self.text += piece
        return self

    def claim(self, kind: str, subject: str, value: Any, style: str, **extra: Any) -> Answer:
        span = (
            ARCHETYPE_WORDS[self.lang][value] if kind == "archetype" else render(kind, style, value)
        )
        self.claims.append(
            {
                "text": span,
                "at": len(self.text),
                "kind": kind,
                "subject": subject,
                "value": value,
                "style": style,
                **extra,
            }
        )
        self.text += span
        return self


SHARE = cli("rank")
CAPEX = cli("rank", "--metric", "ai_capex_usd")
ROWS = {r["company"]: r for r in SHARE["rows"]}
CAPEX_ROWS = {r["company"]: r for r in CAPEX["rows"]}
N = SHARE["total"]


def name(cid: str, lang: str) -> str:
    row = ROWS[cid]
    return row["name"] if lang == "en" else {"alphabet": "谷歌"}.get(cid, row["name_zh"])


def swap_for(cid: str) -> str:
    ids = list(ROWS)
    return ids[(ids.index(cid) + 9) % len(ids)]


ENTRIES: list[dict[str, Any]] = []


def add(
    question: str,
    lang: str,
    calls: list[dict[str, Any]],
    answers: list[Answer],
    subjects: list[str],
) -> None:
    qid = f"q{len({e['question'] for e in ENTRIES}) + 1:02d}"
    for i, a in enumerate(answers):
        entry = {
            "id": f"{qid}-{lang}-{i}",
            "question": question,
            "lang": lang,
            "calls": calls,
            "subjects": subjects,
            "answer": a.text,
            "claims": a.claims,
        }
        if len(subjects) == 1:
            entry["swap_with"] = swap_for(subjects[0])
        ENTRIES.append(entry)


def rank_questions() -> None:
    for cid in [
        "xiaomi",
        "tencent",
        "alibaba",
        "bytedance",
        "microsoft",
        "meituan",
        "baidu",
        "apple",
    ]:
        r = ROWS[cid]
        rank, v, arch = r["rank"], r["value"], r["archetype"]
        en, zh = name(cid, "en"), name(cid, "zh")
        calls = [{"tool": "rank", "args": {}}]
        a1 = (
            Answer("en")
            .say(f"{en} ranks ")
            .claim("rank", cid, rank, "hash")
            .say(" of ")
            .claim("count", "", N, "count")
            .say(" on self-use inference share, at ")
            .claim("share", cid, v, "pct")
            .say(f" (p10–p90 {round(r['p10'] * 100)}–{round(r['p90'] * 100)}%). ")
            .say("That makes it ")
            .claim("archetype", cid, arch, "word")
            .say(
                ": most of its compute goes to its own products."
                if arch == "self_user"
                else ": a large part of its compute is sold to others."
            )
        )
        a2 = (
            Answer("en")
            .say(f"{en} comes in ")
            .claim("rank", cid, rank, "ord")
            .say(" — ")
            .claim("share", cid, v, "about")
            .say(" of its AI compute runs inference for its own business.")
        )
        a3 = (
            Answer("en")
            .say("On the latest data (")
            .claim("period", "", 2026, "year")
            .say(f"), {en} sits at ")
            .claim("rank", cid, rank, "no")
            .say(", with a self-use inference share of ")
            .claim("share", cid, v, "pct1")
            .say(".")
        )
        add(f"Where does {en} rank on self-use inference share?", "en", calls, [a1, a2, a3], [cid])
        z1 = (
            Answer("zh")
            .say(f"{zh}的自用推理占比为")
            .claim("share", cid, v, "pct")
            .say(",在")
            .claim("count", "", N, "zh_count")
            .say("中排")
            .claim("rank", cid, rank, "zh_di")
            .say(",属于")
            .claim("archetype", cid, arch, "word")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"{zh}排")
            .claim("rank", cid, rank, "zh_cn_di")
            .say(f",{zh}有")
            .claim("share", cid, v, "cheng")
            .say("的AI算力用于自身业务的推理。")
        )
        z3 = (
            Answer("zh")
            .say("按")
            .claim("period", "", 2026, "year")
            .say(f"年的数据,{zh}的自用推理占比是")
            .claim("share", cid, v, "baifen")
            .say(",位列")
            .claim("rank", cid, rank, "zh_di")
            .say("。")
        )
        add(f"{zh}的自用推理占比排第几?", "zh", calls, [z1, z2, z3], [cid])


def share_pairs() -> None:
    for a, b in [
        ("xiaomi", "bytedance"),
        ("tencent", "alibaba"),
        ("meituan", "jd"),
        ("baidu", "alibaba"),
        ("pdd", "kuaishou"),
        ("apple", "microsoft"),
    ]:
        cmp = cli("compare", a, b)
        ra, rb = ROWS[a], ROWS[b]
        if ra["rank"] > rb["rank"]:
            a, b, ra, rb = b, a, rb, ra
        pair = f"{a}|{b}"
        gap = round(ra["value"] - rb["value"], 4)
        p = cmp["pairs"][0]["p"]
        calls = [{"tool": "compare", "args": {"companies": [a, b]}}]
        en_a, en_b, zh_a, zh_b = name(a, "en"), name(b, "en"), name(a, "zh"), name(b, "zh")
        e1 = (
            Answer("en")
            .say(f"{en_a} is ahead: its self-use inference share is ")
            .claim("share", a, ra["value"], "pct")
            .say(f" against {en_b}'s ")
            .claim("share", b, rb["value"], "pct")
            .say(", a gap of ")
            .claim("gap_pp", pair, gap, "pp")
            .say(f". The model puts {en_a} above {en_b} with probability ")
            .claim("prob", pair, p, "pct")
            .say(".")
        )
        e2 = (
            Answer("en")
            .say(f"{en_a} leads {en_b} by ")
            .claim("gap_pp", pair, gap, "pp")
            .say(f" ({en_a} ")
            .claim("share", a, ra["value"], "pct")
            .say(f", {en_b} ")
            .claim("share", b, rb["value"], "pct")
            .say(f"), because {en_a} keeps more of its compute for its own products.")
        )
        add(
            f"Who has the higher self-use inference share, {en_a} or {en_b}?",
            "en",
            calls,
            [e1, e2],
            [a, b],
        )
        z1 = (
            Answer("zh")
            .say(f"{zh_a}更高:{zh_a}的自用推理占比为")
            .claim("share", a, ra["value"], "pct")
            .say(f",{zh_b}为")
            .claim("share", b, rb["value"], "pct")
            .say(",相差")
            .claim("gap_pp", pair, gap, "zh_pp")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"{zh_a}领先{zh_b}")
            .claim("gap_pp", pair, gap, "zh_pp")
            .say(f",{zh_a}排在{zh_b}之前的概率为")
            .claim("prob", pair, p, "pct")
            .say("。")
        )
        add(f"{zh_a}和{zh_b}谁的自用推理占比更高?", "zh", calls, [z1, z2], [a, b])


def capex_pairs() -> None:
    for a, b in [
        ("microsoft", "oracle"),
        ("alphabet", "meta"),
        ("meta", "oracle"),
        ("bytedance", "tencent"),
        ("amazon", "coreweave"),
    ]:
        va, vb = CAPEX_ROWS[a]["value"], CAPEX_ROWS[b]["value"]
        pair = f"{a}|{b}"
        gap, ratio = va - vb, round(va / vb, 4)
        calls = [{"tool": "compare", "args": {"companies": [a, b], "metric": "ai_capex_usd"}}]
        en_a, en_b, zh_a, zh_b = name(a, "en"), name(b, "en"), name(a, "zh"), name(b, "zh")
        e1 = (
            Answer("en")
            .say(f"{en_a} plans ")
            .claim("amount", a, va, "bn")
            .say(f" of AI capex against {en_b}'s ")
            .claim("amount", b, vb, "bn")
            .say(f": {en_a} spends ")
            .claim("gap_amount", pair, gap, "about_bn")
            .say(" more, roughly ")
            .claim("ratio", pair, ratio, "times")
            .say(" as much.")
        )
        e2 = (
            Answer("en")
            .say(f"{en_a} outspends {en_b} ")
            .claim("ratio", pair, ratio, "times")
            .say(" over (")
            .claim("amount", a, va, "bn")
            .say(" vs ")
            .claim("amount", b, vb, "bn")
            .say(").")
        )
        add(
            f"How much more does {en_a} spend on AI capex than {en_b}?",
            "en",
            calls,
            [e1, e2],
            [a, b],
        )
        z1 = (
            Answer("zh")
            .say(f"{zh_a}的AI资本开支为")
            .claim("amount", a, va, "zh_yi")
            .say(f",{zh_b}为")
            .claim("amount", b, vb, "zh_yi")
            .say(f",{zh_a}多出")
            .claim("gap_amount", pair, gap, "zh_yi")
            .say(",约为其")
            .claim("ratio", pair, ratio, "zh_bei")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"{zh_a}比{zh_b}多花")
            .claim("gap_amount", pair, gap, "zh_yi")
            .say(",是后者的")
            .claim("ratio", pair, ratio, "zh_bei")
            .say("。")
        )
        add(f"{zh_a}的AI资本开支比{zh_b}多多少?", "zh", calls, [z1, z2], [a, b])


def archetype_questions() -> None:
    for cid in ["xiaomi", "alibaba", "microsoft", "tencent", "apple", "oracle"]:
        t = cli("tiers", cid)
        arch, own, ext = (
            t["archetype"],
            t["allocation"]["own_inference"],
            t["metrics"]["external_supply_share"],
        )
        en, zh = name(cid, "en"), name(cid, "zh")
        calls = [{"tool": "tier_breakdown", "args": {"company": cid}}]
        e1 = (
            Answer("en")
            .say(f"{en} counts as ")
            .claim("archetype", cid, arch, "word")
            .say(": own inference takes ")
            .claim("share", cid, own, "pct")
            .say(" of its compute and external supply ")
            .claim("share", cid, ext, "pct")
            .say(".")
        )
        e2 = (
            Answer("en")
            .say(f"{en} is ")
            .claim("archetype", cid, arch, "word")
            .say(" — ")
            .claim("share", cid, own, "about_exact")
            .say(" of its AI compute serves its own inference.")
        )
        add(f"Is {en} a supplier or a self-user?", "en", calls, [e1, e2], [cid])
        z1 = (
            Answer("zh")
            .say(f"{zh}属于")
            .claim("archetype", cid, arch, "word")
            .say(":自用推理占")
            .claim("share", cid, own, "pct")
            .say(",对外供给占")
            .claim("share", cid, ext, "pct")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"{zh}是")
            .claim("archetype", cid, arch, "word")
            .say(",自用推理占算力的")
            .claim("share", cid, own, "zh_about_exact")
            .say("。")
        )
        add(f"{zh}算是卖水的还是用水的?", "zh", calls, [z1, z2], [cid])


def top_questions() -> None:
    rows = SHARE["rows"]
    calls = [{"tool": "rank", "args": {"top": 5}}]
    e = Answer("en").say("The top 5 on self-use inference share: ")
    for i, r in enumerate(rows[:5]):
        e.say(", " if i else "").say(f"{name(r['company'], 'en')} (").claim(
            "share", r["company"], r["value"], "pct"
        ).say(")")
    e.say(f". {name(rows[0]['company'], 'en')} leads with ").claim(
        "share", rows[0]["company"], rows[0]["value"], "pct"
    ).say(".")
    e2 = (
        Answer("en")
        .say(f"{name(rows[1]['company'], 'en')} is ")
        .claim("rank", rows[1]["company"], 2, "ord")
        .say(" and " + name(rows[3]["company"], "en") + " is ")
        .claim("rank", rows[3]["company"], 4, "ord")
        .say("; both are in the ")
        .claim("rank", rows[3]["company"], 5, "top", true_rank=4)
        .say(".")
    )
    add("Which companies are in the top 5?", "en", calls, [e, e2], [])
    z = Answer("zh").say("自用推理占比前五名:")
    for i, r in enumerate(rows[:5]):
        z.say("、" if i else "").say(f"{name(r['company'], 'zh')}(").claim(
            "share", r["company"], r["value"], "pct"
        ).say(")")
    z.say("。")
    z2 = (
        Answer("zh")
        .say(f"{name(rows[2]['company'], 'zh')}排")
        .claim("rank", rows[2]["company"], 3, "zh_cn_di")
        .say(f",{name(rows[3]['company'], 'zh')}排")
        .claim("rank", rows[3]["company"], 4, "zh_cn_di")
        .say("。")
    )
    add("自用推理占比前五名是哪些公司?", "zh", calls, [z, z2], [])
    cn = cli("rank", "--region", "CN", "--top", "3")["rows"]
    calls = [{"tool": "rank", "args": {"region": "CN", "top": 3}}]
    e3 = Answer("en").say("Among Chinese companies, ")
    for i, r in enumerate(cn):
        e3.say(", " if i else "").say(f"{name(r['company'], 'en')} is ").claim(
            "rank", r["company"], r["rank"], "hash"
        )
        e3.say(" at ").claim("share", r["company"], r["value"], "pct")
    e3.say(".")
    add("Top 3 Chinese companies by self-use inference share?", "en", calls, [e3], [])
    z3 = Answer("zh").say("中国公司中,")
    for i, r in enumerate(cn):
        z3.say("," if i else "").say(f"{name(r['company'], 'zh')}排").claim(
            "rank", r["company"], r["rank"], "zh_di"
        )
        z3.say("(").claim("share", r["company"], r["value"], "pct").say(")")
    z3.say("。")
    add("中国公司里自用推理占比最高的三家?", "zh", calls, [z3], [])


def history_questions() -> None:
    for cid in ["xiaomi", "baidu", "tencent", "alibaba"]:
        h = cli("history", cid)
        p = h["periods"]
        old, new = p[-2], p[-1]
        change = round(new["value"] - old["value"], 4)
        en, zh = name(cid, "en"), name(cid, "zh")
        calls = [{"tool": "history", "args": {"company": cid}}]
        verb = "rose" if change > 0 else "fell"
        e1 = (
            Answer("en")
            .say(f"{en}'s self-use inference share {verb} from ")
            .claim("share", cid, old["value"], "pct")
            .say(" in ")
            .claim("period", "", int(old["period"]), "year")
            .say(" to ")
            .claim("share", cid, new["value"], "pct")
            .say(" in ")
            .claim("period", "", int(new["period"]), "year")
            .say(f", {'up' if change > 0 else 'down'} ")
            .claim("gap_pp", cid, abs(change), "pp")
            .say("; its rank went from ")
            .claim("rank", cid, old["rank"], "hash")
            .say(" to ")
            .claim("rank", cid, new["rank"], "hash")
            .say(".")
        )
        e2 = (
            Answer("en")
            .say("Since ")
            .claim("period", "", int(p[0]["period"]), "year")
            .say(f", {en} moved from ")
            .claim("rank", cid, p[0]["rank"], "ord")
            .say(" to ")
            .claim("rank", cid, new["rank"], "ord")
            .say(".")
        )
        add(f"How has {en}'s rank changed over the years?", "en", calls, [e1, e2], [cid])
        z1 = (
            Answer("zh")
            .say(f"{zh}的自用推理占比从")
            .claim("period", "", int(old["period"]), "year")
            .say("年的")
            .claim("share", cid, old["value"], "pct")
            .say(f"{'升至' if change > 0 else '降至'}")
            .claim("period", "", int(new["period"]), "year")
            .say("年的")
            .claim("share", cid, new["value"], "pct")
            .say(",变化")
            .claim("gap_pp", cid, abs(change), "zh_pp")
            .say(";排名从")
            .claim("rank", cid, old["rank"], "zh_di")
            .say("变为")
            .claim("rank", cid, new["rank"], "zh_di")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"{zh}现在排")
            .claim("rank", cid, new["rank"], "zh_di")
            .say(",")
            .claim("period", "", int(old["period"]), "year")
            .say("年时排")
            .claim("rank", cid, old["rank"], "zh_di")
            .say("。")
        )
        add(f"{zh}的排名这两年有什么变化?", "zh", calls, [z1, z2], [cid])


def conversion_questions() -> None:
    for cid in ["xiaomi", "tencent", "alibaba", "baidu"]:
        c = cli("company", cid)
        native, usd = c["ai_capex"]["value"], c["ai_capex_usd"]
        en, zh = name(cid, "en"), name(cid, "zh")
        calls = [{"tool": "company_profile", "args": {"company": cid}}]
        e1 = (
            Answer("en")
            .say(f"{en}'s AI capex is ")
            .claim("amount", cid, native, "rmb_bn")
            .say(", about ")
            .claim("amount", cid, usd, "bn")
            .say(" at the ")
            .claim("period", "", 2026, "year")
            .say(" rate of 0.1408 USD per yuan.")
        )
        e2 = (
            Answer("en")
            .say(f"In dollars, {en} spends roughly ")
            .claim("amount", cid, usd, "bn")
            .say(" (")
            .claim("amount", cid, native, "rmb_bn")
            .say(") on AI capex.")
        )
        add(f"What is {en}'s AI capex in US dollars?", "en", calls, [e1, e2], [cid])
        z1 = (
            Answer("zh")
            .say(f"{zh}的AI资本开支为")
            .claim("amount", cid, native, "zh_yi_yuan")
            .say(",按")
            .claim("period", "", 2026, "year")
            .say("年汇率换算约")
            .claim("amount", cid, usd, "zh_yi")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"换算成美元,{zh}的AI资本开支约")
            .claim("amount", cid, usd, "zh_yi")
            .say("。")
        )
        add(f"{zh}的AI资本开支换算成美元是多少?", "zh", calls, [z1, z2], [cid])


def whatif_questions() -> None:
    for cid, key, val, arg in [
        ("tencent", "own_inference", 0.6, "own_inference=60%"),
        ("alibaba", "external_supply_share", 0.2, "external_supply_share=20%"),
    ]:
        w = cli("whatif", cid, arg)
        b, s = w["baseline"], w["scenario"]
        change = round(s["value"] - b["value"], 4)
        en, zh = name(cid, "en"), name(cid, "zh")
        calls = [{"tool": "what_if", "args": {"company": cid, "overrides": {key: val}}}]
        e1 = (
            Answer("en")
            .say(f"If {en}'s {key.replace('_', ' ')} were ")
            .claim("share", cid, val, "pct")
            .say(", its self-use inference share would go from ")
            .claim("share", cid, b["value"], "pct")
            .say(" to ")
            .claim("share", cid, s["value"], "pct")
            .say(", ")
            .say("up " if change > 0 else "down ")
            .claim("gap_pp", cid, abs(change), "pp")
            .say(", and it would move from ")
            .claim("rank", cid, b["rank"], "hash")
            .say(" to ")
            .claim("rank", cid, s["rank"], "hash")
            .say(".")
        )
        e2 = (
            Answer("en")
            .say(f"{en} would climb to ")
            .claim("rank", cid, s["rank"], "ord")
            .say(" and become ")
            .claim("archetype", cid, s["archetype"], "word")
            .say(".")
        )
        add(
            f"What if {en}'s {key.replace('_', ' ')} were {round(val * 100)}%?",
            "en",
            calls,
            [e1, e2],
            [cid],
        )
        z1 = (
            Answer("zh")
            .say(f"假设{zh}的该项占比为")
            .claim("share", cid, val, "pct")
            .say(",其自用推理占比将从")
            .claim("share", cid, b["value"], "pct")
            .say("变为")
            .claim("share", cid, s["value"], "pct")
            .say(",排名从")
            .claim("rank", cid, b["rank"], "zh_di")
            .say("升至")
            .claim("rank", cid, s["rank"], "zh_di")
            .say("。")
        )
        z2 = (
            Answer("zh")
            .say(f"这样{zh}会排到")
            .claim("rank", cid, s["rank"], "zh_di")
            .say(",类型变为")
            .claim("archetype", cid, s["archetype"], "word")
            .say("。")
        )
        add(
            f"如果{zh}的{'自用推理' if key == 'own_inference' else '对外算力'}占比为{round(val * 100)}%,会排第几?",
            "zh",
            calls,
            [z1, z2],
            [cid],
        )


def main() -> None:
    for part in (
        rank_questions,
        share_pairs,
        capex_pairs,
        archetype_questions,
        top_questions,
        history_questions,
        conversion_questions,
        whatif_questions,
    ):
        part()
    names = {cid: {"en": name(cid, "en"), "zh": name(cid, "zh")} for cid in ROWS}
    CORPUS.write_text(
        yaml.safe_dump(
            {"names": names, "answers": ENTRIES}, allow_unicode=True, sort_keys=False, width=120
        ),
        encoding="utf-8",
    )
    questions = len({e["question"] for e in ENTRIES})
    print(f"{len(ENTRIES)} answers over {questions} questions -> {CORPUS}")


if __name__ == "__main__":
    main()
