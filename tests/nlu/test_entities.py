"""Entity extraction: names the system knows, names it doesn't, codes, people, phones."""

from __future__ import annotations

from datetime import datetime

import pytest

from nlu.engine import EmbeddedEngine

NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")


def entities(engine: EmbeddedEngine, text: str) -> set[tuple[str, str]]:
    return {(e["entity"], str(e["value"])) for e in engine.parse(text, NOW)["entities"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("想去省人民医院看心内科", {("hospital", "省人民医院"), ("department", "心内科")}),
        ("明天去市一院", {("hospital", "市第一人民医院"), ("date", "2026-11-23")}),
        ("去省人医看心血管内科", {("hospital", "省人民医院"), ("department", "心内科")}),
        ("在协和医院住院", {("hospital", "协和医院")}),
        ("约个上门理发", {("service_type", "haircut")}),
        ("约个理法", {("service_type", "haircut")}),
        ("水管漏了想请人修水管", {("service_type", "repair")}),
        ("想请人来帮忙洗澡", {("service_type", "bathing")}),
        ("报名书法班", {("activity", "书法班")}),
        ("我想抱名书发班", {("activity", "书法班")}),
        ("参加重阳节游园活动", {("activity", "重阳节游园活动")}),
        ("给我老伴报个合唱团", {("beneficiary", "spouse"), ("activity", "合唱团")}),
        ("帮我爸约个理发", {("beneficiary", "我爸"), ("service_type", "haircut")}),
        ("我自己去", {("beneficiary", "self")}),
        ("我的电话是139 1234 5678", {("phone", "13912345678")}),
        ("打我座机0512-65231234", {("phone", "051265231234")}),
    ],
)
def test_extracts(engine_nlu: EmbeddedEngine, text: str, expected: set[tuple[str, str]]) -> None:
    assert expected <= entities(engine_nlu, text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("最近有什么活动", "activity"),
        ("我儿子在北京上班", "activity"),
        ("心理咨询能上门吗 最近心里发慌", "service_type:haircut"),
        ("上医院看看", "hospital"),
    ],
)
def test_no_false_names(engine_nlu: EmbeddedEngine, text: str, kind: str) -> None:
    found = entities(engine_nlu, text)
    name, _, value = kind.partition(":")
    assert not [e for e in found if e[0] == name and (not value or e[1] == value)]


def test_offsets_point_into_the_raw_text(engine_nlu: EmbeddedEngine) -> None:
    text = "後天下午３點去　市一院"
    for entity in engine_nlu.parse(text, NOW)["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]


def test_runtime_lookups(engine_nlu: EmbeddedEngine) -> None:
    engine = EmbeddedEngine(engine_nlu.featurizer, engine_nlu.model, engine_nlu._tables)
    assert ("activity", "葫芦丝兴趣组") not in entities(engine, "报名葫芦丝兴趣组")
    engine.add_lookup("activity", {"葫芦丝兴趣组": "葫芦丝兴趣组"})
    assert ("activity", "葫芦丝兴趣组") in entities(engine, "报名葫芦丝兴趣组")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sound-alike slips of short words by voice input or a pinyin keyboard
        ("老年医院看眼颗", {("department", "眼科")}),
        ("下周二上午给我送参", {("service_type", "meal"), ("time", "morning")}),
        ("下礼拜五 上五", {("date", "2026-11-27"), ("time", "morning")}),
        ("下里拜二去省人民医院", {("date", "2026-11-24")}),
        ("约个骨颗的号", {("department", "骨科")}),
    ],
)
def test_sound_alike_slips(
    engine_nlu: EmbeddedEngine, text: str, expected: set[tuple[str, str]]
) -> None:
    assert expected <= entities(engine_nlu, text)


@pytest.mark.parametrize(
    "text",
    [
        "报效祖国一辈子",  # a real word that sounds like 报销 stays itself
        "我要去顾客那里",  # 顾客 sounds like 骨科 but shares no character
        "护理补贴标准是多少",  # a service's name inside an entitlement's
        "理发费补助怎么领",
    ],
)
def test_no_slip_where_there_is_none(engine_nlu: EmbeddedEngine, text: str) -> None:
    found = entities(engine_nlu, text)
    assert not {kind for kind, _ in found} & {"department", "service_type"}, found
    assert "报销" not in engine_nlu.speller.correct(text)
