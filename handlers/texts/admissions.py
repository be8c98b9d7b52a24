"""Texts of the 住院提醒 feed: what the console says about hospitals' admission and discharge
events, and the notes written on the stays they make or close."""

from __future__ import annotations

from typing import Final

FEED_KINDS: Final = {"admission": "入院", "discharge": "出院"}
FEED_STATES: Final = {
    "unmatched": "未对上人员",
    "invalid": "格式不对",
    "matched": "已对上",
    "dismissed": "已忽略",
}
FEED_STAY_NOTE: Final = "医院推送的入院信息（{organisation}）"
FEED_DISCHARGED_NOTE: Final = "医院推送：{day}出院（{organisation}）"
FEED_DISCHARGED_VISIT_NOTE: Final = "本人已于{day}出院，请改为电话或上门看望。"
FEED_MATCHED: Final = "已对上{name}，住院记录和看望任务已建好（编号 {id}）。"
FEED_MATCHED_LINKED: Final = "已对上{name}，他已有这次住院的记录（编号 {id}）。"
FEED_MATCHED_DISCHARGE: Final = "已对上{name}，住院记录已改为出院（编号 {id}）。"
FEED_MATCHED_NO_STAY: Final = "已对上{name}。档案里没有未结束的住院记录，没有改动。"
FEED_TASK_MATCHED: Final = "已对上{name}（档案 {person}）。"
FEED_TASK_DISMISSED: Final = "这条推送已忽略。"
FEED_DISMISSED: Final = "已忽略这条推送。"
FEED_NOT_WAITING: Final = "这条推送已经处理过了。"
FEED_NO_PERSON: Final = "没有这个人员档案，请核对后再选。"
FEED_CANNOT_MATCH: Final = "这条推送格式不对，不能对上人员，只能忽略。"
