"""Features of a message: jieba words, character n-grams and toneless-pinyin n-grams.

Pinyin features let a homophone typo (预越 for 预约) or a voice-to-text slip still
land near the right intent. Training builds a compact jieba dictionary and a
character-to-pinyin table once; at run time neither jieba's 350,000-word
dictionary nor pypinyin's phrase tables are loaded, which keeps start-up and
memory small.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from typing import Any

import jieba

from nlu.normalize import normalize

__all__ = ["Featurizer", "fuzzy_syllable"]

# Southern accents and fuzzy pinyin input: zh/z, ch/c, sh/s, n/l, -ng/-n.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_TOP_WORDS = 60_000
_DOMAIN_FREQ = 3_000
# A run of five or more digits is a phone number, a code or an ID: its digits say nothing
# of the intent ("120" inside a random binding code once read as an emergency), its shape
# does. Each run becomes one placeholder, so "绑定 58085012" and "绑定 20079420" read alike.
_LONG_NUMBER = re.compile(r"\d{5,}")
_NUMBER_MARK = "#"


def fuzzy_syllable(syllable: str) -> str:
    """Fold a toneless syllable so that commonly confused sounds coincide."""
    for full, short in _FUZZY_INITIALS:
        if syllable.startswith(full):
            syllable = short + syllable[len(full) :]
            break
    for full, short in _FUZZY_FINALS:
        if syllable.endswith(full):
            return syllable[: -len(full)] + short
    return syllable


def _prefix_dict(words: dict[str, int]) -> tuple[dict[str, int], int]:
    """Build jieba's prefix dictionary (every prefix of a word maps to 0 unless a word)."""
    freq: dict[str, int] = {}
    for word, count in words.items():
        freq[word] = count
        for i in range(1, len(word)):
            freq.setdefault(word[:i], 0)
    return freq, sum(words.values())


class Featurizer:
    """Turns text into a list of string features; serialisable to JSON."""

    def __init__(self, words: dict[str, int], pinyin: dict[str, str]) -> None:
        self.words = words
        self.pinyin = pinyin
        self._tokenizer = jieba.Tokenizer()
        freq, total = _prefix_dict(words)
        # A jieba Tokenizer that never reads its big default dictionary.
        self._tokenizer.FREQ, self._tokenizer.total = freq, total
        self._tokenizer.initialized = True

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, domain_words: Iterable[str]) -> Featurizer:
        """Make the compact dictionary and the pinyin table (needs jieba's data and pypinyin)."""
        from pypinyin import Style, lazy_pinyin  # noqa: PLC0415 - training only

        jieba.setLogLevel(logging.WARNING)
        entries: list[tuple[str, int]] = []
        with jieba.get_dict_file() as handle:
            for raw in handle:
                parts = raw.decode("utf-8").split()
                if len(parts) >= 2:  # noqa: PLR2004
                    entries.append((parts[0], int(parts[1])))
        entries.sort(key=lambda e: -e[1])
        words = dict(entries[:_TOP_WORDS])
        for raw in domain_words:
            word = normalize(raw).strip()
            if len(word) > 1 and " " not in word:
                words[word] = max(words.get(word, 0), _DOMAIN_FREQ)
        pinyin: dict[str, str] = {}
        for code in range(0x4E00, 0xA000):
            ch = chr(code)
            syllables = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
            if syllables and syllables[0].isascii():
                pinyin[ch] = fuzzy_syllable(syllables[0])
        return cls(words, pinyin)

    def to_json(self) -> dict[str, Any]:
        """Serialise for the model cache."""
        return {"words": self.words, "pinyin": self.pinyin}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Featurizer:
        """Load from the model cache."""
        return cls(data["words"], data["pinyin"])

    # ------------------------------------------------------------ features
    def tokens(self, text: str) -> list[str]:
        """jieba words of normalised text, without spaces and punctuation."""
        return [w for w in self._tokenizer.lcut(text) if any(ch.isalnum() for ch in w)]

    def syllables(self, text: str) -> list[str]:
        """Toneless, fuzzy-folded pinyin of the Chinese characters of text."""
        return [self.pinyin[ch] for ch in text if ch in self.pinyin]

    def features(self, text: str) -> list[str]:
        """All features of one raw message."""
        clean = _LONG_NUMBER.sub(_NUMBER_MARK, "".join(normalize(text).split()))
        feats = ["w=" + w for w in self.tokens(clean)]
        for n in (1, 2, 3):
            feats.extend("c=" + clean[i : i + n] for i in range(len(clean) - n + 1))
        syl = self.syllables(clean)
        feats.extend("p=" + s for s in syl)
        feats.extend("p=" + a + "_" + b for a, b in itertools.pairwise(syl))
        if clean:
            # How a message starts and ends ("帮我…", "…吗") says much about its intent.
            feats.extend(("b=" + clean[:2], "e=" + clean[-2:], "b1=" + clean[0], "e1=" + clean[-1]))
        return feats
