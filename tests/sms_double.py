"""Local stand-ins for Aliyun's and Tencent Cloud's SMS APIs (dysmsapi SendSms, SMS 3.0
SendSms), speaking their wire formats and checking their signatures independently of
bot/sms.py: Aliyun's RPC signature with urllib's own encoding, Tencent's TC3-HMAC-SHA256
from the request exactly as it arrived. A good request is recorded and answered OK; a bad
signature is answered with the provider's error code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.channels.serving import serve_app

KEY_ID, KEY_SECRET = "LTAI-test-key", "test-secret-of-the-key"


@dataclass
class SmsDouble:
    """What was sent (phone, template parameters) and what to answer next."""

    sent: list[tuple[str, Any]] = field(default_factory=list)
    refuse: str | None = None  # the next answers: this error code


def _aliyun_expected(params: dict[str, str], secret: str) -> str:
    query = urlencode(sorted(params.items()), quote_via=quote, safe="~")
    query = query.replace("+", "%20").replace("*", "%2A")
    to_sign = "POST&%2F&" + quote(query, safe="~")
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _app(double: SmsDouble) -> Starlette:
    async def aliyun(request: Request) -> JSONResponse:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != KEY_ID or signature != _aliyun_expected(params, KEY_SECRET):
            return JSONResponse({"Code": "SignatureDoesNotMatch", "Message": "bad"}, 400)
        if double.refuse:
            return JSONResponse({"Code": double.refuse, "Message": "refused"})
        double.sent.append((params["PhoneNumbers"], json.loads(params["TemplateParam"])))
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "r"})

    async def tencent(request: Request) -> JSONResponse:
        body = await request.body()
        stamp = int(request.headers["X-TC-Timestamp"])
        day = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
        canonical = "\n".join([
            "POST", "/", "",
            f"content-type:{request.headers['content-type']}",
            f"host:{request.headers['host']}", "",
            "content-type;host", hashlib.sha256(body).hexdigest(),
        ])  # fmt: skip
        scope = f"{day}/sms/tc3_request"
        to_sign = "\n".join(
            ["TC3-HMAC-SHA256", str(stamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = f"TC3{KEY_SECRET}".encode()
        for part in (day, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        header = request.headers.get("authorization", "")
        if f"Credential={KEY_ID}/{scope}" not in header or f"Signature={expected}" not in header:
            error = {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}
            return JSONResponse({"Response": {"Error": error, "RequestId": "r"}})
        if double.refuse:
            status = {"Code": double.refuse, "Message": "refused"}
            return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": "r"}})
        data = json.loads(body)
        double.sent.append((data["PhoneNumberSet"][0], data["TemplateParamSet"]))
        ok = {"Code": "Ok", "Message": "send success", "PhoneNumber": data["PhoneNumberSet"][0]}
        return JSONResponse({"Response": {"SendStatusSet": [ok], "RequestId": "r"}})

    return Starlette(routes=[
        Route("/aliyun/", aliyun, methods=["POST"]),
        Route("/tencent/", tencent, methods=["POST"]),
    ])  # fmt: skip


@contextmanager
def running_double() -> Iterator[tuple[SmsDouble, str]]:
    """The double on a loopback port: (double, base URL)."""
    double = SmsDouble()
    with serve_app(_app(double), "SMS") as url:
        yield double, url
