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
    "companies_added": ("新增 {n} 家公司:{names}", "{n} companies added: {names}"),
    "ranking_changes": ("排名变化:", "Ranking changes:"),
    "no_ranking_changes": ("排名没有变化。", "The ranking did not change."),
    "unknown_company": ("找不到公司“{query}”。", "No company called '{query}'."),
    "did_you_mean": ("你是不是想找:{names}?", "Did you mean: {names}?"),
    "error": ("错误:{message}", "Error: {message}"),
    # --- the database file (CLI); each says the file was left as it was ---
    "store_is_directory": (
        "数据库路径 {path} 是一个目录,不是数据库文件。",
        "The database path {path} is a directory, not a database file.",
    ),
    "store_read_only": (
        "无法写入数据库 {path}:文件、所在目录或磁盘是只读的。文件未改动。",
        "Cannot write the database {path}: the file, its directory or the disk is read-only. The file is unchanged.",
    ),
    "store_corrupt": (
        "数据库 {path} 已损坏或不是 SQLite 数据库。文件未改动。",
        "The database {path} is damaged or not an SQLite database. The file is unchanged.",
    ),
    "store_foreign": (
        "{path} 是其他应用的数据库(非空,且不是 Inference Lens 的数据库),拒绝使用。文件未改动。",
        "{path} belongs to another application (not empty, and not an Inference Lens database); refusing to use it. The file is unchanged.",
    ),
    "store_newer_schema": (
        "数据库 {path} 由更新版本的 Inference Lens 创建(结构版本 {found},本版本为 {known}),本版本只读取、不写入。文件未改动。",
        "The database {path} was made by a newer version of Inference Lens (schema {found}; this version knows {known}): this version only reads it, never writes. The file is unchanged.",
    ),
    "store_incompatible_schema": (
        "数据库 {path} 由更新版本的 Inference Lens 创建(结构版本 {found},本版本为 {known}),本版本无法读取;请升级。文件未改动。",
        "The database {path} was made by a newer version of Inference Lens (schema {found}; this version knows {known}) that this version cannot read; please upgrade. The file is unchanged.",
    ),
    "store_disk_full": (
        "磁盘已满,无法写入数据库 {path};本次操作已撤销,文件未改动。",
        "The disk is full: the database {path} could not be written; the operation was undone and the file is unchanged.",
    ),
    "store_busy": (
        "数据库 {path} 被另一个进程锁定,请稍后重试。",
        "The database {path} is locked by another process; try again later.",
    ),
    "store_unavailable": (
        "无法打开数据库 {path}({detail})。",
        "Cannot open the database {path} ({detail}).",
    ),
    # --- Telegram bot ---
    "rank_detail": ("{archetype} · 排名区间 {ranks}", "{archetype} · rank range {ranks}"),
    "rank_p_next": ("高于下一名概率 {p}", "P(above next) {p}"),
    "rank_of": ("第 {rank}/{of} 名", "rank {rank}/{of}"),
    "revision_label": ("数据修订", "data revision"),
    "layers_title": ("业务四层(毛利从低到高)", "Business by layer (margin low → high)"),
    "star_note": ("* 为估算值(公司未披露)。", "* marks estimates (not disclosed by the company)."),
    "alloc_own_training": ("自用训练", "own training"),
    "alloc_own_inference": ("自用推理", "own inference"),
    "alloc_external_iaas": ("对外算力租赁", "external IaaS"),
    "alloc_external_maas": ("对外模型服务", "external MaaS"),
    "companies_title": ("公司({n} 家)", "Companies ({n})"),
    "start_intro": (
        "我是 Inference Lens,围绕一个投资命题的分析机器人。",
        "I'm Inference Lens, an analyst bot for one investment thesis.",
    ),
    "thesis": (
        "用 AI 做自己生意的公司,正在超越卖 AI 算力的公司。\n重自用者强内生,重外供者看周期:我按“自用推理占比”给公司排名。",
        "Companies that use AI for their own business are overtaking those that sell AI compute.\nHeavy self-users grow from within, heavy suppliers ride the cycle: I rank companies by the share of AI compute spent on inference for their own business.",
    ),
    "start_numbers": (
        "每个数字都由代码从有出处的数据算出,大模型只负责解释。",
        "Every number is computed by code from stored, sourced data; the LLM only explains.",
    ),
    "help_commands_title": ("命令", "Commands"),
    "help_examples": (
        "例如:/tiers 小米 · /compare 腾讯 阿里巴巴 · /whatif 阿里巴巴 external_supply_share=20% · /lang en",
        "E.g. /tiers xiaomi · /compare tencent alibaba · /whatif alibaba external_supply_share=20% · /lang zh",
    ),
    "help_free_text": (
        "也可以直接用文字提问,例如:小米为什么排第一?",
        "Or just ask in words, e.g.: why does Xiaomi rank first?",
    ),
    "help_groups": (
        "在群组里:命令可加 @{bot};提问时请 @{bot} 或回复我的消息。",
        "In groups: commands work with @{bot}; to ask, mention @{bot} or reply to my message.",
    ),
    "cmd_start": ("介绍与命题", "What this bot is"),
    "cmd_help": ("命令列表", "The commands"),
    "cmd_lang": ("语言:/lang zh 或 /lang en", "Language: /lang zh or /lang en"),
    "cmd_rank": ("排名(可选指标),附区间图", "Ranking [metric] with a range chart"),
    "cmd_tiers": ("四层拆分与类型:/tiers 公司", "Four-layer breakdown: /tiers company"),
    "cmd_company": ("公司资料、输入与来源", "A company's inputs and sources"),
    "cmd_compare": ("对比:/compare 公司A 公司B", "Compare: /compare a b"),
    "cmd_history": ("历史排名与变化", "Rank history and changes"),
    "cmd_whatif": ("假设情景:/whatif 公司 键=值", "What-if: /whatif company key=value"),
    "cmd_sources": ("数据来源", "Where the data comes from"),
    "cmd_methodology": ("方法论:指标、规则、不确定性", "Metrics, rules and uncertainty"),
    "cmd_subscribe": ("订阅排名或公司的变化", "Follow ranking or company changes"),
    "cmd_unsubscribe": ("取消订阅", "Stop following"),
    "cmd_subscriptions": ("我的订阅", "What you follow"),
    "lang_set": ("好的,之后我用中文回答。", "OK, I'll answer in English from now on."),
    "lang_usage": ("用法:/lang zh 或 /lang en", "Usage: /lang zh or /lang en"),
    "usage": ("用法:{usage}", "Usage: {usage}"),
    "usage_company": (
        "/{command} 公司(名称、别名或代码均可)",
        "/{command} company (any name, alias or ticker)",
    ),
    "usage_compare": ("/compare 公司A 公司B [更多公司]", "/compare company_a company_b [more]"),
    "usage_whatif": (
        "/whatif 公司 键=值,例如 /whatif 阿里巴巴 external_supply_share=20%",
        "/whatif company key=value, e.g. /whatif alibaba external_supply_share=20%",
    ),
    "pick_company": ("选一家公司:", "Pick a company:"),
    "unknown_metric": (
        "没有这个指标:“{metric}”。可选:{names}",
        "No metric called '{metric}'. Choose one of: {names}",
    ),
    "methodology_title": ("方法论", "Methodology"),
    "method_layers_title": ("四层(按毛利从低到高)", "The four layers (gross margin, low to high)"),
    "method_archetypes_title": (
        "类型规则(按顺序判断,阈值来自数据)",
        "Archetype rules (in order; thresholds live in the data)",
    ),
    "method_uncertainty": (
        "不确定性:每个输入在[低, 高]区间内均匀抽样(份额重新归一),{samples} 次抽样、固定种子 {seed};给出 p10–p90、排名区间和 P(A 高于 B)。",
        "Uncertainty: each input is drawn uniformly within [low, high] (shares renormalised), {samples} samples with fixed seed {seed}; we report p10–p90, the rank range and P(A above B).",
    ),
    "method_estimates": (
        "公司很少披露算力分配,多数分配数据是分析师估算,带 * 的数字即估算值;/sources 列出全部来源。",
        "Companies rarely disclose compute splits, so most are analyst estimates; figures marked * are estimates, and /sources lists every source.",
    ),
    "btn_tiers": ("📊 四层拆分", "📊 Tiers"),
    "btn_history": ("🕘 历史", "🕘 History"),
    "btn_subscribe": ("🔔 订阅", "🔔 Subscribe"),
    "btn_company": ("ℹ️ 资料", "ℹ️ Profile"),
    "subscribed_ranking": (
        "已订阅:{metric}排名变化时通知你。",
        "Subscribed: I'll tell you when the ranking by {metric} changes.",
    ),
    "subscribed_company": (
        "已订阅:{name}的排名或类型变化时通知你。",
        "Subscribed: I'll tell you when {name}'s rank or archetype changes.",
    ),
    "already_subscribed": ("你已经订阅过了。", "You were already subscribed to that."),
    "unsubscribed": ("已取消 {n} 个订阅。", "Removed {n} subscription(s)."),
    "no_subscriptions": (
        "还没有订阅。/subscribe 订阅整个排名,/subscribe 公司 订阅一家公司。",
        "No subscriptions yet. /subscribe follows the whole ranking, /subscribe company one company.",
    ),
    "subscriptions_title": ("你的订阅:", "You follow:"),
    "sub_ranking_item": ("整个排名({metric})", "the whole ranking ({metric})"),
    "sub_company_item": ("{name}({metric})", "{name} ({metric})"),
    "hint_unsupported": (
        "我只读文字。发送 /help 查看命令,或直接用文字提问。",
        "I can only read text. Send /help for the commands, or ask a question in words.",
    ),
    "cut_note": (
        "(消息太长,我只读了前 {n} 个字符。)",
        "(Your message was long; I read only its first {n} characters.)",
    ),
    "busy": (
        "我还在回答你上一个问题,请稍候再问。",
        "I'm still answering your previous question; please ask again in a moment.",
    ),
    "quota_note": (
        "(今天的 {limit} 次大模型提问已用完,以下为离线回答。)",
        "(You've used today's {limit} LLM questions; this is the offline answer.)",
    ),
    "unknown_command": (
        "我没有这个命令;/help 列出全部命令。",
        "I don't have that command; /help lists them.",
    ),
    "sorry": (
        "抱歉,处理出错了,已记录。请稍后再试。",
        "Sorry, something went wrong on my side; it has been logged. Please try again.",
    ),
    "admin_only": (
        "只有管理员可以导入数据;数据库未改动。",
        "Only admins can import data; nothing was changed.",
    ),
    "import_hint": (
        "把 YAML 或 JSON 数据文件作为文件发送,并在说明里写 /import。",
        "Send a YAML or JSON data file as a document with the caption /import.",
    ),
    "import_bad_file": (
        "只能导入不超过 {kb} KB 的 .yaml、.yml 或 .json 文件;数据库未改动。",
        "Only .yaml, .yml or .json files up to {kb} KB can be imported; nothing was changed.",
    ),
    "chart_whiskers": (
        "柱:点估计 · 须线:p10–p90({samples} 次抽样)",
        "bar: point estimate · whisker: p10–p90 ({samples} samples)",
    ),
    "chart_allocation": ("算力分配", "Compute allocation"),
    "check_title": (
        "数据检查:{companies} 家公司,{sources} 个来源;{errors} 个错误,{warnings} 个警告",
        "Data check: {companies} companies, {sources} sources; {errors} errors, {warnings} warnings",
    ),
    "neighbours_title": (
        "相邻名次的稳健性(排名 P(上 > 下)):",
        "Robustness of neighbours in the ranking, P(upper > lower):",
    ),
    # --- answers to questions (bot/answer_text.py) and the agent's notes ---
    "ans_est": (",估算", ", estimate"),
    "ans_rank_focus": (
        "{name}按{metric}排第 {rank} 名(共 {total} 家,{period}):{value}{est}。",
        "{name} ranks #{rank} of {total} by {metric} ({period}): {value}{est}.",
    ),
    "ans_spread": (
        "p10–p90 区间 {range},排名区间 {ranks}。",
        "p10–p90 {range}, rank range {ranks}.",
    ),
    "ans_top": ("前列:{items}。", "Top: {items}."),
    "ans_rank_title": (
        "按{metric}排名({period},共 {total} 家):",
        "Ranking by {metric} ({period}, {total} companies):",
    ),
    "ans_rank_row": (
        "{rank}. {name} {value}(区间 {range})· {archetype}",
        "{rank}. {name} {value} (range {range}) · {archetype}",
    ),
    "ans_est_note": (
        "带 * 的为估算值(公司未披露算力分配),区间为 p10–p90。",
        "* marks estimates (companies do not disclose compute splits); ranges are p10–p90.",
    ),
    "ans_sources": ("来源:{items}", "Sources: {items}"),
    "ans_found": ("找到:{items}", "Found: {items}"),
    "ans_compare": ("按{metric}({period}):{items}。", "By {metric} ({period}): {items}."),
    "ans_compare_item": ("{name} {value}(第 {rank} 名)", "{name} {value} (#{rank})"),
    "ans_pair": (
        "{a}排在{b}之前的概率为 {p}:{verdict}。",
        "P({a} ranks above {b}) = {p}: {verdict}.",
    ),
    "verdict_robust": ("这个顺序很稳健", "a robust order"),
    "verdict_likely": ("较可能,但并不确定", "likely, not certain"),
    "verdict_coin": ("接近抛硬币", "close to a coin flip"),
    "ans_tiers": (
        "{name}({period}{est})的 AI 业务在四层中的分布:{mix}。",
        "{name}'s AI business by layer ({period}{est}): {mix}.",
    ),
    "ans_archetype": ("类型:{archetype}。依据:{rule}。", "Archetype: {archetype}, because {rule}."),
    "ans_metrics": ("{items}。", "{items}."),
    "ans_profile": (
        "{name}({tickers},{region}),{period}:",
        "{name} ({tickers}, {region}), {period}:",
    ),
    "ans_metric_is": ("{metric}:{value}。", "{metric}: {value}."),
    "ans_capex": (
        "AI 资本开支 {value}(约 {usd}{est}{range})。",
        "AI capex {value} (≈{usd}{est}{range}).",
    ),
    "ans_capex_range": (",区间 {low}–{high}", "; range {low}–{high}"),
    "ans_allocation": (
        "算力分配:{items};类型:{archetype}。",
        "Compute allocation: {items}; archetype: {archetype}.",
    ),
    "ans_history": ("{name}按{metric}的排名:{items}。", "{name}'s rank by {metric}: {items}."),
    "ans_history_item": ("{period} 第 {rank}/{of} 名({value})", "{period} #{rank}/{of} ({value})"),
    "ans_move": (
        "{label}:排名 {old} → {new},{metric} {old_value} → {new_value}",
        "{label}: rank {old} → {new}, {metric} {old_value} → {new_value}",
    ),
    "ans_revision": ("数据修订", "data revision"),
    "ans_archetype_change": (",类型 {old} → {new}", ", archetype {old} → {new}"),
    "ans_inputs": (";变化的输入:{fields}", "; inputs that changed: {fields}"),
    "ans_history_none": (
        "各期之间排名与类型都没有变化。",
        "No change in rank or archetype between periods.",
    ),
    "ans_whatif": (
        "假设{name}({period}){change}:{metric}从 {old} 变为 {new},排名从第 {old_rank} 名变为第 {new_rank} 名(共 {of} 家),{archetype}。",
        "If {name} ({period}) {change}: its {metric} goes from {old} to {new} and its rank from #{old_rank} to #{new_rank} of {of}; {archetype}.",
    ),
    "ans_arch_same": ("类型不变:{name}", "archetype unchanged: {name}"),
    "ans_arch_moves": ("类型 {old} → {new}", "archetype {old} → {new}"),
    "ans_whatif_sell": (
        "把 {fraction} 的自用推理算力对外出售",
        "sold {fraction} of its own-use inference compute",
    ),
    "ans_override": ("的{field}变为 {value}", "had {field} at {value}"),
    "ans_whatif_note": (
        "这只是假设情景,数据库未改动。",
        "This is a hypothetical scenario; nothing was saved.",
    ),
    "ans_term": ("{name}:{definition}", "{name}: {definition}"),
    "ans_tool_error": ("没能完成查询:{message}", "I couldn't look that up: {message}"),
    "input_ai_capex": ("AI 资本开支", "AI capex"),
    "ans_whatif_howto": (
        "请说明要改变什么,例如:如果阿里的对外算力占比降到20%,它会排第几?",
        "Tell me what to change, e.g.: what if Alibaba's external supply share fell to 20%?",
    ),
    "chat_welcome": (
        "用文字提问,或用 /rank /tiers /company /compare /history /whatif /sources /methodology /help;/quit 退出。",
        "Ask in words, or use /rank /tiers /company /compare /history /whatif /sources /methodology /help; /quit ends.",
    ),
    "chat_interrupted": ("(已中断)", "(interrupted)"),
    "chat_unknown_command": (
        "没有 /{name} 这个命令,试试 /help。",
        "There is no /{name} command; try /help.",
    ),
    "ans_need_company": (
        "请告诉我是哪家公司。目前覆盖:{names}。",
        "Which company? I cover: {names}.",
    ),
    "ans_help": (
        "我按“自用推理占比”(AI 算力中用于自身业务推理的比例)分析公司,数字全部来自有出处的数据。可以问我:\n"
        "· 排名:小米的自用推理占比排第几?\n· 四层拆分与类型:阿里算是卖水的还是用水的?\n"
        "· 公司资料:美团的AI资本开支是多少?\n· 对比:腾讯和阿里巴巴谁的自用推理占比更高?\n"
        "· 历史变化:百度的排名这两年有什么变化?\n· 假设情景:如果阿里的对外算力占比降到20%,它会排第几?\n"
        "· 概念:什么是边缘推理?\n命令:/rank /tiers /company /compare /history /whatif /sources /methodology /help",
        "I analyse companies by their self-use inference share (the share of AI compute spent on inference for their own business); every number comes from sourced data. Ask me about:\n"
        "· rankings: Where does Xiaomi rank on self-use inference?\n· layers and archetypes: What kind of company is Meituan?\n"
        "· profiles: How much does Tencent spend on AI capex?\n· comparisons: ByteDance vs Tencent\n"
        "· history: Has Alibaba's rank changed since last year?\n· what-ifs: What if ByteDance sold half of its inference compute?\n"
        "· definitions: What is MaaS?\nCommands: /rank /tiers /company /compare /history /whatif /sources /methodology /help",
    ),
    "thesis_why": (
        "命题:训练算力本身不直接带来收入,推理才是 AI 变现的地方。自用推理服务于公司自己的产品(推荐、调度、设备、内容),回报来自自身业务的增长,所以“重自用者强内生”;对外出售算力(IaaS/MaaS)是重资本、同质化、随周期起伏的“卖水”生意,所以“重外供者看周期”。",
        "The thesis: training compute earns nothing directly; inference is where AI meets revenue. Self-use inference serves the company's own products (recommendation, dispatch, devices, content), so its return comes from the company's own growth: heavy self-users grow from within. Selling compute (IaaS/MaaS) is capital-heavy, commoditising and cyclical, 'selling water': heavy suppliers ride the cycle.",
    ),
    "note_llm_timeout": (
        "(大模型响应超时,以下为离线回答。)",
        "(The LLM took too long; this is the offline answer.)",
    ),
    "note_llm_error": (
        "(大模型暂不可用,以下为离线回答。)",
        "(The LLM is unavailable; this is the offline answer.)",
    ),
    "note_llm_quota": (
        "(大模型额度已用尽,以下为离线回答。)",
        "(The LLM account is out of quota; this is the offline answer.)",
    ),
    "note_ungrounded": (
        "(大模型的回答含有无法用工具结果核实的数字,已改为直接根据工具结果生成的回答。)",
        "(The LLM's answer had numbers the tool results do not support, so this answer is rendered from the tool results.)",
    ),
    # --- ranking-change alerts (bot/alert_text.py) ---
    "alert_title": (
        "🔔 排名变化 · 数据修订 {revision}",
        "🔔 Ranking change · data revision {revision}",
    ),
    "alert_rank": (
        "按{metric}排名:第 {old} → {new} 名(共 {total} 家),{old_value} → {new_value}",
        "Rank by {metric}: {old} → {new} of {total}, {old_value} → {new_value}",
    ),
    "alert_enters": (
        "新进入按{metric}的排名:第 {new} 名(共 {total} 家),{new_value}",
        "Enters the ranking by {metric} at {new} of {total}, {new_value}",
    ),
    "alert_metric": (
        "{metric}:{old_value} → {new_value},排名第 {rank} 名不变",
        "{metric}: {old_value} → {new_value}, rank {rank} unchanged",
    ),
    "alert_metric_moved": (
        "{metric}:{old_value} → {new_value},排名第 {old} → {new} 名",
        "{metric}: {old_value} → {new_value}, rank {old} → {new}",
    ),
    "alert_archetype": ("类型:{old} → {new}", "Archetype: {old} → {new}"),
    "alert_above": (
        "现排在{other}之前:把握 {p}({verdict})",
        "Now above {other}: P = {p} ({verdict})",
    ),
    "alert_below": (
        "现排在{other}之后:把握 {p}({verdict})",
        "Now below {other}: P = {p} ({verdict})",
    ),
    "alert_more_pairs": (
        "另与 {n} 家公司交换了位置,把握不低于以上",
        "…and {n} more, none less sure",
    ),
    "alert_why": ("原因:{items}", "Why: {items}"),
    "alert_why_ranges": ("{names}的估算区间", "the ranges of {names}"),
    "alert_why_new": ("新加入的数据", "new in the data"),
    "alert_why_none": ("其他公司的数据变化", "other companies' data changed"),
    "alert_more": (
        "……另有 {n} 家公司变化;/rank 查看完整排名。",
        "…and {n} more companies changed; /rank shows the whole ranking.",
    ),
    "alert_footer": (
        "把握 = 蒙特卡洛抽样中新顺序成立的比例。/unsubscribe 取消订阅。",
        "P = share of Monte Carlo samples in which the new order holds. /unsubscribe stops these alerts.",
    ),
    "alert_currency": ("资本开支币种", "capex currency"),
}


def t(key: str, lang: Lang, **values: object) -> str:
    zh, en = _STRINGS[key]
    return (zh if lang == "zh" else en).format(**values)


def detect(text: str | None) -> Lang:
    """'zh-hans', 'zh_CN.UTF-8' → zh; anything else → en."""
    return "zh" if text and text.lower().startswith("zh") else "en"
