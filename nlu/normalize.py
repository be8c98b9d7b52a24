"""Text clean-up that keeps every character at its position, so entity offsets stay valid."""

from __future__ import annotations

import unicodedata

__all__ = ["is_cjk", "normalize"]

_SPACE = " "
# Traditional characters common in our users' messages, folded one to one (offsets stay).
_TRADITIONAL = str.maketrans(
    "後點號週禮幫約醫院陪診掛預報銷費藥護理髮澡飯門診檢查單據來請問這裡個們說話電話時間"
    "離休幹部會議參加動書畫團隊遊戲課師傅孫婦兒爺奶媽爸愛謝謝麼們嗎還沒讓給見開關頭腦聽難過鐘麵"
    "燒氣煙滅傷發燒疼痛腳摔倒嚴緊急救險樓廳廁衛浴燈線腦電視機錢補貼費標準養老金圖館區縣鎮鄉",
    "后点号周礼帮约医院陪诊挂预报销费药护理发澡饭门诊检查单据来请问这里个们说话电话时间"
    "离休干部会议参加动书画团队游戏课师傅孙妇儿爷奶妈爸爱谢谢么们吗还没让给见开关头脑听难过钟面"
    "烧气烟灭伤发烧疼痛脚摔倒严紧急救险楼厅厕卫浴灯线脑电视机钱补贴费标准养老金图馆区县镇乡",
)


def _fold(ch: str) -> str:
    """Fold one character: full-width to half-width, controls to space, Latin to lower case."""
    if ch in "\t\n\r\x0b\x0c\u3000":
        return _SPACE
    category = unicodedata.category(ch)
    if category in {"Cc", "Cf", "Cs", "Co", "Cn"}:
        return _SPACE
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        # NFKC would change the length (e.g. "㎡" -> "m2"): keep the original.
        return ch.lower()
    return folded.lower()


def normalize(text: str) -> str:
    """Return text of the same length with full-width forms, controls, case and common
    traditional characters folded."""
    return "".join(_fold(ch) for ch in text).translate(_TRADITIONAL)


_CJK_BLOCKS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))  # unified ideographs, extension A


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (the basic block and extension A)."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _CJK_BLOCKS)
