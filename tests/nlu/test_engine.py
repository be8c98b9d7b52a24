"""The embedded engine: Rasa's parse format, the issue's examples, typo robustness, the cache."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from nlu.data import data_files, load_training_data
from nlu.engine import EmbeddedEngine
from nlu.normalize import is_cjk

NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
CONTRACT_INTENTS = {
    "sos", "medical_escort", "hospital_admission", "reimbursement", "eldercare_booking",
    "activity_list", "activity_signup", "booking_cancel", "my_records", "policy_question",
    "human_agent", "greet", "thanks_bye", "affirm", "deny", "stop", "out_of_scope", "lonely",
    "my_plan", "my_contact", "my_doctor",  # issue 20: 一人一策, 一对一, 家庭医生
    "volunteer_register", "time_bank",  # issue 20: 志愿者, 时间银行
}  # fmt: skip


def test_parse_has_rasas_shape(engine_nlu: EmbeddedEngine) -> None:
    result = engine_nlu.parse("明天上午想去省人民医院看心内科", NOW)
    # Rasa's keys, and ours beside them (a Rasa client ignores it): the guard's verdict.
    assert set(result) == {"text", "intent", "intent_ranking", "entities", "emergency"}
    assert result["emergency"]["guard"] == "calm"  # a plan: nothing urgent
    assert 0.0 <= result["emergency"]["classifier"] < 0.5
    assert result["text"] == "明天上午想去省人民医院看心内科"
    assert set(result["intent"]) == {"name", "confidence"}
    ranking = result["intent_ranking"]
    assert {r["name"] for r in ranking} == CONTRACT_INTENTS
    assert ranking[0] == result["intent"]
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=0.01)
    for entity in result["entities"]:
        assert {"entity", "value", "start", "end", "text"} <= set(entity)


def test_issue_examples(engine_nlu: EmbeddedEngine) -> None:
    assert engine_nlu.parse("我老伴昨天摔了一跤现在起不来", NOW)["intent"]["name"] == "sos"
    result = engine_nlu.parse("下礼拜三想去省人民医院看看心内科", NOW)
    assert result["intent"]["name"] == "medical_escort"
    found = {(e["entity"], e["value"]) for e in result["entities"]}
    assert {("date", "2026-11-25"), ("hospital", "省人民医院"), ("department", "心内科")} <= found


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text(engine_nlu: EmbeddedEngine, text: str) -> None:
    result = engine_nlu.parse(text, NOW)
    assert result["intent"]["name"] == "out_of_scope"
    assert result["entities"] == []


def test_long_and_odd_text_does_not_break(engine_nlu: EmbeddedEngine) -> None:
    for text in (
        "好" * 6000,
        "<script>alert(1)</script>",
        "'; DROP TABLE people;--",
        "😀🙏",
        "\x00\x07abc",
    ):
        assert engine_nlu.parse(text, NOW)["intent"]["name"] in CONTRACT_INTENTS


@pytest.mark.parametrize(
    ("typo", "intent"),
    [
        ("我想预越一个上门理法", "eldercare_booking"),
        ("我要抱名书发班", "activity_signup"),
        ("帮我挂个心内科的好 明天去市一元", "medical_escort"),
        ("救名啊 老伴摔到了", "sos"),
        ("离修费今年张了没有", "policy_question"),
        ("转人攻", "human_agent"),
    ],
)
def test_homophone_typos(engine_nlu: EmbeddedEngine, typo: str, intent: str) -> None:
    assert engine_nlu.parse(typo, NOW)["intent"]["name"] == intent


def test_homophone_typos_of_training_sentences(engine_nlu: EmbeddedEngine) -> None:
    """Swap one character of a training sentence for another with the same sound. (Not the
    mid-conversation details of midflow.yml: "他耳朵背 来了多敲几下门" is a home-service
    message only in its conversation, and a typo in it may well read otherwise alone.)"""
    by_sound: dict[str, list[str]] = defaultdict(list)
    for ch, syllable in engine_nlu.featurizer.pinyin.items():
        by_sound[syllable].append(ch)
    pinyin = engine_nlu.featurizer.pinyin
    rng = random.Random(7)
    standalone = [p for p in data_files() if p.name != "midflow.yml"]
    examples = rng.sample(load_training_data(standalone).examples, 300)
    kept = tried = 0
    for example in examples:
        positions = [
            i
            for i, ch in enumerate(example.text)
            if is_cjk(ch) and len(by_sound[pinyin.get(ch, "")]) > 1
        ]
        if not positions:
            continue
        i = rng.choice(positions)
        twins = [c for c in by_sound[pinyin[example.text[i]]] if c != example.text[i]]
        typo = example.text[:i] + rng.choice(twins) + example.text[i + 1 :]
        tried += 1
        kept += engine_nlu.parse(typo, NOW)["intent"]["name"] == example.intent
    assert tried >= 250
    assert kept / tried >= 0.97


def test_cache_round_trip(tmp_path: Path, engine_nlu: EmbeddedEngine) -> None:
    trained = EmbeddedEngine.load(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("model-*/meta.json"))) == 1
    loaded = EmbeddedEngine.load(cache_dir=tmp_path)
    for text in ("你好", "明天来理发", "救命", "我报了哪些活动"):
        assert loaded.parse(text, NOW) == trained.parse(text, NOW) == engine_nlu.parse(text, NOW)


def test_changed_data_retrains(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tiny.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n    - 早上好\n'
        "- intent: thanks_bye\n  examples: |\n    - 谢谢\n    - 再见\n",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    first = EmbeddedEngine.load(data, cache)
    assert first.model.classes == ["greet", "thanks_bye"]
    (data / "tiny.yml").write_text(
        (data / "tiny.yml").read_text(encoding="utf-8")
        + "- intent: stop\n  examples: |\n    - 算了\n    - 不办了\n",
        encoding="utf-8",
    )
    second = EmbeddedEngine.load(data, cache)
    assert second.model.classes == ["greet", "stop", "thanks_bye"]
    assert len(list(cache.glob("model-*"))) == 2


def test_the_emergency_model_says_how_likely_an_emergency_now_is(
    engine_nlu: EmbeddedEngine,
) -> None:
    """Trained beside the intent classifier on the labelled emergency sets: high for danger
    now, low for the same words about the past or a class."""
    now = engine_nlu.parse("我老伴倒在卫生间 叫不醒")["emergency"]
    past = engine_nlu.parse("去年老伴在卫生间摔过一跤 现在挺好的 想约个复查")["emergency"]
    assert now.get("now", 0.0) > 0.9
    assert past.get("now", 1.0) < 0.1
