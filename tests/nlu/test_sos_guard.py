"""The emergency guard both ways: danger now forces sos; past, plans and idioms do not."""

from __future__ import annotations

import pytest

from nlu.engine import EmbeddedEngine
from nlu.normalize import normalize
from nlu.sos import assess


@pytest.mark.parametrize(
    "text",
    [
        "我老伴昨天摔了一跤现在起不来",
        "救命",
        "快来人啊",
        "胸口疼得厉害 喘不上气",
        "我妈叫不醒了",
        "厨房着火了",
        "家里有很重的煤气味",
        "老头子嘴歪了说不出话",
        "血止不住",
        "我爸在厕所摔倒了",
        "老伴走丢了 找不到了",
        "头晕得厉害 站不住",
        "有人撬门",
        # an emergency word as a class's topic nearby does not hide a real one
        "防摔倒讲座上我妈晕倒了",
        "在急救培训班上老伴突然喘不上气",
        "讲座报名的时候我摔倒了起不来",
    ],
)
def test_danger_now_forces_sos(text: str) -> None:
    assert assess(normalize(text)).force


@pytest.mark.parametrize(
    "text",
    [
        "上周摔了一跤想去查查",
        "前几天胸口疼过一回 想挂个心内科",
        "我爸前天心梗送进市一院了 现在稳住了",
        "一键通的按钮坏了怎么办",
        "救命稻草是什么意思",
        "我昨天摔了个碗 心疼死了",
        "这电视剧看得我笑死了",
        "去年骨折过 想约个复查",
        # an emergency as the topic of a class or talk
        "有没有讲冬天防摔倒的讲座",
        "想学急救的课 心肺复苏那种",
        "健康讲座报名 讲心梗急救的那个",
        # a false alarm, or one that is over
        "紧急呼叫器误报了怎么办",
        "楼下着火了 虚惊一场 人都没事",
        # money for medicine is no hoard of pills; "救急" is a favour; days ago is the past
        "我妈攒了好些药费单子 想约个时间交",
        "帮忙救个急 明天来个人打扫一下",
        "我前两天摔了一跤 膝盖青了 想约个骨科",
    ],
)
def test_past_plans_and_idioms_do_not_force(text: str) -> None:
    assert not assess(normalize(text)).force


@pytest.mark.parametrize(
    "text",
    ["上周摔了一跤想去查查", "老伴中风后一直卧床 想约上门护理", "前天住的院 胃出血 现在止住了"],
)
def test_serious_words_in_a_calm_context_veto_the_classifier(text: str) -> None:
    assert assess(normalize(text)).veto


def test_the_guard_overrules_the_classifier(engine_nlu: EmbeddedEngine) -> None:
    # Words the classifier has never seen together still page staff.
    result = engine_nlu.parse("我婆婆倒在卫生间里动弹不得")
    assert result["intent"]["name"] == "sos"
    assert result["intent"]["confidence"] >= 0.95


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("上周摔了一跤想去医院拍个片子", "medical_escort"),
        ("老伴前天心梗住进了省人民医院 现在稳定了", "hospital_admission"),
    ],
)
def test_past_events_route_to_their_service(
    engine_nlu: EmbeddedEngine, text: str, intent: str
) -> None:
    assert engine_nlu.parse(text)["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text",
    [
        "请问住院报备要什么材料？我老伴现在叫不醒",  # a question, then danger in its own clause
        "顺便约个下周的理发 另外我爸倒在卫生间起不来了",
        "不想再拖累孩子们了 后事都交代好了",  # a farewell without the words of dying
    ],
)
def test_danger_in_a_clause_of_its_own_or_a_farewell_forces(text: str) -> None:
    assert assess(normalize(text)).force


def test_an_acknowledgement_is_not_an_emergency(engine_nlu: EmbeddedEngine) -> None:
    for text in ("知道了", "好 知道了", "哦 晓得了"):
        parsed = engine_nlu.parse(text)
        assert parsed["intent"]["name"] != "sos", text


def test_a_danger_denied_is_set_aside_but_not_one_said_after() -> None:
    denied = assess(normalize("我爸最近老说头晕 不是那种突然晕倒的 想约个神经内科"))
    assert (denied.force, denied.denied) == (False, True)
    assert assess(normalize("不是他晕倒了 是我晕倒了 起不来")).force
    assert assess(normalize("我不是想自杀 就是活着没意思")).force  # never set aside
