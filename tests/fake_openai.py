"""A fake OpenAI-compatible chat.completions server on 127.0.0.1, scripted per test.

The real client talks to it over HTTP (openai 3 sends through httpx2, which respx cannot
intercept). A script is a function from the request to a Reply; the server records every
request so tests can assert on what the agent sent. Checks run before the script and may
refuse a request the way a strict real server does (`llama_cpp`, `context_of`, `no_tools`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_RESULT_LINE = re.compile(r"^[a-z_]+: (\{.*\})$", re.MULTILINE)


@dataclass
class Request:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body["messages"]

    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool result in the conversation so far, parsed (sent without tools, they are
        "name: {json}" lines of the user's message)."""
        results = [json.loads(m["content"]) for m in self.messages if m["role"] == "tool"]
        if "tools" not in self.body:
            texts = [m["content"] for m in self.messages if m["role"] == "user"]
            results += [json.loads(x) for x in _RESULT_LINE.findall("\n".join(texts))]
        return results

    def question(self) -> str:
        """The latest user message that is not a repair request."""
        users = [
            m["content"]
            for i, m in enumerate(self.messages)
            if m["role"] == "user" and not _answers_back(self.messages, i)
        ]
        return users[-1]

    @property
    def is_repair(self) -> bool:
        return _answers_back(self.messages, len(self.messages) - 1)


def _answers_back(messages: list[dict[str, Any]], i: int) -> bool:
    """A repair request is a user message right after the assistant's final (tool-less) text."""
    prev = messages[i - 1] if i > 0 else {}
    return (
        messages[i]["role"] == "user"
        and prev.get("role") == "assistant"
        and not prev.get("tool_calls")
        and bool(prev.get("content"))
    )


@dataclass
class Reply:
    body: dict[str, Any] | str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


Script = Callable[[Request], Reply]


def completion(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    function_call: dict[str, Any] | None = None,
) -> Reply:
    # finish_reason "stop" even with tool calls, as several servers say: the agent must look
    # at message.tool_calls, not at finish_reason. `function_call` is the deprecated form.
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if function_call:
        message["function_call"] = function_call
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return Reply(body)


def tool_call(
    name: str, arguments: dict[str, Any] | str, call_id: str | None = None
) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": args}}
    if call_id is not None:
        call["id"] = call_id
    return call


def error(status: int, message: str, code: str | None = None, **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "fake_error", "code": code}}
    return Reply(body, status=status, headers={k.replace("_", "-"): v for k, v in headers.items()})


# A check refuses a request (its Reply) or lets it through to the script (None).
Check = Callable[[Request], Reply | None]

# What llama.cpp's grammar engine cannot parse in a JSON-schema pattern (the server dies).
_GRAMMAR_UNSAFE = re.compile(r"\\[dDwWsSbB]|\(\?[=!<]")


def llama_cpp(request: Request) -> Reply | None:
    """Refuses what llama-cpp-python's server (0.3) refuses: an assistant message whose
    content is null or missing (HTTP 500), and tool schemas with patterns its grammar
    engine cannot parse (the real server segfaults; here a 500)."""
    for message in request.messages:
        if message["role"] == "assistant" and not isinstance(message.get("content"), str):
            return error(500, "1 validation error: content: Input should be a valid string")
    for pattern in _patterns(request.body.get("tools", [])):
        if _GRAMMAR_UNSAFE.search(pattern):
            return error(500, f"parse: error parsing grammar: unknown escape at {pattern}")
    return None


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for item in node for p in _patterns(item)]
    return []


def context_of(chars: int) -> Check:
    """Refuses a request whose messages exceed `chars` characters, as a server with a small
    context does (llama-cpp-python's wording, HTTP 400)."""

    def check(request: Request) -> Reply | None:
        size = len(json.dumps(request.messages, ensure_ascii=False))
        if size <= chars:
            return None
        return error(
            400,
            "This model's maximum context length is 2048 tokens. However, you requested "
            f"{size // 3} tokens. Please reduce the length of the messages or completion.",
            "context_length_exceeded",
        )

    return check


def no_tools(request: Request) -> Reply | None:
    """Refuses tool definitions, as Ollama does for a model without tool support."""
    if "tools" in request.body:
        return error(400, "registry.ollama.ai/library/gemma:2b does not support tools")
    return None


def streamed(reply: Reply) -> Reply:
    """The reply as a streaming-only proxy sends it, asked or not: server-sent events of
    chunks, content in two pieces, each tool call's name and arguments in pieces."""
    if not isinstance(reply.body, dict) or "choices" not in reply.body:
        return reply
    choice = reply.body["choices"][0]
    message = choice["message"]
    content = message.get("content") or ""
    half = len(content) // 2
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": content[:half]}]
    deltas.append({"content": content[half:]})
    for i, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        first = {"index": i, "id": call.get("id"), "function": {"name": function["name"]}}
        deltas.append({"tool_calls": [first]})
        deltas.append(
            {"tool_calls": [{"index": i, "function": {"arguments": function["arguments"]}}]}
        )
    chunks = [
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d}]} for d in deltas
    ]
    chunks[-1]["choices"][0]["finish_reason"] = choice["finish_reason"]
    events = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return Reply(events, content_type="text/event-stream")


class FakeOpenAI:
    """Serves /v1/chat/completions from a script in a background thread."""

    def __init__(self, script: Script, checks: tuple[Check, ...] = ()) -> None:
        self.script = script
        self.checks = checks
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(body, headers, time.monotonic())
                fake.requests.append(request)
                refusals = (check(request) for check in fake.checks)
                reply = next((r for r in refusals if r is not None), None) or fake.script(request)
                time.sleep(reply.delay)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a slow reply: that is the point of the test

            def log_message(self, *args: object) -> None:
                pass

        return Handler


# --- scripted behaviours shared by the tests and the benchmark ---


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def describe(result: dict[str, Any]) -> str:
    """What an honest model says about one tool result: its figures, written as the rules say."""
    if "error" in result:
        return "I could not look that up."
    if "rows" in result and result.get("unit") == "share":
        rows = result["rows"][:3]
        items = "; ".join(f"#{r['rank']} {r['name']} {_pct(r['value'])}" for r in rows)
        return f"By {result['metric']} ({result['period']}, estimates): {items}."
    if "layer_mix" in result and "rule" in result:
        mix = ", ".join(f"{k} {_pct(v)}" for k, v in result["layer_mix"].items())
        return f"{result['name']} in {result['period']}: {mix}; archetype {result['archetype']}."
    if "ai_capex_usd" in result:
        return f"{result['name']} spent about ${result['ai_capex_usd'] / 1e9:.1f}bn on AI in {result['period']} (estimate)."
    if "scenario" in result:
        b, s = result["baseline"], result["scenario"]
        return f"{result['name']} would move from #{b['rank']} to #{s['rank']} of {s['of']}, {_pct(b['value'])} to {_pct(s['value'])}."
    if "periods" in result and "changes" in result:
        items = ", ".join(f"{p['period']} #{p['rank']}" for p in result["periods"])
        return f"{result['name']}: {items}."
    return "Here is the definition from the methodology."


def honest(request: Request) -> Reply:
    """Explains the tool results it has; with none, asks for the ranking first."""
    results = request.tool_results()
    if not results and "tools" not in request.body:
        return completion("I have no data on that; ask me about a company's ranking.")
    if not results:
        return completion(tool_calls=[tool_call("rank", {}, "call_rank")])
    return completion(" ".join(describe(r) for r in results[-3:]))
