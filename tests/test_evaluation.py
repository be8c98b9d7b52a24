"""``yinling evaluate conversations``: conversations judged by the records they leave — it
passes what is right and catches what is missing, extra or different."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.evaluation import judge, load_conversations, run_conversations, summary
from nlu.engine import EmbeddedEngine

ESCORT = {
    "id": "e1",
    "persona": "张建国",
    "turns": ["下礼拜三陪我老伴去省人民医院看心内科", "上午", "对"],
    "expect": [{"kind": "看病陪诊", "hospital": "省人民医院", "department": "心内科",
                "date": "2026-11-25", "time": "上午", "for": "老伴"}],
}  # fmt: skip
CANCEL = {
    "id": "e2",
    "persona": "王德明",
    "sender": "女儿",
    "before": [{"kind": "上门服务", "service": "理发", "date": "2026-11-25", "time": "上午"}],
    "turns": ["我爸下周三的理发不要了", "对"],
    "expect": [{"kind": "取消", "of": "上门服务", "service": "理发", "date": "2026-11-25"}],
}
COUPLE = {
    "id": "e3",
    "persona": "张建国",
    "turns": ["报名合唱团 我和老伴都去", "确认"],
    "expect": [{"kind": "活动报名", "activity": "合唱团", "status": "已报名", "for": "本人和老伴"}],
}


def _write(folder: Path, *conversations: dict[str, object]) -> Path:
    for c in conversations:
        (folder / f"{c['id']}.yaml").write_text(yaml.safe_dump(c, allow_unicode=True), "utf-8")
    return folder


async def test_right_records_pass_and_wrong_ones_fail(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, tmp_path: Path
) -> None:
    wrong_day = {**ESCORT, "id": "e4", "expect": [{**ESCORT["expect"][0], "date": "2026-11-26"}]}  # type: ignore[index]
    nothing = {**COUPLE, "id": "e5", "expect": []}
    folder = _write(tmp_path, ESCORT, CANCEL, COUPLE, wrong_day, nothing)
    verdicts = await run_conversations(db, engine_nlu, load_conversations(folder))
    passed = {v.id: v.passed for v in verdicts}
    assert passed == {"e1": True, "e2": True, "e3": True, "e4": False, "e5": False}
    by_id = {v.id: v for v in verdicts}
    assert any(p.startswith("missing") for p in by_id["e4"].problems)
    assert any(p.startswith("unexpected") for p in by_id["e4"].problems)
    assert any(p.startswith("unexpected") for p in by_id["e5"].problems)
    assert summary(verdicts)["rate"] == 0.6


def test_judging_checks_only_the_fields_named() -> None:
    found = [{"kind": "上门服务", "service": "理发", "date": "2026-11-25", "time": "上午",
              "notes": '{"note": "要推轮椅"}'}]  # fmt: skip
    assert judge([{"kind": "上门服务", "service": "理发"}], found) == []
    assert judge([{"kind": "上门服务", "notes": ["轮椅"]}], found) == []
    assert judge([{"kind": "上门服务", "notes": ["13912345678"]}], found)
    assert judge([], found)
