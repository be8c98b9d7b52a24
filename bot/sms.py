"""Sending one-time codes by SMS: Aliyun (阿里云短信服务) and Tencent Cloud (腾讯云短信),
called over plain HTTPS with their documented signatures, and a console sender for the demo.

Each sender's ``send(phone, code)`` returns True when the provider accepted the message.
Neither the phone number nor the code is logged; a refusal is logged with the provider's
error code only.

- Aliyun: ``SendSms`` of dysmsapi (API version 2017-05-25), RPC style: the parameters,
  sorted and percent-encoded, signed with HMAC-SHA1 under "AccessKeySecret&"
  (https://help.aliyun.com/document_detail/101343.html). The template has one variable,
  ``code``.
- Tencent: ``SendSms`` of the SMS API 3.0 (version 2021-01-11), signed with
  TC3-HMAC-SHA256 (https://cloud.tencent.com/document/api/382/52072). The template has
  one parameter, the code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import structlog

from bot.settings import SmsSettings
from services.ports import SmsSender

__all__ = ["AliyunSms", "ConsoleSms", "SmsSender", "TencentSms", "aliyun_signature", "make_sms"]

log = structlog.get_logger("yinling.sms")


class ConsoleSms:
    """The demo's "SMS": shown on the terminal's stderr (``yinling chat``; ``simulate``
    keeps stdout for its JSON lines), never in the log."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, code: str) -> bool:
        """Keep it (for ``yinling simulate``) and show it."""
        self.sent.append((phone, code))
        print(f"        [短信 → 尾号{phone[-4:]}] 您的银龄通验证码：{code}", file=sys.stderr)  # noqa: T201
        return True

    async def aclose(self) -> None:
        """Nothing to close."""


def _percent(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters kept, UTF-8, %20 for space."""
    return quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The RPC signature of a parameter set (without ``Signature``)."""
    query = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_percent('/')}&{_percent(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class _HttpsSms:
    """What the provider adapters share: the settings and one HTTP client, made on the
    first send (``yinling check`` only builds an adapter to validate the settings)."""

    def __init__(self, settings: SmsSettings, client: httpx.AsyncClient | None) -> None:
        self.settings = settings
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client (made on first use)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.timeout)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()


class AliyunSms(_HttpsSms):
    """阿里云短信服务 (dysmsapi SendSms)."""

    def __init__(self, settings: SmsSettings, client: httpx.AsyncClient | None = None) -> None:
        if not (settings.access_key_id and settings.access_key_secret and settings.sign_name
                and settings.template):  # fmt: skip
            raise ValueError(
                "YINLING_SMS__PROVIDER=aliyun needs YINLING_SMS__ACCESS_KEY_ID, "
                "__ACCESS_KEY_SECRET, __SIGN_NAME and __TEMPLATE"
            )
        super().__init__(settings, client)
        self.endpoint = settings.endpoint or "https://dysmsapi.aliyuncs.com"

    async def send(self, phone: str, code: str) -> bool:
        """POST the signed parameters; True when the answer's Code is OK."""
        s = self.settings
        assert s.access_key_secret is not None  # noqa: S101 - checked in __init__
        params = {
            "AccessKeyId": str(s.access_key_id),
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": s.region or "cn-hangzhou",
            "SignName": str(s.sign_name),
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": str(s.template),
            "TemplateParam": json.dumps({"code": code}),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, s.access_key_secret.get_secret_value())
        try:
            response = await self.client.post(self.endpoint + "/", data=params)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as e:
            log.warning("sms_failed", provider="aliyun", error=type(e).__name__)
            return False
        if isinstance(answer, dict) and answer.get("Code") == "OK":
            return True
        code_name = answer.get("Code") if isinstance(answer, dict) else None
        log.warning("sms_refused", provider="aliyun", status=response.status_code, code=code_name)
        return False


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tencent_authorization(
    secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int
) -> str:
    """The TC3-HMAC-SHA256 Authorization header of a JSON POST to the SMS API."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (
        "POST\n/\n\n"
        f"content-type:application/json; charset=utf-8\nhost:{host}\n\n"
        "content-type;host\n" + _sha256_hex(body)
    )
    scope = f"{day}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode())}"
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), day), "sms"), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


class TencentSms(_HttpsSms):
    """腾讯云短信 (SMS API 3.0 SendSms)."""

    def __init__(self, settings: SmsSettings, client: httpx.AsyncClient | None = None) -> None:
        if not (settings.access_key_id and settings.access_key_secret and settings.sign_name
                and settings.template and settings.sdk_app_id):  # fmt: skip
            raise ValueError(
                "YINLING_SMS__PROVIDER=tencent needs YINLING_SMS__ACCESS_KEY_ID (SecretId), "
                "__ACCESS_KEY_SECRET (SecretKey), __SDK_APP_ID, __SIGN_NAME and __TEMPLATE"
            )
        super().__init__(settings, client)
        self.endpoint = settings.endpoint or "https://sms.tencentcloudapi.com"
        self.host = httpx.URL(self.endpoint).host

    async def send(self, phone: str, code: str) -> bool:
        """POST the signed JSON; True when the one send status is Ok."""
        s = self.settings
        assert s.access_key_secret is not None  # noqa: S101 - checked in __init__
        body = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone[-11:]}"],
                "SmsSdkAppId": s.sdk_app_id,
                "SignName": s.sign_name,
                "TemplateId": s.template,
                "TemplateParamSet": [code],
            },
            ensure_ascii=False,
        ).encode()
        now = int(datetime.now(UTC).timestamp())
        headers = {
            "Authorization": tencent_authorization(
                str(s.access_key_id), s.access_key_secret.get_secret_value(), self.host, body, now
            ),
            "Content-Type": "application/json; charset=utf-8",
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(now),
            "X-TC-Region": s.region or "ap-guangzhou",
        }
        try:
            response = await self.client.post(self.endpoint + "/", content=body, headers=headers)
            answer = response.json().get("Response", {})
        except (httpx.HTTPError, ValueError, AttributeError) as e:
            log.warning("sms_failed", provider="tencent", error=type(e).__name__)
            return False
        statuses = answer.get("SendStatusSet") if isinstance(answer, dict) else None
        if statuses and str(statuses[0].get("Code")) == "Ok":
            return True
        error = (answer.get("Error") or {}).get("Code") if isinstance(answer, dict) else None
        code_name = error or (statuses[0].get("Code") if statuses else None)
        log.warning("sms_refused", provider="tencent", status=response.status_code, code=code_name)
        return False


def make_sms(settings: SmsSettings, client: httpx.AsyncClient | None = None) -> SmsSender | None:
    """The configured sender, or None (``none``)."""
    if settings.provider == "aliyun":
        return AliyunSms(settings, client)
    if settings.provider == "tencent":
        return TencentSms(settings, client)
    if settings.provider == "console":
        return ConsoleSms()
    return None
