"""Sound-alike slips in short domain words, put right before entities are read.

Voice input and pinyin keyboards write "眼颗" for 眼科, "送参" for 送餐, "上五" for 上午 and
"下里拜二" for 下礼拜二. Names of three or more characters are already matched by their
sound (nlu/entities.py); two-character words are too short for that alone — "骨科" sounds
like "顾客". A two-character window is corrected to a domain word only when

- it sounds the same (toneless, fuzzy pinyin: zh/z, n/l, -ng/-n …),
- it shares one character with the word in the same place (眼颗 and 眼科 share 眼), and
- it is not itself a word (人名 stays 人名, 报效 stays 报效).

The correction keeps the text's length, so entity offsets stay those of the message.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping

__all__ = ["Speller"]

_WORD = 2  # the length of the words corrected here


class Speller:
    """Corrects sound-alike slips of known two-character domain words."""

    def __init__(
        self, pinyin: Mapping[str, str], dictionary: Container[str], words: Iterable[str]
    ) -> None:
        self._pinyin = pinyin
        self._dictionary = dictionary
        self._words: set[str] = set()
        by_sound: dict[tuple[str, str], set[str]] = {}
        for word in words:
            sound = self._sound(word)
            if sound is not None:
                self._words.add(word)
                by_sound.setdefault(sound, set()).add(word)
        # Two domain words that sound alike leave a slip ambiguous: it is not corrected.
        self._by_sound = {s: next(iter(w)) for s, w in by_sound.items() if len(w) == 1}

    def _sound(self, word: str) -> tuple[str, str] | None:
        if len(word) != _WORD:
            return None
        first, second = self._pinyin.get(word[0]), self._pinyin.get(word[1])
        if first is None or second is None:
            return None
        return first, second

    def correct(self, text: str) -> str:
        """The text with slips put right; the same length as the text."""
        if not self._by_sound:
            return text
        chars = list(text)
        exact = [text[i : i + _WORD] in self._words for i in range(len(text))]
        i = 0
        while i + _WORD <= len(text):
            window = text[i : i + _WORD]
            near_exact = exact[i] or (i > 0 and exact[i - 1]) or exact[i + 1]
            word = None if near_exact else self._fix(window)
            if word is None:
                i += 1
                continue
            chars[i : i + _WORD] = word
            i += _WORD
        return "".join(chars)

    def _fix(self, window: str) -> str | None:
        if window in self._dictionary:
            return None
        sound = self._sound(window)
        word = self._by_sound.get(sound) if sound is not None else None
        if word is None or word == window:
            return None
        if word[0] != window[0] and word[1] != window[1]:
            return None
        return word
