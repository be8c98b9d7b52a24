"""SMS codes through the real HTTP client against local doubles of Aliyun's and Tencent
Cloud's APIs (tests/sms_double.py checks each signature on its own); and Aliyun's signature
on the example of its documentation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.settings import SmsSettings
from bot.sms import AliyunSms, TencentSms, aliyun_signature, make_sms
from tests.sms_double import KEY_ID, KEY_SECRET, SmsDouble, running_double


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SmsDouble, str]]:
    with running_double() as running:
        yield running


@pytest.fixture
def double(served: tuple[SmsDouble, str]) -> SmsDouble:
    served[0].sent.clear()
    served[0].refuse = None
    return served[0]


def settings(provider: str, url: str, **changes: str) -> SmsSettings:
    values = {
        "provider": provider,
        "access_key_id": KEY_ID,
        "access_key_secret": SecretStr(KEY_SECRET),
        "sign_name": "银龄通",
        "template": "SMS_123456789" if provider == "aliyun" else "1234567",
        "sdk_app_id": "1400000000",
        "endpoint": f"{url}/{provider}",
    }
    return SmsSettings.model_validate(values | changes)


def test_aliyun_signs_as_its_documentation_shows() -> None:
    # The example of Aliyun's "signature mechanism" page for dysmsapi SendSms (GET).
    params = {
        "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
        "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
    }  # fmt: skip
    assert aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_a_code_reaches_the_provider_signed(
    served: tuple[SmsDouble, str], double: SmsDouble, provider: str
) -> None:
    sender = make_sms(settings(provider, served[1]))
    assert isinstance(sender, AliyunSms | TencentSms)
    assert await sender.send("13900000001", "482913")
    await sender.aclose()
    [(phone, parameters)] = double.sent
    if provider == "aliyun":
        assert (phone, parameters) == ("13900000001", {"code": "482913"})
    else:
        assert (phone, parameters) == ("+8613900000001", ["482913"])


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
async def test_a_wrong_secret_or_a_refusal_is_a_failed_send(
    served: tuple[SmsDouble, str], double: SmsDouble, provider: str
) -> None:
    wrong = make_sms(settings(provider, served[1], access_key_secret="not-the-secret"))
    assert wrong is not None
    assert not await wrong.send("13900000001", "482913")
    await wrong.aclose()
    double.refuse = "isv.BUSINESS_LIMIT_CONTROL" if provider == "aliyun" else "LimitExceeded"
    refused = make_sms(settings(provider, served[1]))
    assert refused is not None
    assert not await refused.send("13900000001", "482913")
    await refused.aclose()
    assert double.sent == []


async def test_an_unreachable_provider_is_a_failed_send() -> None:
    sender = make_sms(settings("aliyun", "http://127.0.0.1:9"))
    assert sender is not None
    assert not await sender.send("13900000001", "482913")
    await sender.aclose()


def test_a_provider_without_its_settings_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="YINLING_SMS__"):
        make_sms(SmsSettings(provider="tencent", access_key_id="x"))
    assert make_sms(SmsSettings()) is None
