"""A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1, validating like Telegram.

The bot under test talks to it exactly as to Telegram (point python-telegram-bot's base_url,
i.e. TELEGRAM_API_BASE_URL, at `tg.base_url`). Tests play the users and read what they got:

    with FakeTelegram() as tg:                         # serves on a free loopback port
        alice = tg.user(1001, language_code="zh")
        tg.user_says(alice, "/rank")                   # queued for getUpdates (or POSTed to
                                                       # the bot's webhook once one is set)
        got = await tg.wait_for(alice.id, 2)           # from async tests; wait_for_sync()
        got[0].photo, got[1].text, got[1].buttons      # from threads / subprocess tests

What users do: `user_says` (text; bot_command and @mention entities are computed as Telegram
does), `user_taps` (an inline button under a message the bot sent), `user_sends_document`,
`user_sends_sticker`, `user_sends_photo`, and `push` for a raw update (`redeliver` sends an
update again with the same update_id, as Telegram does after a crash). Chats: `user()` makes
a private chat with that user, `group()` a group (negative id) the users can talk in.

More users: `user_edits` (edits the text of a message they sent: an edited_message update),
`user_inline` (`@bot <query>`: an inline_query; the bot's answer lands in `inline_answers`),
`bot_added` (a my_chat_member update); `group(..., admins=(user,))` makes users administrators
(getChatMember answers "administrator", everyone else "member").

What users received: `inbox(chat_id)` lists `Sent` records (method, visible `text`, raw `html`,
`photo` bytes, `caption`, `buttons`, `reply_to`, time) — edits too, as records of the edit
method with the edited message's id; `current(sent)` is that message as it is now.
`calls(method)` lists every request (`Call`: method, params, time) e.g. answerCallbackQuery,
sendChatAction, setMyCommands. `descriptions[(field, language)]` holds setMyDescription and
setMyShortDescription; `drafts[chat]` the sendMessageDraft texts a private chat was shown.

Validation, with Telegram's error texts: unknown token → 401; unknown method → 404; sending
to a chat that never talked to the bot → 400 "chat not found"; HTML that Telegram would not
parse (unknown tags, bad nesting, unclosed tags, a bare & or <) → 400 "can't parse entities";
lengths are what the user sees — the text after entity parsing, trimmed, in UTF-16 units — so
text over 4096 or a caption over 1024 → 400 however long its HTML; empty text → 400; a photo
that is not a PNG or JPEG, over 10 MB, with width + height over 10,000 or one side over 20
times the other → 400; callback data over 64 bytes → 400. Edits (editMessageText, -Caption,
-Media, -ReplyMarkup) only of the bot's own messages, text into text and media into media,
and "message is not modified" when nothing changes. answerCallbackQuery only once per query
that a user made; answerInlineQuery: at most 50 results, unique ids of 1-64 bytes, article or
photo results whose texts, captions, buttons and cached file ids are checked as above.

Failures, per chat, for delivery tests (the alerts job reuses this):
    tg.fail(chat_id, 429, times=2, retry_after=1)  # next 2 sends: 429 + parameters.retry_after
    tg.fail(chat_id, 500)                          # next send: 500 (also 502, 503, 504)
    tg.fail(chat_id, 403)                          # next send: 403 "bot was blocked by the user"
    tg.block(chat_id) / tg.unblock(chat_id)        # every send 403 until unblocked
    tg.migrate(chat_id, new_chat_id)               # a group became a supergroup: 400 with
                                                   # parameters.migrate_to_chat_id
    tg.limit_rate(overall=30, per_chat=1.0)        # Telegram's flood limits: a message over
                                                   # 30 in any second, or within 1 s of the
                                                   # chat's last one, gets 429 retry_after 1
Failed sends are not delivered (not in the inbox) but are kept in `calls()`, with their status.
`sends(chat_id)` gives the times of delivered messages, to check flood limits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import html
import itertools
import json
import logging
import re
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_ID = 123456
BOT_USERNAME = "inference_lens_bot"
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_LIMIT, ANSWER_TEXT_LIMIT = 4096, 1024, 64, 200
PHOTO_SIDES_LIMIT, PHOTO_RATIO_LIMIT, PHOTO_BYTES_LIMIT = 10_000, 20, 10_000_000
INLINE_RESULTS_LIMIT, DESCRIPTION_LIMIT, SHORT_DESCRIPTION_LIMIT = 50, 512, 120
INLINE_RESULT_TYPES = {"article", "photo"}
FLOOD_METHODS = {"sendMessage", "sendPhoto", "sendDocument"}
EDIT_METHODS = {
    "editMessageText",
    "editMessageCaption",
    "editMessageMedia",
    "editMessageReplyMarkup",
}
SEND_METHODS = {
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendChatAction",
    "sendMessageDraft",
    *EDIT_METHODS,
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
STRUCTURED = {
    "reply_markup",
    "reply_parameters",
    "link_preview_options",
    "commands",
    "scope",
    "allowed_updates",
    "entities",
    "caption_entities",
    "media",
    "results",
    "button",
}
TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_ERRORS = {
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def parameters(self) -> dict[str, int]:
        named = {"retry_after": self.retry_after, "migrate_to_chat_id": self.migrate_to_chat_id}
        return {k: v for k, v in named.items() if v is not None}


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Sent:
    """A message a user received (or an edit of one)."""

    method: str
    chat_id: int
    message_id: int
    text: str  # what the user sees: text, or the caption of a photo
    html: str  # as the bot sent it
    photo: bytes | None = None
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    reply_to: int | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def caption(self) -> str | None:
        return self.text if self.photo is not None else None

    def button_data(self) -> list[str]:
        return [b.get("callback_data", "") for row in self.buttons for b in row]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- Telegram's HTML, checked the way the Bot API parses it ---

_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>|&(#x[0-9a-fA-F]+|#\d+|\w+);"
)


def parse_html(text: str) -> str:
    """The visible text of Telegram HTML; raises ApiError(400) where Telegram would refuse."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in _HTML_TOKEN.finditer(text):
        out.append(_plain(text[pos : match.start()], pos))
        pos = match.end()
        if match.group(4) is not None:
            out.append(_entity(match.group(4), match.start()))
            continue
        closing, name = match.group(1), match.group(2).lower()
        if name not in TAGS:
            raise _cant_parse(f'Unsupported start tag "{name}" at byte offset {match.start()}')
        if not closing:
            stack.append(name)
        elif not stack or stack[-1] != name:
            raise _cant_parse(f"Unexpected end tag at byte offset {match.start()}")
        else:
            stack.pop()
    out.append(_plain(text[pos:], pos))
    if stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _plain(chunk: str, offset: int) -> str:
    """Text between tags and entities: a bare <, > or & means the sender forgot to escape."""
    for bad in "<>&":
        where = chunk.find(bad)
        if where != -1:
            raise _cant_parse(f"Unexpected {bad!r} at byte offset {offset + where}")
    return chunk


def _entity(body: str, offset: int) -> str:
    named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
    if body.startswith("#"):
        return html.unescape(f"&{body};")
    if body in named:
        return named[body]
    raise _cant_parse(f'Unsupported HTML entity "&{body};" at byte offset {offset}')


def _cant_parse(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {detail}")


_ADMIN_RIGHTS = {
    name: True
    for name in (
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    )
}


def _check_photo(size: tuple[int, int], data: bytes) -> None:
    """Telegram's limits on a photo: at most 10 MB, width + height at most 10,000, and
    neither side more than 20 times the other."""
    width, height = size
    if len(data) > PHOTO_BYTES_LIMIT:
        raise ApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
    if width + height > PHOTO_SIDES_LIMIT or max(size) > PHOTO_RATIO_LIMIT * max(min(size), 1):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8\xff"):
        return (1, 1)
    return None


class FakeTelegram:
    """The server and the world it simulates; safe to drive from any thread."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Inference Lens",
            "username": BOT_USERNAME,
        }
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []  # not yet confirmed by getUpdates' offset
        self._confirmed: list[dict[str, Any]] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._inbox: dict[int, list[Sent]] = {}
        self._calls: list[Call] = []
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, bytes)
        self._failures: dict[int, list[_Failure]] = {}
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._rate: tuple[float, float] | None = None  # (overall per second, per chat)
        self._recent_sends: collections.deque[float] = collections.deque()
        self._last_send: dict[int, float] = {}
        self._answered_queries: set[str] = set()
        self._queries: set[str] = set()  # callback queries users made
        self._inline_queries: set[str] = set()
        self.inline_answers: dict[str, list[dict[str, Any]]] = {}
        self._current: dict[tuple[int, int], Sent] = {}  # each message as it is now
        self._users: dict[int, User] = {}
        self._members: dict[tuple[int, int], str] = {}  # (chat, user) → status
        self.descriptions: dict[tuple[str, str | None], str] = {}  # (field, language) → text
        self.drafts: dict[int, list[str]] = {}  # chat → the drafts it was shown
        self.commands: dict[str | None, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._poll_generation = 0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self.port = 0

    # --- lifecycle ---

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's base_url (TELEGRAM_API_BASE_URL) should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeTelegram:
        self._thread = threading.Thread(target=self._serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Telegram server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        logging.getLogger("tornado.access").setLevel(logging.ERROR)  # 4xx are the point here
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        app = tornado.web.Application(
            [
                (r"/bot([^/]+)/(\w+)", _ApiHandler, {"tg": self}),
                (r"/file/bot([^/]+)/(.+)", _FileHandler, {"tg": self}),
            ]
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        self._ready.set()
        await self._stopped.wait()
        self._wake.set()
        server.stop()
        await server.close_all_connections()

    # --- the people using the bot ---

    def user(
        self,
        user_id: int,
        first_name: str = "",
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> User:
        """A user, with the private chat they have with the bot."""
        user = User(user_id, first_name or f"user{user_id}", language_code, username)
        with self._lock:
            self._chats[user_id] = {"id": user_id, "type": "private", "first_name": user.first_name}
            self._users[user_id] = user
            self._members[(user_id, user_id)] = "member"
        return user

    def group(
        self, chat_id: int, title: str = "Investors", *, admins: tuple[User, ...] = ()
    ) -> int:
        """A group chat (negative id) with the bot in it; `admins` administer it (every other
        user who talks there is a plain member, as getChatMember reports)."""
        with self._lock:
            self._chats[chat_id] = {"id": chat_id, "type": "group", "title": title}
            for admin in admins:
                self._members[(chat_id, admin.id)] = "administrator"
        return chat_id

    def current(self, sent: Sent) -> Sent:
        """The message as it is now, after any edits."""
        with self._lock:
            return self._current[(sent.chat_id, sent.message_id)]

    def user_edits(self, user: User, update_id: int, text: str) -> int:
        """The user edits the text of the message they sent in update `update_id`."""
        with self._lock:
            update = next(u for u in self._confirmed + self._updates if u["update_id"] == update_id)
        message = {**update["message"], "text": text, "edit_date": int(time.time())}
        message.pop("entities", None)
        if _entities(text):
            message["entities"] = _entities(text)
        return self.push({"edited_message": message})

    def user_inline(self, user: User, query: str) -> str:
        """`@bot <query>` typed in any chat; returns the inline query id (see inline_answers)."""
        query_id = str(next(self._ids))
        with self._lock:
            self._inline_queries.add(query_id)
        self.push(
            {"inline_query": {"id": query_id, "from": user.json(), "query": query, "offset": ""}}
        )
        return query_id

    def bot_added(self, user: User, chat_id: int) -> int:
        """`user` adds the bot to the group `chat_id` (a my_chat_member update)."""
        with self._lock:
            chat = self._chats[chat_id]
            self._members.setdefault((chat_id, user.id), "member")
        change = {
            "chat": chat,
            "from": user.json(),
            "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": self.bot},
            "new_chat_member": {"status": "member", "user": self.bot},
        }
        return self.push({"my_chat_member": change})

    def user_says(
        self,
        user: User,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: Sent | None = None,
        update_id: int | None = None,
    ) -> int:
        """A text message from a user (in their private chat unless `chat_id` names a group)."""
        message = self._message(user, chat_id)
        with self._lock:
            self._members.setdefault((message["chat"]["id"], user.id), "member")
        message["text"] = text
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._messages[(reply_to.chat_id, reply_to.message_id)]
        return self.push({"message": message}, update_id=update_id)

    def user_taps(self, user: User, sent: Sent, data: str | None = None) -> int:
        """A tap on an inline button under a message the bot sent (the first one by default)."""
        data = data if data is not None else sent.button_data()[0]
        if data not in sent.button_data():
            raise ValueError(f"no button {data!r} under that message: {sent.button_data()}")
        query_id = str(next(self._ids))
        with self._lock:
            self._queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.json(),
            "chat_instance": str(sent.chat_id),
            "data": data,
            "message": self._messages[(sent.chat_id, sent.message_id)],
        }
        return self.push({"callback_query": query})

    def user_sends_document(
        self,
        user: User,
        content: bytes,
        file_name: str,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> int:
        file_id = self._store_file(f"documents/{file_name}", content)
        message = self._message(user, chat_id)
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": "application/octet-stream",
            "file_size": len(content),
        }
        if caption is not None:
            message["caption"] = caption
            if _entities(caption):
                message["caption_entities"] = _entities(caption)
        return self.push({"message": message})

    def user_sends_sticker(self, user: User, *, chat_id: int | None = None) -> int:
        message = self._message(user, chat_id)
        message["sticker"] = {
            "file_id": "sticker-1",
            "file_unique_id": "usticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.push({"message": message})

    def user_sends_photo(self, user: User, *, chat_id: int | None = None) -> int:
        message = self._message(user, chat_id)
        message["photo"] = [
            {"file_id": "photo-in-1", "file_unique_id": "uphoto-in-1", "width": 90, "height": 90}
        ]
        return self.push({"message": message})

    def push(self, update: dict[str, Any], *, update_id: int | None = None) -> int:
        """Deliver a raw update (without update_id: the next one); returns its update_id."""
        with self._lock:
            uid = update_id if update_id is not None else next(self._update_ids)
            full = {"update_id": uid, **update}
            self._updates.append(full)
            webhook = self.webhook
        if webhook is not None:
            self._call_soon(self._post_to_webhook(full, webhook))
        self._call_soon_set()
        return uid

    def redeliver(self, update_id: int) -> None:
        """Send an update again with the same update_id (Telegram does after a crash)."""
        with self._lock:
            update = next(u for u in self._confirmed + self._updates if u["update_id"] == update_id)
        self.push({k: v for k, v in update.items() if k != "update_id"}, update_id=update_id)

    def _message(self, user: User, chat_id: int | None) -> dict[str, Any]:
        with self._lock:
            chat = self._chats[chat_id if chat_id is not None else user.id]
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": chat,
                "from": user.json(),
            }
            self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _store_file(self, path: str, content: bytes) -> str:
        with self._lock:
            file_id = f"file-{next(self._ids)}"
            self._files[file_id] = (path, content)
        return file_id

    # --- failures ---

    def fail(self, chat_id: int, status: int, *, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` sends to the chat fail with `status` (429, 403 or 5xx)."""
        with self._lock:
            self._failures.setdefault(chat_id, []).append(_Failure(status, times, retry_after))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every send to the chat gets 403 until unblock()."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup (a new id): sends to the old id get 400 with
        parameters.migrate_to_chat_id, and the new chat takes messages."""
        with self._lock:
            title = self._chats[chat_id].get("title", "")
            self._chats[new_chat_id] = {"id": new_chat_id, "type": "supergroup", "title": title}
            self._migrated[chat_id] = new_chat_id

    def limit_rate(self, overall: float = 30, per_chat: float = 1.0) -> None:
        """Enforce Telegram's flood limits on messages from now on (429, retry_after 1)."""
        with self._lock:
            self._rate = (overall, per_chat)

    def _flooded(self, method: str, chat_id: int) -> ApiError | None:
        """429 when a message would pass the flood limits; otherwise count it."""
        if self._rate is None or method not in FLOOD_METHODS:
            return None
        overall, per_chat = self._rate
        now = time.monotonic()
        with self._lock:
            while self._recent_sends and self._recent_sends[0] <= now - 1:
                self._recent_sends.popleft()
            last = self._last_send.get(chat_id)
            if len(self._recent_sends) >= overall or (last and now - last < 1 / per_chat):
                return ApiError(429, "Too Many Requests: retry after 1", 1)
            self._recent_sends.append(now)
            self._last_send[chat_id] = now
        return None

    def _injected(self, chat_id: int) -> ApiError | None:
        with self._lock:
            if chat_id in self._blocked:
                return ApiError(403, _ERRORS[403])
            if chat_id in self._migrated:
                return ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self._migrated[chat_id],
                )
            queue = self._failures.get(chat_id)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        if failure.status == 429:
            return ApiError(
                429, f"Too Many Requests: retry after {failure.retry_after}", failure.retry_after
            )
        return ApiError(failure.status, _ERRORS.get(failure.status, "Internal Server Error"))

    # --- what users received ---

    def inbox(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return list(self._inbox.get(chat_id, []))

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sends(self, chat_id: int) -> list[float]:
        """Times of the messages delivered to a chat (to check flood limits)."""
        return [s.at for s in self.inbox(chat_id)]

    async def wait_for(self, chat_id: int, count: int = 1, timeout: float = 10.0) -> list[Sent]:
        """The chat's first `count` messages since the inbox was last cleared, waiting for them."""
        deadline = time.monotonic() + timeout
        while len(self.inbox(chat_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"chat {chat_id} got {len(self.inbox(chat_id))} of {count}: {[s.text[:80] for s in self.inbox(chat_id)]}"
                )
            await asyncio.sleep(0.005)
        return self.inbox(chat_id)[:count]

    async def wait_quiet(
        self, chat_id: int, quiet: float = 0.15, timeout: float = 10.0
    ) -> list[Sent]:
        """Every message of the chat once at least one came and none followed for `quiet` s."""
        await self.wait_for(chat_id, 1, timeout)
        seen = -1
        while seen != len(self.inbox(chat_id)):
            seen = len(self.inbox(chat_id))
            await asyncio.sleep(quiet)
        return self.inbox(chat_id)

    def wait_for_sync(self, chat_id: int, count: int = 1, timeout: float = 10.0) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(self.inbox(chat_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat {chat_id} got {len(self.inbox(chat_id))} of {count}")
            time.sleep(0.005)
        return self.inbox(chat_id)[:count]

    def clear(self, chat_id: int | None = None) -> None:
        """Forget what a chat (or every chat) received, so the next wait starts afresh."""
        with self._lock:
            if chat_id is None:
                self._inbox.clear()
            else:
                self._inbox.pop(chat_id, None)

    def pending_updates(self) -> int:
        """Updates the bot has not confirmed yet (getUpdates offset)."""
        with self._lock:
            return len(self._updates)

    # --- the API ---

    def _call_soon(self, coro: Any) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _call_soon_set(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _post_to_webhook(self, update: dict[str, Any], webhook: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        client = tornado.httpclient.AsyncHTTPClient()
        request = tornado.httpclient.HTTPRequest(
            webhook["url"], "POST", headers, json.dumps(update)
        )
        response = await client.fetch(request, raise_error=False)
        with self._lock:
            self._calls.append(Call("webhook", {"update_id": update["update_id"]}, response.code))
            if response.code == 200 and update in self._updates:
                self._updates.remove(update)

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        chat_id = params.get("chat_id")
        if method in SEND_METHODS and chat_id is not None:
            injected = self._injected(int(chat_id)) or self._flooded(method, int(chat_id))
            if injected is not None:
                raise injected
        result = handler(params)
        return await result if asyncio.iscoroutine(result) else result

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._call_soon_set()  # an older getUpdates still waiting gets its 409 now
        while True:
            with self._lock:
                self._confirm(offset)
                ready = self._updates[:limit]
            if (
                ready
                or time.monotonic() >= deadline
                or self._stopped is None
                or self._stopped.is_set()
            ):
                return ready
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            await self._sleep_until_woken(deadline)

    async def _sleep_until_woken(self, deadline: float) -> None:
        if self._wake is None:
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(deadline - time.monotonic(), 0.001))

    def _confirm(self, offset: int) -> None:
        """Updates below the offset are confirmed: Telegram forgets them."""
        if offset:
            self._confirmed += [u for u in self._updates if u["update_id"] < offset]
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if url and urlparse(url).scheme not in ("http", "https"):
            raise ApiError(400, "Bad Request: bad webhook: Unsupported URL protocol")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")} if url else None
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            with self._lock:
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code") or None] = commands
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(params.get("language_code") or None, [])

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        return True

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty") from None
        with self._lock:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _visible(self, text: str, parse_mode: str | None, limit: int, what: str) -> str:
        """What Telegram shows: entities parsed, then leading and trailing whitespace trimmed;
        the limit counts that text in UTF-16 units, not the HTML the bot sent."""
        visible = parse_html(text) if (parse_mode or "").upper() == "HTML" else text
        visible = visible.strip()
        if utf16_len(visible) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return visible

    def _buttons(self, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if len(button.get("callback_data", "").encode()) > CALLBACK_DATA_LIMIT:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return rows

    def _deliver(self, chat: dict[str, Any], sent: Sent, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._inbox.setdefault(chat["id"], []).append(sent)
            self._messages[(chat["id"], sent.message_id)] = message
            self._current[(chat["id"], sent.message_id)] = sent
        return message

    def _reply_to(self, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters") or {}
        return reply.get("message_id") or (
            int(params["reply_to_message_id"]) if params.get("reply_to_message_id") else None
        )

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        text = params.get("text", "")
        visible = self._visible(text, params.get("parse_mode"), TEXT_LIMIT, "message")
        if not visible:
            raise ApiError(400, "Bad Request: message text is empty")
        return self._send("sendMessage", chat, params, {"text": visible}, visible, text)

    def _photo(self, photo: object) -> tuple[list[dict[str, Any]], bytes]:
        """A photo as Telegram stores it: an upload (checked like Telegram checks it) or the
        file_id of one sent before."""
        if isinstance(photo, bytes):
            size = _image_size(photo)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            _check_photo(size, photo)
            file_id = self._store_file(f"photos/{next(self._ids)}.png", photo)
            data = photo
        else:
            with self._lock:
                stored = self._files.get(str(photo))
            if stored is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            file_id, data = str(photo), stored[1]
            size = _image_size(data) or (1, 1)
        sized = {"width": size[0], "height": size[1], "file_size": len(data)}
        return [{"file_id": file_id, "file_unique_id": f"u{file_id}", **sized}], data

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        photos, data = self._photo(params.get("photo"))
        caption = params.get("caption", "")
        visible = self._visible(caption, params.get("parse_mode"), CAPTION_LIMIT, "message caption")
        content: dict[str, Any] = {"photo": photos, **({"caption": visible} if visible else {})}
        return self._send("sendPhoto", chat, params, content, visible, caption, data)

    def _send(
        self,
        method: str,
        chat: dict[str, Any],
        params: dict[str, Any],
        content: dict[str, Any],
        visible: str,
        raw: str,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """Record and deliver a sent message: the envelope every send method shares."""
        buttons = self._buttons(params)
        message_id = next(self._ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot,
            **content,
        }
        if buttons:
            message["reply_markup"] = {"inline_keyboard": buttons}
        sent = Sent(
            method, chat["id"], message_id, visible, raw, data, buttons, self._reply_to(params)
        )
        return self._deliver(chat, sent, message)

    def _api_sendMessageDraft(self, params: dict[str, Any]) -> bool:
        """A draft streamed into a private chat (Bot API 9.3); kept in `drafts`, not the inbox."""
        chat = self._chat(params)
        if chat["type"] != "private":
            raise ApiError(400, "Bad Request: TEXTDRAFT_PEER_INVALID")
        if not int(params.get("draft_id") or 0):
            raise ApiError(400, "Bad Request: invalid draft_id")
        text = params.get("text", "")
        visible = self._visible(text, params.get("parse_mode"), TEXT_LIMIT, "message")
        with self._lock:
            self.drafts.setdefault(chat["id"], []).append(visible)
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if utf16_len(params.get("text", "")) > ANSWER_TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            if query_id not in self._queries or query_id in self._answered_queries:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
            self._answered_queries.add(query_id)
        return True

    # --- edits: only a message the bot sent, only into the same kind, only if it changes ---

    def _editable(self, params: dict[str, Any]) -> tuple[dict[str, Any], Sent, dict[str, Any]]:
        chat = self._chat(params)
        key = (chat["id"], int(params.get("message_id") or 0))
        with self._lock:
            message, sent = self._messages.get(key), self._current.get(key)
        if message is None or sent is None or message.get("from") != self.bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, sent, message

    def _edited(
        self,
        method: str,
        chat: dict[str, Any],
        old: Sent,
        message: dict[str, Any],
        params: dict[str, Any],
        change: dict[str, Any],
    ) -> dict[str, Any]:
        """The edit delivered, unless it changes nothing (Telegram refuses that)."""
        keep = "reply_markup" not in params and method == "editMessageReplyMarkup"
        buttons = old.buttons if keep else self._buttons(params)
        sent = Sent(
            method,
            chat["id"],
            old.message_id,
            change.get("text", old.text),
            change.get("html", old.html),
            change.get("photo", old.photo),
            buttons,
            old.reply_to,
        )
        if (sent.text, sent.photo, sent.buttons) == (old.text, old.photo, old.buttons):
            raise ApiError(400, NOT_MODIFIED)
        updated = {**message, **change.get("json", {}), "edit_date": int(time.time())}
        updated.pop("reply_markup", None)
        if buttons:
            updated["reply_markup"] = {"inline_keyboard": buttons}
        return self._deliver(chat, sent, updated)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, old, message = self._editable(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text", "")
        visible = self._visible(text, params.get("parse_mode"), TEXT_LIMIT, "message")
        if not visible:
            raise ApiError(400, "Bad Request: message text is empty")
        change = {"text": visible, "html": text, "json": {"text": visible}}
        return self._edited("editMessageText", chat, old, message, params, change)

    def _api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, old, message = self._editable(params)
        if "photo" not in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = params.get("caption", "")
        visible = self._visible(caption, params.get("parse_mode"), CAPTION_LIMIT, "message caption")
        change = {"text": visible, "html": caption, "json": {"caption": visible}}
        return self._edited("editMessageCaption", chat, old, message, params, change)

    def _api_editMessageMedia(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, old, message = self._editable(params)
        media = params.get("media") or {}
        if "photo" not in message:
            raise ApiError(400, "Bad Request: there is no media in the message to edit")
        if media.get("type") != "photo":
            raise ApiError(400, "Bad Request: wrong type of the web page content")
        ref = str(media.get("media", ""))
        photo = params.get(ref.removeprefix("attach://")) if ref.startswith("attach://") else ref
        photos, data = self._photo(photo)
        caption = media.get("caption", "")
        visible = self._visible(caption, media.get("parse_mode"), CAPTION_LIMIT, "message caption")
        shown = {"photo": photos, "caption": visible}
        change = {"text": visible, "html": caption, "photo": data, "json": shown}
        return self._edited("editMessageMedia", chat, old, message, params, change)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, old, message = self._editable(params)
        return self._edited("editMessageReplyMarkup", chat, old, message, params, {})

    # --- inline mode, chat members, the bot's profile ---

    def _api_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        results = params.get("results") or []
        with self._lock:
            if query_id not in self._inline_queries or query_id in self.inline_answers:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
        if len(results) > INLINE_RESULTS_LIMIT:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for result in results:
            self._check_inline_result(result)
        with self._lock:
            self.inline_answers[query_id] = results
        return True

    def _check_inline_result(self, result: dict[str, Any]) -> None:
        kind = result.get("type")
        if kind not in INLINE_RESULT_TYPES:
            raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        self._buttons(result)
        if kind == "article":
            content = result.get("input_message_content") or {}
            if not result.get("title") or not content.get("message_text"):
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
            self._visible(content["message_text"], content.get("parse_mode"), TEXT_LIMIT, "message")
            return
        with self._lock:
            known = str(result.get("photo_file_id", "")) in self._files
        if not known:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        self._visible(
            result.get("caption", ""), result.get("parse_mode"), CAPTION_LIMIT, "message caption"
        )

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = int(params.get("user_id") or 0)
        with self._lock:
            status = self._members.get((chat["id"], user_id))
            user = self._users.get(user_id)
        if status is None or user is None:
            raise ApiError(400, "Bad Request: PARTICIPANT_ID_INVALID")
        member: dict[str, Any] = {"status": status, "user": user.json()}
        if status == "administrator":
            member |= {"can_be_edited": False, "is_anonymous": False, **_ADMIN_RIGHTS}
        return member

    def _api_setMyDescription(self, params: dict[str, Any]) -> bool:
        return self._describe(params, "description", DESCRIPTION_LIMIT)

    def _api_setMyShortDescription(self, params: dict[str, Any]) -> bool:
        return self._describe(params, "short_description", SHORT_DESCRIPTION_LIMIT)

    def _describe(self, params: dict[str, Any], field_name: str, limit: int) -> bool:
        text = params.get(field_name, "")
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {field_name.upper()}_INVALID")
        with self._lock:
            self.descriptions[(field_name, params.get("language_code") or None)] = text
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = stored
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": path,
        }

    def file_content(self, path: str) -> bytes | None:
        with self._lock:
            return next((c for p, c in self._files.values() if p == path), None)

    def record(self, method: str, params: dict[str, Any], status: int) -> None:
        shown = {k: v for k, v in params.items() if not isinstance(v, bytes)}
        with self._lock:
            self._calls.append(Call(method, shown, status))


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command at the start and @mentions, with offsets in UTF-16 units as Telegram sends."""
    entities = []
    for match in re.finditer(r"(?<![\w@])(/[a-zA-Z0-9_]+(?:@\w+)?|@\w{3,})", text):
        kind = "bot_command" if match.group(0).startswith("/") else "mention"
        if kind == "bot_command" and match.start() != 0:
            continue
        offset = utf16_len(text[: match.start()])
        entities.append({"type": kind, "offset": offset, "length": utf16_len(match.group(0))})
    return entities


class _ApiHandler(tornado.web.RequestHandler):
    def initialize(self, tg: FakeTelegram) -> None:
        self.tg = tg

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        params = self._params()
        if token != self.tg.token:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            result = await self.tg.call(method, params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters():
                body["parameters"] = exc.parameters()
            self.tg.record(method, params, exc.status)
            self._reply(exc.status, body)
            return
        self.tg.record(method, params, 200)
        self._reply(200, {"ok": True, "result": result})

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if (
            self.request.headers.get("Content-Type", "").startswith("application/json")
            and self.request.body
        ):
            params.update(json.loads(self.request.body))
        for name in self.request.body_arguments:
            params[name] = self.get_body_argument(name)
        for name in self.request.query_arguments:
            params[name] = self.get_query_argument(name)
        for name, files in self.request.files.items():
            params[name] = files[0]["body"]
        for name in STRUCTURED & params.keys():
            if isinstance(params[name], bytes):  # a JSON field sent as a multipart part
                params[name] = params[name].decode()
            if isinstance(params[name], str):
                params[name] = json.loads(params[name])
        return params

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _FileHandler(tornado.web.RequestHandler):
    def initialize(self, tg: FakeTelegram) -> None:
        self.tg = tg

    def get(self, token: str, path: str) -> None:
        content = self.tg.file_content(path) if token == self.tg.token else None
        if content is None:
            self.set_status(404)
            self.finish("Not Found")
            return
        self.finish(content)
