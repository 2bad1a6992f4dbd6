"""Number formatting shared by every renderer (CLI, Telegram, fallback answers).

One place decides how a figure looks, so the grounding gate knows every form a tool
number can take on screen.
"""

from __future__ import annotations

CURRENCY_SYMBOL = {"USD": "$", "CNY": "RMB ", "HKD": "HK$"}


def pct(x: float | None, digits: int = 0) -> str:
    """0.724 → '72%'."""
    return "n/a" if x is None else f"{x * 100:.{digits}f}%"


def pct_range(low: float | None, high: float | None) -> str:
    """p10/p90 → '60–80%'."""
    if low is None or high is None:
        return "n/a"
    return f"{low * 100:.0f}–{high * 100:.0f}%"


def amount(x: float | None, currency: str = "USD", lang: str = "en") -> str:
    """1.23e10 USD → '$12.3bn' (en) or '123.0亿美元' (zh)."""
    if x is None:
        return "n/a"
    if lang == "zh":
        unit = {"USD": "美元", "CNY": "元人民币", "HKD": "港元"}.get(currency, f" {currency}")
        if abs(x) >= 1e12:
            return f"{x / 1e12:.2f}万亿{unit}"
        return f"{x / 1e8:.1f}亿{unit}"
    symbol = CURRENCY_SYMBOL.get(currency, f"{currency} ")
    if abs(x) >= 1e12:
        return f"{symbol}{x / 1e12:.2f}tn"
    if abs(x) >= 1e9:
        return f"{symbol}{x / 1e9:.1f}bn"
    return f"{symbol}{x / 1e6:.0f}mn"


def metric_value(x: float | None, unit: str, lang: str = "en") -> str:
    return amount(x, "USD", lang) if unit == "usd" else pct(x)


def metric_range(low: float | None, high: float | None, unit: str, lang: str = "en") -> str:
    if unit == "usd":
        return f"{amount(low, 'USD', lang)}–{amount(high, 'USD', lang)}"
    return pct_range(low, high)


def prob(p: float | None) -> str:
    """P(A above B) as a percentage: 0.934 → '93%'."""
    return pct(p)


def tidy(data: object) -> object:
    """JSON-ready data without float noise (0.35000000000000003 → 0.35): floats keep 12
    significant digits, far more than any input was measured to."""
    if isinstance(data, float):
        return float(f"{data:.12g}")
    if isinstance(data, dict):
        return {k: tidy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [tidy(v) for v in data]
    return data
