"""A deterministic, realistic sample data set for ``deskcore replay`` (P6).

:func:`sample_settings` gives a replay settings document (the desk, the social rules, the chat
integration and the service levels of a Tokyo support desk) and :func:`sample_events` a replay
stream for it: a working week of emails, web forms, chat lines, tweets, direct messages and
Facebook comments in English and Japanese, with webhook redeliveries (P3), edits, social items
for the automatic rules (S4-S6, H1-H3), live chats that start, get answered, end or are missed
(C1-C7), and agents changing ticket statuses (L1). Both are plain JSON data; the same seed
always gives the same stream. :func:`write_sample` writes them to a folder.

Everything here is pure except :func:`write_sample`: no clock, no global random state.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "EVENTS_FILE",
    "SETTINGS_FILE",
    "START",
    "sample_events",
    "sample_settings",
    "write_sample",
]

EVENTS_FILE = "events.jsonl"
"""The name of the replay stream :func:`write_sample` writes."""

SETTINGS_FILE = "settings.json"
"""The name of the settings document :func:`write_sample` writes."""

JST = timezone(timedelta(hours=9))
START = datetime(2026, 11, 16, 9, 0, tzinfo=JST)
"""When the sample stream begins: Monday 16 November 2026, 09:00 in Tokyo."""

_DAYS = 5
"""The stream spans a working week, Monday to Friday."""

_KIND_WEIGHTS = {"message": 55, "social_item": 25, "chat": 10, "status": 5}
"""The share of each entry kind, in parts."""

_REDELIVERY_SHARE = 0.10
_EDIT_SHARE = 0.01
_NEW_CONVERSATION_SHARE = 0.30
"""Of the messages that are neither redeliveries nor edits, the share starting a conversation."""
_REOPEN_SHARE = 0.10
"""Of the replies, the share that may go to a conversation whose ticket an agent closed."""
_ACTIVE_CONVERSATIONS = 60
"""Replies go to one of the most recently started conversations."""
_RETRY_WINDOW = 40
"""Redeliveries repeat one of the most recent original deliveries (webhook retries come soon)."""

# -- the desk ------------------------------------------------------------------------------------

_MAILBOX = "support@acme.example"
_TWITTER_ACCOUNT = "acme_jp"
_FACEBOOK_ACCOUNT = "acme_page"
_INSTAGRAM_ACCOUNT = "acme_jp_ig"
_WIDGET_ACCOUNT = "help_widget"
"""The help widget posts its chat lines as plain messages (not through the chat integration)."""
_CHAT_ACCOUNT = "acme_site"
"""The chat integration's account; its sessions are ``chat`` entries."""

_BRAND_TWITTER = {
    "network": "twitter",
    "id": "1400000",
    "handle": "@acme_jp",
    "display_name": "Acme Japan",
}
_BRAND_FACEBOOK = {"network": "facebook", "id": "fb-100", "display_name": "Acme Japan"}

_AGENTS = (
    ("agent-yui", "Yui (Acme Support)"),
    ("agent-ken", "Ken (Acme Support)"),
    ("agent-mei", "Mei (Acme Support)"),
    ("agent-ren", "Ren (Acme Support)"),
)

_CHAT_DEPARTMENTS = {"chat-support": 55, "chat-sales": 25, "chat-lobby": 10, "chat-vip": 10}
"""Chat-tool departments and their share of chats; the settings link the first two to helpdesk
departments, make the lobby view-only and leave the VIP desk choosing each time (D1-D4)."""
_CONVERTING_CHAT_DEPARTMENTS = frozenset({"chat-support", "chat-sales"})

# -- people --------------------------------------------------------------------------------------

_JA_FAMILY = (
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
)
_JA_GIVEN = (
    ("花子", "hanako"),
    ("一郎", "ichiro"),
    ("美咲", "misaki"),
    ("健太", "kenta"),
    ("さくら", "sakura"),
    ("翔", "sho"),
    ("陽子", "yoko"),
    ("大輔", "daisuke"),
    ("結衣", "yui"),
    ("蓮", "ren"),
)
_EN_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Chris", "Emma", "Liam", "Olivia", "Noah", "Sophie")
_EN_LAST = (
    "Morgan",
    "Lee",
    "Smith",
    "Brown",
    "Evans",
    "Wilson",
    "Chen",
    "Garcia",
    "Miller",
    "Hart",
)
_ACCOUNTS = ("acct-takahashi-design", "acct-wilson-hart", "acct-kobayashi-shoten", "acct-bluebird")


@dataclass(frozen=True)
class _Person:
    """A customer, with an identity on every channel."""

    key: str
    name: str
    sign: str
    """How the person signs an email."""
    japanese: bool
    email: str
    phone: str | None
    account_id: str | None
    handle: str
    twitter_id: str
    facebook_id: str


def _people(rng: random.Random) -> list[_Person]:
    ja = [(f, g) for f in _JA_FAMILY for g in _JA_GIVEN]
    en = [(f, last) for f in _EN_FIRST for last in _EN_LAST]
    people: list[_Person] = []
    for index, ((family, family_r), (given, given_r)) in enumerate(rng.sample(ja, 45)):
        people.append(
            _Person(
                key=f"{given_r}-{family_r}",
                name=f"{family} {given}",
                sign=family,
                japanese=True,
                email=f"{given_r}.{family_r}@example.jp",
                phone=f"090-{rng.randrange(1000, 10000)}-{rng.randrange(1000, 10000)}"
                if rng.random() < 0.3
                else None,
                account_id=rng.choice(_ACCOUNTS) if rng.random() < 0.2 else None,
                handle=f"{given_r}_{family_r}",
                twitter_id=str(1_450_000 + index),
                facebook_id=f"fb-{2000 + index}",
            )
        )
    for index, (first, last) in enumerate(rng.sample(en, 40), start=100):
        people.append(
            _Person(
                key=f"{first.lower()}-{last.lower()}",
                name=f"{first} {last}",
                sign=first,
                japanese=False,
                email=f"{first.lower()}.{last.lower()}@example.com",
                phone=None,
                account_id=rng.choice(_ACCOUNTS) if rng.random() < 0.2 else None,
                handle=f"{first.lower()}_{last.lower()}",
                twitter_id=str(1_450_000 + index),
                facebook_id=f"fb-{2000 + index}",
            )
        )
    rng.shuffle(people)
    return people


# -- texts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Topic:
    """What a customer writes about, in both languages: a subject, an email, a short line."""

    en_subject: str
    en_body: str
    en_short: str
    ja_subject: str
    ja_body: str
    ja_short: str


_TOPICS: dict[str, _Topic] = {
    "delivery": _Topic(
        "Order {order} has not arrived",
        "Hello,\n\nmy order {order} was supposed to arrive on {day}, but nothing has come yet. "
        "The tracking page has not changed since it left the warehouse.\nCould you check where "
        "it is?\n\nThanks,\n{sign}",
        "My order {order} still hasn't arrived. Any update?",
        "注文{order}の商品が届きません",
        "お世話になっております。\n{day_ja}に届く予定だった注文{order}の商品がまだ届いていません。"
        "配送状況を確認していただけますでしょうか。\n\nよろしくお願いいたします。\n{sign}",
        "注文{order}の商品がまだ届かないです。いつ頃届きますか？",
    ),
    "refund": _Topic(
        "Refund request for order {order}",
        "Hi,\n\nI sent back the jacket from order {order} last week. When will the refund reach "
        "my card?\n\nBest regards,\n{sign}",
        "I'd like a refund for order {order}, the size is wrong.",
        "返品・返金について（注文{order}）",
        "先週、注文{order}のジャケットを返品しました。返金はいつ頃になりますか。\n"
        "ご確認をお願いいたします。\n{sign}",
        "注文{order}を返品したいです。返金の手続きを教えてください。",
    ),
    "login": _Topic(
        "Can't log in to my account",
        "Hello,\n\nsince this morning I can't log in. The site says my password is wrong, and "
        "the reset email never arrives. My account email is {email}.\n\n{sign}",
        "I can't log in, the password reset link doesn't work.",
        "ログインできません",
        "今朝からログインできなくなりました。パスワードを再設定しようとしても、メールが届きません。\n"
        "登録メールアドレスは{email}です。\n{sign}",
        "ログインできません。パスワード再設定のメールが来ないです。",
    ),
    "billing": _Topic(
        "Charged twice for invoice {invoice}",
        "Hi,\n\nI was charged twice for invoice {invoice} this month. Please refund the second "
        "payment.\n\nThanks,\n{sign}",
        "Why was I charged twice this month? Invoice {invoice}.",
        "料金の二重請求について",
        "お世話になっております。今月の請求書{invoice}で料金が二重に請求されているようです。"
        "ご確認のうえ、返金をお願いいたします。\n{sign}",
        "今月の料金が二重に請求されています。確認してもらえますか？",
    ),
    "broken": _Topic(
        "Kettle arrived broken (order {order})",
        "Hello,\n\nthe kettle from order {order} arrived with a cracked lid and it leaks. Can "
        "you send a replacement? Photo attached.\n\n{sign}",
        "The kettle I got is broken, it doesn't turn on.",
        "商品の故障について（注文{order}）",
        "注文{order}で購入した電気ケトルが故障しているようで、電源が入りません。"
        "交換は可能でしょうか。写真を添付します。\n\nよろしくお願いいたします。\n{sign}",
        "届いたケトルが故障しています。電源が入りません。",
    ),
    "exchange": _Topic(
        "Size exchange for order {order}",
        "Hi,\n\nthe sneakers from order {order} are too small. Can I exchange them for a size "
        "27?\n\n{sign}",
        "Can I swap the sneakers from {order} for a bigger size?",
        "サイズ交換のお願い（注文{order}）",
        "注文{order}のスニーカーのサイズが合いませんでした。27cmに交換していただけますか。\n{sign}",
        "スニーカーのサイズ交換はできますか？注文番号は{order}です。",
    ),
    "address": _Topic(
        "Change the delivery address of order {order}",
        "Hello,\n\nI moved last week. Could you send order {order} to my new address, "
        "2-4-1 Shibuya, Shibuya-ku, Tokyo?\n\nMany thanks,\n{sign}",
        "Can I still change the delivery address for {order}?",
        "配送先の変更をお願いします",
        "先週引っ越しました。注文{order}の配送先を「東京都渋谷区渋谷2-4-1」に変更していただけますか。\n"
        "{sign}",
        "注文{order}の配送先を変更できますか？",
    ),
}
_TOPIC_WEIGHTS = {
    "delivery": 25,
    "refund": 18,
    "login": 12,
    "billing": 12,
    "broken": 13,
    "exchange": 10,
    "address": 10,
}
_SALES_TOPICS = frozenset({"exchange", "address"})
_BILLING_TOPICS = frozenset({"billing"})

_EN_FOLLOW_UPS = (
    "Any news on this?",
    "Thanks, that fixed it!",
    "The order number is {order}, in case you need it.",
    "I attached a photo of the box.",
    "Could you reply soon please? It's a gift.",
    "Still waiting for an answer on this one...",
    "Great, thank you for the quick help.",
)
_JA_FOLLOW_UPS = (
    "その後いかがでしょうか。",
    "ありがとうございます！解決しました。",
    "念のため、注文番号は{order}です。",
    "箱の写真を添付しました。",
    "プレゼント用なので、早めにご連絡いただけると助かります。",
    "まだ返信をいただけていないのですが、状況はいかがでしょうか。",
    "迅速なご対応ありがとうございました。",
)
_EN_AGENT = (
    "Thank you for contacting Acme. I'm sorry for the trouble; I'm checking order {order} now.",
    "We have issued the refund; it should appear on your card within 5 business days.",
    "Could you send us a photo of the item and the box?",
    "A replacement is on its way, tracking number {tracking}.",
    "I've reset your account; please try logging in again.",
    "Thanks for your patience! Is there anything else I can help with?",
)
_JA_AGENT = (
    "お問い合わせありがとうございます。ご迷惑をおかけして申し訳ございません。注文{order}を確認いたします。",
    "返金の手続きが完了しました。5営業日以内にカードへ反映されます。",
    "お手数ですが、商品と箱の写真をお送りいただけますか。",
    "交換品を発送いたしました。追跡番号は{tracking}です。",
    "アカウントをリセットしました。もう一度ログインをお試しください。",
    "お待たせいたしました。ほかにご不明な点はございますか。",
)
_EN_CORRECTIONS = (" (edit: the order number is {order})", " Sorry, typo: I meant order {order}.")
_JA_CORRECTIONS = ("（訂正：注文番号は{order}です）", "※注文番号を訂正しました：{order}")

_EN_CHATTER = (
    "Love the new winter collection!",
    "What time does the Shibuya store open on Sunday?",
    "Great service at the Umeda store today, thanks!",
    "Is the Hokkaido wool scarf coming back in grey?",
    "Do you ship to Okinawa?",
)
_JA_CHATTER = (
    "新作のマフラー、とても暖かいです！ありがとうございます😊",
    "渋谷店は日曜日何時から開いていますか？",
    "今日の梅田店の店員さん、とても親切でした。",
    "グレーのマフラーは再入荷しますか？",
    "沖縄への配送はできますか？",
)
_BRAND_POSTS = (
    "冬のセール開始！12月25日まで全品20%オフです。",
    "New in: the Hokkaido wool scarf. Warm, light and made in Japan.",
    "年末年始の配送スケジュールのお知らせです。詳しくはウェブサイトをご覧ください。",
    "Our Shibuya store is open until 21:00 during the holidays.",
    "ご注文の商品の返品は、到着から30日以内なら無料です。",
)
_EMPHATIC = (
    "ＲＥＦＵＮＤ please!! order {order} is broken",
    "返品したいです。ＲＥＦＵＮＤはできますか？ 注文番号 {order}",
    "Ｒｅｆｕｎｄ？ The scarf arrived broken 😢",
)
"""Full-width and mixed-script texts that the keyword rules match after NFKC (W1)."""

_DAYS_EN = ("Friday", "Saturday", "Monday", "Tuesday")
_DAYS_JA = ("金曜日", "土曜日", "月曜日", "火曜日")


# -- times ---------------------------------------------------------------------------------------


def _times(rng: random.Random, count: int) -> list[datetime]:
    """``count`` times over the working week, most in office hours, sorted; the first is
    :data:`START`."""
    midnight = START.replace(hour=0)
    times: list[datetime] = []
    for _ in range(count):
        day = rng.randrange(_DAYS)
        if rng.random() < 0.9:
            hours = min(max(rng.gauss(13.5, 3.2), 7.0), 22.5)
        else:
            hours = rng.uniform(0.0, 24.0)
        moment = midnight + timedelta(days=day, seconds=round(hours * 3600))
        if moment < START:
            moment = START + timedelta(seconds=rng.randrange(3600))
        times.append(moment)
    times.sort()
    if times:
        times[0] = START
    return times


def _stamp(moment: datetime, style: str) -> str:
    """``moment`` as ISO 8601: ``jst`` (+09:00), ``z`` (UTC as Z) or ``utc`` (+00:00)."""
    if style == "jst":
        return moment.astimezone(JST).isoformat()
    utc = moment.astimezone(UTC)
    if style == "z":
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.isoformat()


# -- state ---------------------------------------------------------------------------------------


@dataclass
class _Conversation:
    """A conversation of plain messages (an email thread, a DM thread, a tweet thread...)."""

    channel: str
    """``email``, ``web``, ``widget``, ``dm``, ``tweet`` or ``facebook``."""
    person: _Person
    japanese: bool
    topic: str
    ctx: dict[str, str]
    reference: dict[str, str]
    subject: str
    department_id: str | None
    last_sent: datetime
    messages: int = 0
    held: bool = False
    closed: bool = False


@dataclass
class _Thread:
    """A public social thread: its root and the items in it."""

    network: str
    account: str
    object_kind: str
    root_id: str
    item_ids: list[str]
    brand_root: bool


@dataclass
class _Chat:
    """A live chat of the chat integration, as it unfolds."""

    number: int
    person: _Person
    japanese: bool
    topic: str
    ctx: dict[str, str]
    department_id: str
    email: str | None
    started_at: datetime
    will_miss: bool
    adds_email: bool
    report_end_first: bool
    lines: list[dict[str, Any]] = field(default_factory=list)
    answered_by: tuple[str, str] | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    missed: bool = False
    stage: str = "started"
    last_line_at: datetime | None = None
    converted: bool = False
    held: bool = False
    closed: bool = False


class _Generator:
    """Builds the stream entry by entry; all randomness comes from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = _people(self.rng)
        self.next_id = 1_862_000_000_000_000_000
        self.counter = 1000
        self.conversations: list[_Conversation] = []
        self.sent_messages: list[dict[str, Any]] = []
        """Original deliveries that may be delivered again."""
        self.editable: list[tuple[_Conversation, dict[str, Any]]] = []
        self.edited: set[str] = set()
        self.social_items: list[dict[str, Any]] = []
        self.edited_items: set[str] = set()
        self.threads: list[_Thread] = []
        self.chats: list[_Chat] = []
        self.active_chats: list[_Chat] = []
        self.chat_number = 300

    # -- helpers ----------------------------------------------------------------------------

    def _snowflake(self) -> str:
        self.next_id += self.rng.randrange(1, 5000)
        return str(self.next_id)

    def _serial(self) -> int:
        self.counter += self.rng.randrange(1, 9)
        return self.counter

    def _person(self) -> _Person:
        # A few customers write much more than the others, as on any desk.
        people = self.people
        if self.rng.random() < 0.3:
            return self.rng.choice(people[:10])
        return self.rng.choice(people)

    def _ctx(self, person: _Person) -> dict[str, str]:
        rng = self.rng
        return {
            "order": f"{rng.choice('ABCD')}-{rng.randrange(1000, 10000)}",
            "invoice": f"INV-2026-{rng.randrange(10000, 100000)}",
            "tracking": f"JP{rng.randrange(10**9, 10**10)}",
            "day": rng.choice(_DAYS_EN),
            "day_ja": rng.choice(_DAYS_JA),
            "sign": person.sign,
            "email": person.email,
        }

    def _topic(self) -> str:
        return self.rng.choices(list(_TOPIC_WEIGHTS), weights=list(_TOPIC_WEIGHTS.values()))[0]

    def _lag(self, at: datetime, floor: datetime | None, most: int = 40) -> datetime:
        """A send time a little before ``at``, not before ``floor``."""
        sent = at - timedelta(seconds=self.rng.randrange(0, most + 1))
        return sent if floor is None or sent >= floor else floor

    def _style(self, *weights: int) -> str:
        return self.rng.choices(("jst", "z", "utc"), weights=weights)[0]

    @staticmethod
    def _contact(person: _Person, channel: str) -> dict[str, Any]:
        if channel in ("dm", "tweet"):
            return {"id": f"tw-{person.handle}", "name": f"{person.name} (@{person.handle})"}
        if channel == "facebook":
            return {"id": person.facebook_id, "name": person.name}
        contact: dict[str, Any] = {"id": f"cust-{person.key}", "name": person.name}
        if channel in ("email", "web"):
            contact["email"] = person.email
            if person.phone is not None and channel == "web":
                contact["phone"] = person.phone
        if person.account_id is not None:
            contact["account_id"] = person.account_id
        return contact

    # -- messages ---------------------------------------------------------------------------

    def message(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        if roll < _REDELIVERY_SHARE and self.sent_messages:
            original = rng.choice(self.sent_messages[-_RETRY_WINDOW:])
            return {"kind": "message", "at": _stamp(at, self._style(6, 3, 1)), "message": original}
        if roll < _REDELIVERY_SHARE + _EDIT_SHARE:
            edit = self._edit()
            if edit is not None:
                return {"kind": "message", "at": _stamp(at, self._style(6, 3, 1)), "message": edit}
        recent = self.conversations[-_ACTIVE_CONVERSATIONS:]
        # Most replies go to open conversations; now and then a customer writes again after
        # an agent closed the ticket, which reopens it (L2).
        active = recent if rng.random() < _REOPEN_SHARE else [c for c in recent if not c.closed]
        if not active or rng.random() < _NEW_CONVERSATION_SHARE:
            payload = self._new_conversation(at)
        else:
            conversation = rng.choice(active)
            if (
                not conversation.closed
                and conversation.channel in ("dm", "tweet", "facebook")
                and rng.random() < 0.4
            ):
                payload = self._agent_reply(conversation, at)
            else:
                payload = self._customer_reply(conversation, at)
                if conversation.closed:
                    conversation.closed = conversation.held = False
        self.sent_messages.append(payload)
        return {"kind": "message", "at": _stamp(at, self._style(6, 3, 1)), "message": payload}

    def _edit(self) -> dict[str, Any] | None:
        candidates = [
            (c, m)
            for c, m in self.editable[-200:]
            if m["reference"]["native_id"] not in self.edited
        ]
        if not candidates:
            return None
        conversation, original = self.rng.choice(candidates)
        self.edited.add(original["reference"]["native_id"])
        # The edited message is no longer delivered again verbatim: its content changed.
        self.sent_messages = [m for m in self.sent_messages if m is not original]
        corrections = _JA_CORRECTIONS if conversation.japanese else _EN_CORRECTIONS
        edit = copy.deepcopy(original)
        edit["body"] = original["body"] + self.rng.choice(corrections).format(**conversation.ctx)
        edit["is_edit"] = True
        return edit

    def _new_conversation(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        channel = rng.choices(
            ("email", "web", "widget", "dm", "tweet", "facebook"),
            weights=(35, 10, 15, 15, 10, 15),
        )[0]
        person = self._person()
        japanese = person.japanese if rng.random() < 0.9 else not person.japanese
        topic = self._topic()
        ctx = self._ctx(person)
        texts = _TOPICS[topic]
        subject = (texts.ja_subject if japanese else texts.en_subject).format(**ctx)
        department: str | None = None
        if topic in _SALES_TOPICS and rng.random() < 0.5:
            department = "sales"
        elif topic in _BILLING_TOPICS and rng.random() < 0.7:
            department = "billing"
        reference, conversation_ref = self._references(channel, None)
        conversation = _Conversation(
            channel=channel,
            person=person,
            japanese=japanese,
            topic=topic,
            ctx=ctx,
            reference=conversation_ref or reference,
            subject=subject,
            department_id=department,
            last_sent=at,
        )
        self.conversations.append(conversation)
        if channel in ("email", "web"):
            body = (texts.ja_body if japanese else texts.en_body).format(**ctx)
        else:
            body = (texts.ja_short if japanese else texts.en_short).format(**ctx)
            if channel == "tweet":
                body = f"@{_TWITTER_ACCOUNT} {body}"
        payload = self._payload(conversation, reference, body, at, inbound=True)
        if channel == "email":
            payload["subject"] = subject
        elif channel == "web":
            payload["subject"] = f"Contact form: {subject}"
        if department is not None:
            payload["department_id"] = department
        if topic == "broken" and channel in ("email", "web", "facebook"):
            payload["attachments"] = [self._photo(at)]
        return payload

    def _references(
        self, channel: str, conversation: _Conversation | None
    ) -> tuple[dict[str, str], dict[str, str] | None]:
        """The new message's reference and, for a new conversation, the conversation's."""
        if channel == "email":
            serial = self._serial()
            ref = _ref(
                "email",
                _MAILBOX,
                "message",
                f"<CA{serial}x{self.rng.randrange(10**6)}@mail.example.com>",
            )
            return ref, None if conversation is not None else ref
        if channel == "web":
            serial = self._serial()
            ref = _ref("web", "contact_form", "submission", f"sub-{serial}")
            return ref, _ref("web", "contact_form", "case", f"case-{serial}")
        if channel == "widget":
            if conversation is None:
                session = f"hw-{self._serial()}"
                return (
                    _ref("chat", _WIDGET_ACCOUNT, "chat_line", f"{session}/1"),
                    _ref("chat", _WIDGET_ACCOUNT, "chat_session", session),
                )
            session = conversation.reference["native_id"]
            line = conversation.messages + 1
            return _ref("chat", _WIDGET_ACCOUNT, "chat_line", f"{session}/{line}"), None
        if channel == "dm":
            ref = _ref("twitter", _TWITTER_ACCOUNT, "dm", self._snowflake())
            if conversation is None:
                return ref, _ref("twitter", _TWITTER_ACCOUNT, "dm_conversation", self._snowflake())
            return ref, None
        if channel == "tweet":
            ref = _ref("twitter", _TWITTER_ACCOUNT, "tweet", self._snowflake())
            if conversation is None:
                root = ref["native_id"]
                return ref, _ref("twitter", _TWITTER_ACCOUNT, "conversation", root)
            return ref, None
        ref = _ref("facebook", _FACEBOOK_ACCOUNT, "comment", f"10158_{self._snowflake()}")
        if conversation is None:
            return ref, _ref("facebook", _FACEBOOK_ACCOUNT, "post", f"10158_{self._snowflake()}")
        return ref, None

    def _payload(
        self,
        conversation: _Conversation,
        reference: dict[str, str],
        body: str,
        at: datetime,
        *,
        inbound: bool,
    ) -> dict[str, Any]:
        channel = conversation.channel
        sent = self._lag(at, conversation.last_sent if conversation.messages else None)
        conversation.last_sent = sent
        conversation.messages += 1
        code = {"dm": "twitter", "tweet": "twitter", "widget": "chat"}.get(channel, channel)
        style = self._style(2, 3, 1) if channel in ("email", "widget") else self._style(6, 2, 1)
        payload: dict[str, Any] = {
            "reference": reference,
            "conversation": conversation.reference,
            "channel": code,
            "contact": self._contact(conversation.person, channel),
            "body": body,
            "sent_at": _stamp(sent, style),
        }
        if not inbound:
            agent_id, agent_name = self.rng.choice(_AGENTS)
            payload["direction"] = "outbound"
            payload["author_id"] = agent_id
            payload["author_name"] = agent_name
        if channel == "dm":
            payload["visibility"] = "private"
        if inbound and channel in ("dm", "facebook", "widget"):
            self.editable.append((conversation, payload))
        return payload

    def _photo(self, at: datetime) -> dict[str, Any]:
        serial = self._serial()
        return {
            "name": f"IMG_{serial}.jpg",
            "size": self.rng.randrange(80_000, 4_000_000),
            "content_type": "image/jpeg",
            "storage_key": f"blobs/{at:%Y/%m/%d}/IMG_{serial}.jpg",
        }

    def _customer_reply(self, conversation: _Conversation, at: datetime) -> dict[str, Any]:
        follow_ups = _JA_FOLLOW_UPS if conversation.japanese else _EN_FOLLOW_UPS
        body = self.rng.choice(follow_ups).format(**conversation.ctx)
        if conversation.channel == "tweet":
            body = f"@{_TWITTER_ACCOUNT} {body}"
        reference, _ = self._references(conversation.channel, conversation)
        payload = self._payload(conversation, reference, body, at, inbound=True)
        if conversation.channel == "email":
            payload["subject"] = f"Re: {conversation.subject}"
            if "写真" in body or "photo" in body:
                payload["attachments"] = [self._photo(at)]
        return payload

    def _agent_reply(self, conversation: _Conversation, at: datetime) -> dict[str, Any]:
        replies = _JA_AGENT if conversation.japanese else _EN_AGENT
        body = self.rng.choice(replies).format(**conversation.ctx)
        if conversation.channel == "tweet":
            body = f"@{conversation.person.handle} {body}"
        reference, _ = self._references(conversation.channel, conversation)
        return self._payload(conversation, reference, body, at, inbound=False)

    # -- social items -----------------------------------------------------------------------

    def social_item(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        stamp = _stamp(at, self._style(7, 2, 1))
        if roll < _REDELIVERY_SHARE and self.social_items:
            original = rng.choice(self.social_items[-_RETRY_WINDOW:])
            return {"kind": "social_item", "at": stamp, "item": original}
        if roll < _REDELIVERY_SHARE + _EDIT_SHARE:
            edit = self._edit_item()
            if edit is not None:
                return {"kind": "social_item", "at": stamp, "item": edit}
        shape = rng.choices(
            (
                "mention",
                "reply",
                "x_dm",
                "visitor_post",
                "comment",
                "fb_dm",
                "brand_post",
                "reaction",
                "instagram",
            ),
            weights=(24, 13, 15, 10, 18, 7, 4, 5, 4),
        )[0]
        makers = {
            "mention": self._item_mention,
            "reply": self._item_reply,
            "x_dm": self._item_x_dm,
            "visitor_post": self._item_visitor_post,
            "comment": self._item_comment,
            "fb_dm": self._item_fb_dm,
            "brand_post": self._item_brand_post,
            "reaction": self._item_reaction,
            "instagram": self._item_instagram,
        }
        item = makers[shape](at)
        self.social_items.append(item)
        return {"kind": "social_item", "at": stamp, "item": item}

    def _social_text(self, japanese: bool, ctx: dict[str, str]) -> str:
        """Customer text: about half of it names a keyword of the automatic rules (S4)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return rng.choice(_EMPHATIC).format(**ctx)
        if roll < 0.55:
            topic = _TOPICS[self._topic()]
            return (topic.ja_short if japanese else topic.en_short).format(**ctx)
        return rng.choice(_JA_CHATTER if japanese else _EN_CHATTER)

    def _author(self, person: _Person, network: str) -> dict[str, Any]:
        if network == "twitter":
            return {
                "network": "twitter",
                "id": person.twitter_id,
                "handle": f"@{person.handle}",
                "display_name": person.name,
            }
        if network == "facebook":
            return {"network": "facebook", "id": person.facebook_id, "display_name": person.name}
        return {
            "network": network,
            "id": f"ig-{person.twitter_id}",
            "handle": f"@{person.handle}",
            "display_name": person.name,
        }

    def _item(
        self,
        at: datetime,
        reference: dict[str, str],
        kind: str,
        source: str,
        author: dict[str, Any],
        text: str,
        **extra: Any,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "reference": reference,
            "kind": kind,
            "source": source,
            "author": author,
            "text": text,
            "created_at": _stamp(self._lag(at, None, most=90), self._style(5, 4, 1)),
        }
        item.update({k: v for k, v in extra.items() if v is not None and v is not False})
        return item

    def _item_mention(self, at: datetime) -> dict[str, Any]:
        person = self._person()
        ctx = self._ctx(person)
        native = self._snowflake()
        self.threads.append(_Thread("twitter", _TWITTER_ACCOUNT, "tweet", native, [native], False))
        contact = f"tw-{person.handle}" if self.rng.random() < 0.5 else None
        return self._item(
            at,
            _ref("twitter", _TWITTER_ACCOUNT, "tweet", native),
            "mention",
            "monitoring",
            self._author(person, "twitter"),
            f"@{_TWITTER_ACCOUNT} {self._social_text(person.japanese, ctx)}",
            contact_id=contact,
        )

    def _item_reply(self, at: datetime) -> dict[str, Any]:
        threads = [t for t in self.threads[-50:] if t.network == "twitter"]
        if not threads:
            return self._item_mention(at)
        thread = self.rng.choice(threads)
        parent = self.rng.choice(thread.item_ids)
        native = self._snowflake()
        thread.item_ids.append(native)
        person = self._person()
        ref = _ref("twitter", _TWITTER_ACCOUNT, "tweet", native)
        if self.rng.random() < 0.35:  # the brand answers in the thread (S6: never converted)
            replies = _JA_AGENT if person.japanese else _EN_AGENT
            text = self.rng.choice(replies).format(**self._ctx(person))
            return self._item(
                at,
                ref,
                "reply",
                "activity",
                dict(_BRAND_TWITTER),
                f"@{person.handle} {text}",
                parent_id=parent,
                root_id=thread.root_id,
                brand_own=True,
            )
        follow_ups = _JA_FOLLOW_UPS if person.japanese else _EN_FOLLOW_UPS
        text = (
            self._social_text(person.japanese, self._ctx(person))
            if self.rng.random() < 0.6
            else self.rng.choice(follow_ups).format(**self._ctx(person))
        )
        return self._item(
            at,
            ref,
            "reply",
            "brand_posts" if thread.brand_root else "activity",
            self._author(person, "twitter"),
            f"@{_TWITTER_ACCOUNT} {text}",
            parent_id=parent,
            root_id=thread.root_id,
        )

    def _item_x_dm(self, at: datetime) -> dict[str, Any]:
        person = self._person()
        conversation = f"{person.twitter_id}-{_BRAND_TWITTER['id']}"
        ref = _ref("twitter", _TWITTER_ACCOUNT, "dm", self._snowflake())
        if self.rng.random() < 0.25:
            replies = _JA_AGENT if person.japanese else _EN_AGENT
            return self._item(
                at,
                ref,
                "direct_message",
                "private_messages",
                dict(_BRAND_TWITTER),
                self.rng.choice(replies).format(**self._ctx(person)),
                conversation_id=conversation,
                brand_own=True,
            )
        return self._item(
            at,
            ref,
            "direct_message",
            "private_messages",
            self._author(person, "twitter"),
            self._social_text(person.japanese, self._ctx(person)),
            conversation_id=conversation,
        )

    def _item_visitor_post(self, at: datetime) -> dict[str, Any]:
        person = self._person()
        native = f"10158_{self._snowflake()}"
        self.threads.append(_Thread("facebook", _FACEBOOK_ACCOUNT, "post", native, [native], False))
        return self._item(
            at,
            _ref("facebook", _FACEBOOK_ACCOUNT, "post", native),
            "visitor_post",
            "monitoring",
            self._author(person, "facebook"),
            self._social_text(person.japanese, self._ctx(person)),
            contact_id=person.facebook_id if self.rng.random() < 0.4 else None,
        )

    def _item_comment(self, at: datetime) -> dict[str, Any]:
        threads = [t for t in self.threads[-50:] if t.network == "facebook"]
        if not threads:
            return self._item_visitor_post(at)
        thread = self.rng.choice(threads)
        parent = self.rng.choice(thread.item_ids)
        native = f"10158_{self._snowflake()}"
        thread.item_ids.append(native)
        person = self._person()
        ref = _ref("facebook", _FACEBOOK_ACCOUNT, "comment", native)
        if not thread.brand_root and self.rng.random() < 0.25:
            replies = _JA_AGENT if person.japanese else _EN_AGENT
            return self._item(
                at,
                ref,
                "comment",
                "activity",
                dict(_BRAND_FACEBOOK),
                self.rng.choice(replies).format(**self._ctx(person)),
                parent_id=parent,
                root_id=thread.root_id,
                brand_own=True,
            )
        return self._item(
            at,
            ref,
            "comment",
            "brand_posts" if thread.brand_root else "activity",
            self._author(person, "facebook"),
            self._social_text(person.japanese, self._ctx(person)),
            parent_id=parent,
            root_id=thread.root_id,
        )

    def _item_fb_dm(self, at: datetime) -> dict[str, Any]:
        person = self._person()
        follow_ups = _JA_FOLLOW_UPS if person.japanese else _EN_FOLLOW_UPS
        text = (
            self._social_text(person.japanese, self._ctx(person))
            if self.rng.random() < 0.7
            else self.rng.choice(follow_ups).format(**self._ctx(person))
        )
        return self._item(
            at,
            _ref("facebook", _FACEBOOK_ACCOUNT, "message", f"m_{self._snowflake()}"),
            "direct_message",
            "private_messages",
            self._author(person, "facebook"),
            text,
            conversation_id=f"t_{person.facebook_id}",
        )

    def _item_brand_post(self, at: datetime) -> dict[str, Any]:
        text = self.rng.choice(_BRAND_POSTS)
        if self.rng.random() < 0.5:
            native = self._snowflake()
            self.threads.append(
                _Thread("twitter", _TWITTER_ACCOUNT, "tweet", native, [native], True)
            )
            return self._item(
                at,
                _ref("twitter", _TWITTER_ACCOUNT, "tweet", native),
                "post",
                "brand_posts",
                dict(_BRAND_TWITTER),
                text,
                brand_own=True,
            )
        native = f"10158_{self._snowflake()}"
        self.threads.append(_Thread("facebook", _FACEBOOK_ACCOUNT, "post", native, [native], True))
        return self._item(
            at,
            _ref("facebook", _FACEBOOK_ACCOUNT, "post", native),
            "post",
            "brand_posts",
            dict(_BRAND_FACEBOOK),
            text,
            brand_own=True,
        )

    def _item_reaction(self, at: datetime) -> dict[str, Any]:
        threads = [t for t in self.threads[-50:] if t.network == "twitter"]
        if not threads:
            return self._item_mention(at)
        thread = self.rng.choice(threads)
        person = self._person()
        like = self.rng.random() < 0.5
        return self._item(
            at,
            _ref("twitter", _TWITTER_ACCOUNT, "like" if like else "tweet", self._snowflake()),
            "like" if like else "retweet",
            "activity",
            self._author(person, "twitter"),
            "" if like else f"RT @{_TWITTER_ACCOUNT}",
            parent_id=thread.root_id,
            root_id=thread.root_id,
        )

    def _item_instagram(self, at: datetime) -> dict[str, Any]:
        # Instagram is not a convertible network here (S2): monitored, never a ticket.
        person = self._person()
        return self._item(
            at,
            _ref("instagram", _INSTAGRAM_ACCOUNT, "media_comment", self._snowflake()),
            "mention",
            "monitoring",
            self._author(person, "instagram"),
            f"@{_INSTAGRAM_ACCOUNT} {self._social_text(person.japanese, self._ctx(person))}",
        )

    def _edit_item(self) -> dict[str, Any] | None:
        candidates = [
            i
            for i in self.social_items[-200:]
            if i["text"]
            and not i.get("brand_own")
            and i["reference"]["native_id"] not in self.edited_items
        ]
        if not candidates:
            return None
        original = self.rng.choice(candidates)
        self.edited_items.add(original["reference"]["native_id"])
        self.social_items = [i for i in self.social_items if i is not original]
        edit = copy.deepcopy(original)
        japanese = any("\u3040" <= ch <= "\u9fff" for ch in original["text"])
        order = f"A-{self.rng.randrange(1000, 10000)}"
        corrections = _JA_CORRECTIONS if japanese else _EN_CORRECTIONS
        edit["text"] = original["text"] + self.rng.choice(corrections).format(order=order)
        edit["edited"] = True
        return edit

    # -- chats ------------------------------------------------------------------------------

    def chat(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        if not self.active_chats or (len(self.active_chats) < 2 and rng.random() < 0.3):
            chat = self._start_chat(at)
            event = "started"
        else:
            chat = self.active_chats[0] if rng.random() < 0.7 else rng.choice(self.active_chats)
            event = self._advance(chat, at)
        if chat.missed or (chat.stage == "ended" and not chat.will_miss):
            self.active_chats.remove(chat)
        return {
            "kind": "chat",
            "at": _stamp(at, self._style(3, 6, 1)),
            "event": event,
            "chat": self._session(chat),
        }

    def _start_chat(self, at: datetime) -> _Chat:
        rng = self.rng
        self.chat_number += rng.randrange(1, 4)
        person = self._person()
        departments = list(_CHAT_DEPARTMENTS)
        department = rng.choices(departments, weights=list(_CHAT_DEPARTMENTS.values()))[0]
        has_email = rng.random() < 0.75
        chat = _Chat(
            number=self.chat_number,
            person=person,
            japanese=person.japanese,
            topic=self._topic(),
            ctx=self._ctx(person),
            department_id=department,
            email=person.email if has_email else None,
            started_at=self._lag(at, None, most=20),
            will_miss=rng.random() < 0.2,
            adds_email=not has_email and rng.random() < 0.7,
            report_end_first=rng.random() < 0.3,
        )
        self.chats.append(chat)
        self.active_chats.append(chat)
        texts = _TOPICS[chat.topic]
        self._line(chat, (texts.ja_short if chat.japanese else texts.en_short), at, agent=None)
        return chat

    def _line(self, chat: _Chat, text: str, at: datetime, *, agent: tuple[str, str] | None) -> None:
        """Add one transcript line, a little after the previous one and not after ``at``."""
        previous = chat.last_line_at or chat.started_at
        sent = min(at, previous + timedelta(seconds=self.rng.randrange(15, 150)))
        chat.last_line_at = sent
        session = f"cs-{chat.number}"
        contact: dict[str, Any] = {"id": f"chat-{chat.person.key}", "name": chat.person.name}
        if chat.email is not None:
            contact["email"] = chat.email
        line: dict[str, Any] = {
            "reference": _ref(
                "chat", _CHAT_ACCOUNT, "chat_line", f"{session}/{len(chat.lines) + 1}"
            ),
            "conversation": _ref("chat", _CHAT_ACCOUNT, "chat_session", session),
            "channel": "chat",
            "contact": contact,
            "body": text.format(**chat.ctx),
            "sent_at": _stamp(sent, "z"),
        }
        if agent is not None:
            line["direction"] = "outbound"
            line["author_id"] = agent[0]
            line["author_name"] = agent[1]
        chat.lines.append(line)

    def _conversation_lines(self, chat: _Chat, at: datetime, count: int) -> None:
        assert chat.answered_by is not None
        visitor = _JA_FOLLOW_UPS if chat.japanese else _EN_FOLLOW_UPS
        agent = _JA_AGENT if chat.japanese else _EN_AGENT
        for index in range(count):
            if index % 2:
                self._line(chat, self.rng.choice(visitor), at, agent=None)
            else:
                self._line(chat, self.rng.choice(agent), at, agent=chat.answered_by)

    def _advance(self, chat: _Chat, at: datetime) -> str:
        """Move ``chat`` on to its next event at ``at``; the event's name."""
        rng = self.rng
        if chat.will_miss:
            previous = chat.last_line_at or chat.started_at
            if chat.stage == "started" and rng.random() < 0.5:
                text = (
                    "どなたかいらっしゃいますか？" if chat.japanese else "Hello? Is anyone there?"
                )
                self._line(chat, text, at, agent=None)
            if chat.ended_at is None:
                chat.ended_at = min(at, (chat.last_line_at or previous) + timedelta(minutes=5))
            if chat.report_end_first and chat.stage == "started":
                chat.stage = "ended"
                return "ended"
            chat.missed = True
            chat.stage = "missed"
            self._note_conversion(chat)
            return "missed"
        if chat.stage == "started":
            chat.answered_by = rng.choice(_AGENTS)
            greeting = (
                "お問い合わせありがとうございます。担当の者です。"
                if chat.japanese
                else "Hi, thanks for waiting! How can I help?"
            )
            self._line(chat, greeting, at, agent=chat.answered_by)
            chat.answered_at = chat.last_line_at
            chat.stage = "answered"
            self._note_conversion(chat)
            return "answered"
        if chat.stage == "answered" and chat.adds_email and chat.email is None:
            ask = (
                "ご連絡先のメールアドレスを教えていただけますか。"
                if chat.japanese
                else "Could you give me your email address so we can follow up?"
            )
            self._line(chat, ask, at, agent=chat.answered_by)
            chat.email = chat.person.email
            self._line(chat, chat.person.email, at, agent=None)
            chat.stage = "email_added"
            self._note_conversion(chat)
            return "email_added"
        self._conversation_lines(chat, at, rng.randrange(2, 7))
        chat.ended_at = min(
            at, (chat.last_line_at or at) + timedelta(seconds=rng.randrange(20, 90))
        )
        chat.stage = "ended"
        self._note_conversion(chat)
        return "ended"

    def _note_conversion(self, chat: _Chat) -> None:
        """Whether the settings convert ``chat`` by now: on answer or when missed, into a linked
        department, with the visitor's email (C1, C2, C5, D2)."""
        if (
            chat.department_id in _CONVERTING_CHAT_DEPARTMENTS
            and chat.email is not None
            and (chat.answered_by is not None or chat.missed)
        ):
            chat.converted = True

    def _session(self, chat: _Chat) -> dict[str, Any]:
        session: dict[str, Any] = {
            "reference": _ref("chat", _CHAT_ACCOUNT, "chat_session", f"cs-{chat.number}"),
            "visitor_name": chat.person.name,
            "department_id": chat.department_id,
            "started_at": _stamp(chat.started_at, "z"),
        }
        if chat.email is not None:
            session["visitor_email"] = chat.email
        if chat.person.phone is not None:
            session["visitor_phone"] = chat.person.phone
        if chat.answered_by is not None and chat.answered_at is not None:
            session["answered_by"] = chat.answered_by[0]
            session["answered_at"] = _stamp(chat.answered_at, "z")
        if chat.ended_at is not None:
            session["ended_at"] = _stamp(chat.ended_at, "z")
        if chat.missed:
            session["missed"] = True
        session["transcript"] = copy.deepcopy(chat.lines)
        return session

    # -- statuses ---------------------------------------------------------------------------

    def status(self, at: datetime) -> dict[str, Any] | None:
        """An agent puts a ticket on hold, escalates or closes it; ``None`` with no ticket."""
        rng = self.rng
        candidates: list[_Conversation | _Chat] = [
            c for c in self.conversations[-150:] if not c.closed and c.messages >= 2
        ]
        candidates += [c for c in self.chats[-30:] if c.converted and c.ended_at and not c.closed]
        if not candidates:
            return None
        target = rng.choice(candidates)
        if not target.held and rng.random() < 0.2:
            target.held = True
            status = rng.choice(("on_hold", "escalated"))
        else:
            target.closed = True
            status = "closed"
        if isinstance(target, _Chat):
            reference = _ref("chat", _CHAT_ACCOUNT, "chat_session", f"cs-{target.number}")
        else:
            reference = target.reference
        return {
            "kind": "status",
            "at": _stamp(at, self._style(6, 3, 1)),
            "conversation": dict(reference),
            "status": status,
            "reason": "agent",
        }


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _ref(network: str, account: str, kind: str, native_id: str) -> dict[str, str]:
    return {"network": network, "account": account, "kind": kind, "native_id": native_id}


# -- public API ----------------------------------------------------------------------------------


def sample_settings() -> dict[str, Any]:
    """The settings document of the sample replay, as JSON data (P6).

    A Tokyo desk whose default department is ``support``: automatic social rules with English
    and Japanese keywords (S4, S5), threading (H3), the chat integration with a department
    mapping for the chat departments of :func:`sample_events` (C1-C3, D1), and service levels
    on a Tokyo business calendar (SL1, SL2). It parses with
    :func:`deskcore.wire.replay.parse_replay_settings`.
    """
    weekday = [["09:00", "12:00"], ["13:00", "18:00"]]
    extended = [["08:00", "20:00"]]
    return {
        "schema_version": 1,
        "desk": {"default_department_id": "support", "default_priority": "medium"},
        "social": {
            "schema_version": 1,
            "rules": [
                {
                    "id": "x-billing",
                    "network": "twitter",
                    "kinds": ["mention", "reply", "direct_message"],
                    "keywords": ["料金", "請求", "charged twice", "invoice"],
                    "department_id": "billing",
                },
                {
                    "id": "x-support",
                    "network": "twitter",
                    "kinds": ["mention", "reply", "direct_message"],
                    "keywords": ["refund", "broken", "返品", "故障", "届かない"],
                    "department_id": "support",
                },
                {
                    "id": "fb-support",
                    "network": "facebook",
                    "kinds": ["visitor_post", "comment"],
                    "keywords": ["refund", "broken", "返品", "故障", "料金"],
                    "prefix": True,
                    "department_id": "support",
                },
                {
                    "id": "fb-messages",
                    "network": "facebook",
                    "kinds": ["direct_message"],
                    "match_all": True,
                    "department_id": "support",
                },
            ],
            "convertible_networks": ["facebook", "twitter"],
            "threading": {"mode": "reopen_within", "window_hours": 24},
            "threading_by_kind": {"direct_message": {"mode": "always_reopen"}},
            "append_interval_hours": 12,
            "default_department_id": "social",
        },
        "chat": {
            "schema_version": 1,
            "enabled": True,
            "convert": "all",
            "when": "on_answer",
            "ticket_status": "open",
            "owner_id": "admin-aiko",
            "link_state": "linked",
            "lookup_scope": "all_departments",
            "departments": [
                {
                    "chat_department_id": "chat-support",
                    "helpdesk_department_id": "support",
                    "auto": True,
                },
                {"chat_department_id": "chat-sales", "helpdesk_department_id": "sales"},
                {"chat_department_id": "chat-lobby", "default": "view_only"},
                {"chat_department_id": "chat-partners", "default": "no_integration"},
            ],
        },
        "service_levels": {
            "schema_version": 1,
            "calendars": [
                {
                    "id": "tokyo",
                    "timezone": "Asia/Tokyo",
                    "weekly": {day: [list(pair) for pair in weekday] for day in _WEEKDAYS},
                    "holidays": ["2026-11-03", "2026-11-23", "2027-01-01"],
                    "exceptions": {"2026-12-28": [["09:00", "12:00"]]},
                },
                {
                    "id": "tokyo-extended",
                    "timezone": "Asia/Tokyo",
                    "weekly": {
                        day: [list(pair) for pair in extended] for day in (*_WEEKDAYS, "saturday")
                    },
                    "holidays": ["2027-01-01"],
                },
            ],
            "default_calendar_id": "tokyo",
            "policies": [
                {
                    "id": "urgent",
                    "name": "Urgent",
                    "conditions": {"priorities": ["high"]},
                    "first_response": {"within_minutes": 60, "warn_before_minutes": 15},
                    "resolution": {"within_minutes": 480, "warn_fraction": 0.25},
                    "managers": ["manager-saki"],
                },
                {
                    "id": "social",
                    "name": "Social and chat",
                    "conditions": {"channels": ["twitter", "facebook", "chat"]},
                    "first_response": {"within_minutes": 120, "warn_before_minutes": 30},
                    "resolution": {"within_minutes": 960},
                    "calendar_id": "tokyo-extended",
                },
                {
                    "id": "standard",
                    "name": "Standard",
                    "first_response": {"within_minutes": 240, "warn_fraction": 0.25},
                    "next_response": {"within_minutes": 480},
                    "resolution": {"within_minutes": 1440, "warn_fraction": 0.1},
                    "managers": ["manager-saki"],
                },
            ],
        },
    }


def sample_events(count: int = 3000, *, seed: int = 2026) -> list[dict[str, Any]]:
    """A replay stream of ``count`` entries for :func:`sample_settings`, as JSON data (P6).

    The entries are in time order (``at`` never goes back), starting at :data:`START` and
    spread over that working week, with ``+09:00``, ``Z`` and ``+00:00`` offsets mixed (T1).
    About 55% are messages (emails, web forms, help-widget chat lines, Twitter DMs and tweets,
    Facebook comments; replies to earlier conversations, about 10% redeliveries of an earlier
    message verbatim and 1% edits, P3), 25% social items (S4-S6, H1), 10% chat events (C1-C7)
    and 5% status changes of tickets made earlier in the stream (L1). English and Japanese.

    The same ``count`` and ``seed`` always give the same entries; nothing reads the clock or
    the global random generator.

    Raises:
        ValueError: ``count`` is negative.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, not {count}")
    generator = _Generator(seed)
    kinds = list(_KIND_WEIGHTS)
    weights = list(_KIND_WEIGHTS.values())
    entries: list[dict[str, Any]] = []
    for at in _times(generator.rng, count):
        kind = generator.rng.choices(kinds, weights=weights)[0]
        entry: dict[str, Any] | None
        if kind == "status":
            entry = generator.status(at)
        elif kind == "chat":
            entry = generator.chat(at)
        elif kind == "social_item":
            entry = generator.social_item(at)
        else:
            entry = None
        if entry is None:
            entry = generator.message(at)
        # Each entry owns its data: a redelivery is equal to, not the same object as, the first.
        entries.append(copy.deepcopy(entry))
    return entries


def write_sample(folder: Path, *, count: int = 3000, seed: int = 2026) -> tuple[Path, Path]:
    """Write the sample replay into ``folder`` (created if missing).

    Writes :data:`EVENTS_FILE` (JSON Lines: one compact object a line, UTF-8, not ASCII-escaped,
    ending in a newline) from :func:`sample_events` and :data:`SETTINGS_FILE` (indented JSON)
    from :func:`sample_settings`.

    Returns:
        The paths of the events file and the settings file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    events_path = folder / EVENTS_FILE
    settings_path = folder / SETTINGS_FILE
    lines = [
        json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        for entry in sample_events(count, seed=seed)
    ]
    events_path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    settings_path.write_text(
        json.dumps(sample_settings(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return events_path, settings_path
