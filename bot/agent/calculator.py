"""The calculator the LLM may call: + − × ÷ over numbers, evaluated by walking the syntax tree.

Never `eval`: only number literals, the four operations, unary minus and brackets are read; any
other syntax is refused. The grounding gate takes the value as evidence only when every operand
is a value of this turn's tool results (bot.agent.evidence), so a derived figure ("$86bn more",
"three together spend $481bn") is computed by code from the tools' own figures.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from tools.errors import ToolkitError

MAX_EXPRESSION = 200  # characters: a few operands, not a program
_OPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
# The symbols people write for the same operations.
_SYMBOLS = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "（": "(", "）": ")", ",": ""})


class CalcView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str
    value: float


class CalcError(ToolkitError):
    """An expression the calculator does not evaluate (said back to the LLM)."""


def evaluate(expression: str) -> float:
    if len(expression) > MAX_EXPRESSION:
        raise CalcError(f"expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.translate(_SYMBOLS), mode="eval")
    except SyntaxError as exc:
        raise CalcError(f"not arithmetic: {exc.msg}") from None
    return _value(tree.body)


def _value(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise CalcError("only numbers, + - * / and brackets")
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _value(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise CalcError("division by zero")
        return _OPS[type(node.op)](left, right)
    raise CalcError("only numbers, + - * / and brackets")


def operands(expression: str) -> list[tuple[float, float]]:
    """Each number literal of the expression with its rounding (how precisely it was copied:
    24.6e9 is 24.6e9 ± 0.05e9)."""
    try:
        tree = ast.parse(expression.translate(_SYMBOLS), mode="eval")
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            segment = ast.get_source_segment(expression.translate(_SYMBOLS), node) or ""
            mantissa, _, exponent = segment.lower().partition("e")
            decimals = len(mantissa.partition(".")[2])
            out.append((float(node.value), 0.5 * 10.0 ** (int(exponent or 0) - decimals)))
    return out
