"""The bot's own pages in Telegram HTML: /start, /help, /methodology, the company list, the
subscription list and a refused import. Results of the toolkit are said in bot.text."""

from __future__ import annotations

from collections.abc import Iterable

from bot.alerts.subscriptions import Subscription
from bot.text import terms
from bot.text.i18n import Lang, t
from bot.text.markup import esc
from tools.archetypes import rules as archetype_rules
from tools.archetypes import tag_rules
from tools.models import Thresholds
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS
from tools.uncertainty import DEFAULT_SAMPLES, DEFAULT_SEED

COMMANDS = (
    "rank",
    "tiers",
    "company",
    "compare",
    "history",
    "whatif",
    "sources",
    "methodology",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "lang",
    "help",
)


def import_refused(problems: Iterable[object], lang: Lang) -> str:
    lines = [f"<b>{esc(t('import_failed', lang))}</b>"]
    lines += [f"• <code>{esc(p)}</code>" for p in problems]
    return "\n".join(lines)


def _command_lines(lang: Lang) -> list[str]:
    return [f"/{name} — {esc(t('cmd_' + name, lang))}" for name in COMMANDS]


def start(lang: Lang, bot_username: str) -> str:
    lines = [f"<b>{esc(t('start_intro', lang))}</b>", "", f"<i>{esc(t('thesis', lang))}</i>", ""]
    lines += [esc(t("start_numbers", lang)), "", f"<b>{esc(t('help_commands_title', lang))}</b>"]
    lines += _command_lines(lang)
    lines += ["", esc(t("help_free_text", lang)), esc(t("help_groups", lang, bot=bot_username))]
    return "\n".join(lines)


def help_text(lang: Lang, bot_username: str) -> str:
    lines = [f"<b>{esc(t('help_commands_title', lang))}</b>", *_command_lines(lang), ""]
    lines += [esc(t("help_examples", lang)), ""]
    lines += [esc(t("help_free_text", lang)), esc(t("help_groups", lang, bot=bot_username))]
    return "\n".join(lines)


def methodology(thresholds: Thresholds, lang: Lang) -> str:
    lines = [f"<b>{esc(t('methodology_title', lang))}</b>", "", f"<i>{esc(t('thesis', lang))}</i>"]
    lines += ["", f"<b>{esc(t('method_layers_title', lang))}</b>"]
    for i, term in enumerate(LAYER_TERMS.values(), 1):
        lines.append(f"{i}. <b>{esc(term.name(lang))}</b>: {esc(term.definition(lang))}")
    lines += ["", f"<b>{esc(t('metrics_title', lang))}</b>"]
    for metric in METRICS.values():
        lines.append(
            f"• <b>{esc(metric.name(lang))}</b> <code>{esc(metric.formula)}</code>: "
            + esc(metric.definition(lang))
        )
    lines += ["", f"<b>{esc(t('method_archetypes_title', lang))}</b>"]
    lines += [f"• {esc(rule)}" for rule in rules(thresholds, lang)]
    lines += ["", esc(t("method_uncertainty", lang, samples=DEFAULT_SAMPLES, seed=DEFAULT_SEED))]
    lines += [esc(t("method_estimates", lang))]
    return "\n".join(lines)


def rules(th: Thresholds, lang: Lang) -> list[str]:
    """The archetype rules in evaluation order, with the thresholds in force (from the data)."""
    every = {**archetype_rules(th), **tag_rules(th)}
    return [
        f"{ARCHETYPES[name].name(lang)}: {terms.rule_spec(c, lang)}" for name, c in every.items()
    ]


def subscriptions(items: list[Subscription], names: dict[str, str], lang: Lang) -> str:
    if not items:
        return esc(t("no_subscriptions", lang))
    lines = [f"<b>{esc(t('subscriptions_title', lang))}</b>"]
    for s in items:
        metric = terms.metric(s.metric, lang) if s.metric in METRICS else s.metric
        if s.company is None:
            lines.append("• " + esc(t("sub_ranking_item", lang, metric=metric)))
        else:
            name = names.get(s.company, s.company)
            lines.append("• " + esc(t("sub_company_item", lang, name=name, metric=metric)))
    return "\n".join(lines)
