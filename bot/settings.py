"""Configuration, read once from ``YINLING_*`` environment variables (and ``.env``)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers import texts
from handlers.base import ServiceConfig
from storage.crypto import Keyring, keyring, parse_keys, use_keys
from storage.db import make_engine

__all__ = ["Settings", "SmsSettings", "TelegramSettings", "WeChatSettings", "WeComSettings"]


class WeChatSettings(BaseModel):
    """The Official Account (公众平台 → 设置与开发 → 基本配置)."""

    token: SecretStr | None = None  # 令牌 (Token)
    app_id: str | None = None  # AppID
    app_secret: SecretStr | None = None  # AppSecret
    aes_key: SecretStr | None = None  # EncodingAESKey, for safe mode
    previous_aes_key: SecretStr | None = None  # the old key, accepted while rotating
    template_id: str | None = None  # template for notices outside the 48-hour window
    template_field: str = "content"  # the template's field that carries the text
    cs_quota: int = 5  # customer-service messages per 48-hour window
    api_base: str = "https://api.weixin.qq.com"
    answer_within: float = 4.0  # seconds; WeChat gives up after 5 and retries
    replay_seconds: int = 300  # a push must be this recent; its nonce carries one body
    plain_allowed: bool = False  # with an AES key, also accept plain pushes (migration)

    @property
    def enabled(self) -> bool:
        """True when the endpoint can verify requests."""
        return self.token is not None


class TelegramSettings(BaseModel):
    """The bot (@BotFather) and its webhook."""

    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None  # sent back by Telegram in every request
    webhook_url: str | None = None  # e.g. https://bot.example.org/telegram
    api_base: str = "https://api.telegram.org"

    @property
    def enabled(self) -> bool:
        """True when the bot can run."""
        return self.token is not None


class WeComSettings(BaseModel):
    """A self-built WeCom (企业微信) application that pages staff (管理后台 → 应用管理)."""

    corp_id: str | None = None  # 企业ID (我的企业 → 企业信息)
    secret: SecretStr | None = None  # the application's Secret
    agent_id: int | None = None  # the application's AgentId
    token: SecretStr | None = None  # 接收消息 → 设置API接收: Token
    aes_key: SecretStr | None = None  # 接收消息 → 设置API接收: EncodingAESKey
    api_base: str = "https://qyapi.weixin.qq.com"

    @property
    def enabled(self) -> bool:
        """True when application messages can be sent."""
        return self.corp_id is not None and self.secret is not None and self.agent_id is not None

    @property
    def inbound(self) -> bool:
        """True when the ``/wecom`` callback can verify and decrypt what WeCom sends."""
        return self.corp_id is not None and self.token is not None and self.aes_key is not None


class SmsSettings(BaseModel):
    """SMS for one-time codes at binding (YINLING_SMS__…). ``aliyun``: 阿里云短信服务
    (dysmsapi, AccessKey + 签名 + 模板 with one variable ``code``); ``tencent``: 腾讯云短信
    (SmsSdkAppId + 签名 + 模板 ID with one parameter); ``console``: printed in the terminal,
    for the demo only; ``none``: no SMS — pending bindings wait for staff or the person's
    own account."""

    provider: Literal["none", "console", "aliyun", "tencent"] = "none"
    access_key_id: str | None = None  # Aliyun AccessKey ID / Tencent SecretId
    access_key_secret: SecretStr | None = None  # Aliyun AccessKey Secret / Tencent SecretKey
    sign_name: str | None = None  # 短信签名
    template: str | None = None  # Aliyun TemplateCode (SMS_…) / Tencent TemplateId
    sdk_app_id: str | None = None  # Tencent SmsSdkAppId
    region: str | None = None  # Aliyun cn-hangzhou, Tencent ap-guangzhou by default
    endpoint: str | None = None  # the API's base URL (default: the provider's own)
    code_minutes: int = 10  # how long a code is good for
    timeout: float = 5.0


FEED_ORGANISATION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def feed_secrets(value: str) -> dict[str, bytes]:
    """``"org1:secret1,org2:secret2"`` -> {organisation: key}."""
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        organisation, _, secret = item.strip().partition(":")
        if not FEED_ORGANISATION.fullmatch(organisation) or not secret or organisation in keys:
            raise ValueError(
                "YINLING_FEED_KEYS: organisation:secret pairs separated by commas; "
                "organisations of letters, digits, '_', '.', '-' (at most 32), each once"
            )
        keys[organisation] = secret.encode()
    return keys


class Settings(BaseSettings):
    """Every setting of a deployment; see README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix="YINLING_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    # A secret: it carries the database password (never logged, never in a repr).
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///./yinling.db")
    # Phone (and ID) numbers at rest: "2:<base64 32 bytes>,1:<…>" (the first encrypts, all
    # decrypt; `yinling keys generate`), and the blind index's key. Unset: the public
    # development key (`yinling check` says so).
    data_keys: SecretStr | None = None
    index_key: SecretStr | None = None
    # PostgreSQL connections per process: up to twice this many, kept once opened. A few
    # per core is fastest: more only make the busiest rows (a class at 8:00) queue longer.
    database_pool: int = 5
    redis_url: str | None = None
    redis_prefix: str = "yl:"

    nlu: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://localhost:5005"
    nlu_cache: Path | None = None
    nlu_threshold: float = 0.45

    bureau: str = "市委老干部局"
    # The bureau's region (a city, as in the policy articles' region): policy answers use its
    # articles, its province's (handlers/phrases.REGION_PARENTS) and national ones only.
    region: str = texts.DEFAULT_REGION
    hotline: str = "0512-65000000"
    honorific: Literal["lao", "tongzhi"] = "lao"
    office_hours: str = "08:30-17:30"
    office_days: str = "1-5"
    flow_minutes: int = 30
    # One-key help: minutes without an acknowledgement before the next level is paged,
    # and how often workers look for alerts whose paging is due (or whose job was lost).
    alert_minutes: float = 3.0
    reconcile_seconds: float = 10.0
    # When only the classifier (not the emergency rules) thinks a message may be an
    # emergency, the person is asked first; no answer in this many seconds pages anyway.
    sos_confirm_seconds: int = 120
    # Where an emergency waits when the database is away (an append-only file; every
    # process of the app replays it). Default: $XDG_STATE_HOME/yinling/spool.
    spool_dir: Path | None = None

    # /metrics and Rasa's POST /model/parse: on this address only (host:port; "" for
    # none), or on the main port with "Authorization: Bearer <admin_token>".
    admin_listen: str = "127.0.0.1:8001"
    admin_token: SecretStr | None = None

    # The staff console (/console): the key that signs its session cookies (default: derived
    # from index_key, so every process of a deployment agrees), and how long one lasts.
    console_secret: SecretStr | None = None
    console_session_hours: float = 8.0

    # The hospital admission feed (POST /feeds/admissions, bot/feeds.py): one signing key per
    # sending organisation, "org1:secret1,org2:secret2" (unset: the endpoint answers 404);
    # a signed timestamp must be within this many seconds of ours.
    feed_keys: SecretStr | None = None
    feed_window: int = 300

    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"

    sms: SmsSettings = SmsSettings()
    # Wrong codes (and unmatched names) allowed per user and over everyone, per hour.
    code_tries_per_hour: int = 5
    code_tries_global_per_hour: int = 200
    # Days the message log keeps what people wrote (service records are kept).
    retention_days: int = 180
    # Days a plan task (一人一策) may be overdue before the leader on duty hears of it.
    plan_overdue_days: int = 3
    # The must-visit ledger's festivals (key=lunar|solar:MM-DD[:days before], …) and whom
    # their visits are for (categories, and an age from which everyone counts).
    visit_festivals: str = "spring_festival=lunar:01-01:7,double_ninth=lunar:09-09:0"
    festival_visits_for: str = "lixiu,80"
    wechat: WeChatSettings = WeChatSettings()
    telegram: TelegramSettings = TelegramSettings()
    wecom: WeComSettings = WeComSettings()

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, _, end = value.partition("-")
        time.fromisoformat(start.strip())
        time.fromisoformat(end.strip())
        return value

    @property
    def database(self) -> str:
        """The database URL (with its password)."""
        return self.database_url.get_secret_value()

    def keyring(self) -> Keyring:
        """The data keys (the development ones when none are set)."""
        if self.data_keys is None or self.index_key is None:
            return keyring()
        return parse_keys(self.data_keys.get_secret_value(), self.index_key.get_secret_value())

    def open_engine(self, url: str | None = None) -> AsyncEngine:
        """The database engine, with this deployment's data keys in use."""
        use_keys(self.keyring())
        return make_engine(url or self.database, self.database_pool)

    def admin_address(self) -> tuple[str, int] | None:
        """(host, port) of the admin listener, or None when there is none."""
        host, _, port = self.admin_listen.strip().rpartition(":")
        if not port:
            return None
        return host or "127.0.0.1", int(port)

    @field_validator("feed_keys")
    @classmethod
    def _feed_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            feed_secrets(value.get_secret_value())
        return value

    def feed_secrets(self) -> dict[str, bytes]:
        """The admission feed's signing key of each organisation (none when unset)."""
        return feed_secrets(self.feed_keys.get_secret_value()) if self.feed_keys else {}

    @field_validator("admin_listen")
    @classmethod
    def _admin(cls, value: str) -> str:
        if value.strip() and not value.strip().rpartition(":")[2].isdigit():
            raise ValueError("YINLING_ADMIN_LISTEN is host:port, e.g. 127.0.0.1:8001")
        return value

    def service_config(self) -> ServiceConfig:
        """The part of the settings handlers see."""
        start, _, end = self.office_hours.partition("-")
        first, _, last = self.office_days.partition("-")
        days = tuple(range(int(first), int(last or first) + 1))
        return ServiceConfig(
            bureau=self.bureau,
            region=self.region,
            hotline=self.hotline,
            honorific=self.honorific,
            office_open=time.fromisoformat(start.strip()),
            office_close=time.fromisoformat(end.strip()),
            office_days=days,
            flow_minutes=self.flow_minutes,
            sos_confirm_seconds=self.sos_confirm_seconds,
            confidence_threshold=self.nlu_threshold,
            sms_codes=self.sms.provider != "none",
            sms_minutes=self.sms.code_minutes,
            tries_per_hour=self.code_tries_per_hour,
            tries_global_per_hour=self.code_tries_global_per_hour,
            plan_overdue_days=self.plan_overdue_days,
            visit_festivals=self.visit_festivals,
            festival_visits_for=self.festival_visits_for,
        )
