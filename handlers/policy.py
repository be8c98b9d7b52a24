"""Policy Q&A (政策答疑): BM25 over the policy articles in the database, answered in two
or three short sentences with the article's title and source; unsure means a person."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import bm25s
import numpy as np

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from storage.models import PolicyArticle

__all__ = ["PolicyIndex", "forget_index", "policy_question"]

# Below this BM25 score the best article is not trusted (calibrated on the articles' own
# questions against out-of-scope questions; see tests/test_policy.py).
MIN_SCORE = 2.0
# …and at least this share of the question's words must occur in the article.
MIN_COVERAGE = 0.5
RELATED_SCORE = 3.0
SENTENCES = 2
_STOPWORDS = phrases.POLICY_STOPWORDS


def _words(tokenize: Callable[[str], list[str]], text: str) -> list[str]:
    """Content words: no stop words, no numbers (一千五, 500)."""
    return [
        w for w in tokenize(text) if w not in _STOPWORDS and not set(w) <= phrases.NUMERAL_CHARS
    ]


def _pieces(word: str) -> list[str]:
    """A word and, for longer words, its character pairs (so 装扶手 still meets 扶手)."""
    if len(word) <= 2:  # noqa: PLR2004
        return [word]
    return [word] + [word[i : i + 2] for i in range(len(word) - 1)]


def _terms(words: list[str]) -> list[str]:
    return [piece for word in words for piece in _pieces(word)]


@dataclass(slots=True)
class Match:
    """An article and how well it matches a question."""

    article: PolicyArticle
    score: float
    coverage: float  # share of the question's words found in the article


class PolicyIndex:
    """BM25 over titles, keywords, typical questions and bodies (built once per content)."""

    def __init__(self, articles: list[PolicyArticle], tokenize: Callable[[str], list[str]]) -> None:
        self.articles = articles
        self.tokenize = tokenize
        corpus = []
        for a in articles:
            # Titles, keywords and typical questions say what an article answers: count twice.
            head = _terms(_words(tokenize, " ".join([a.title, *a.keywords, *a.questions])))
            corpus.append(head * 2 + _terms(_words(tokenize, a.body)) or ["_"])
        self._vocabulary = [set(terms) for terms in corpus]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    def search(self, question: str, k: int = 3) -> list[Match]:
        """The best articles for a question, best first (empty if no word matches)."""
        words = _words(self.tokenize, question)
        if not words or not self.articles:
            return []
        k = min(k, len(self.articles))
        ids, scores = self._bm25.retrieve([_terms(words)], k=k, show_progress=False)
        found = []
        for i, s in zip(np.asarray(ids)[0], np.asarray(scores)[0], strict=True):
            if s > 0:
                vocabulary = self._vocabulary[int(i)]
                covered = sum(any(p in vocabulary for p in _pieces(w)) for w in words) / len(words)
                found.append(Match(self.articles[int(i)], float(s), covered))
        return found

    @staticmethod
    def confident(match: Match) -> bool:
        """Whether an answer from this match can be given without a person checking."""
        return match.score >= MIN_SCORE and match.coverage >= MIN_COVERAGE


# Articles change rarely (an import, an edit): the version stamp is looked up at most
# every few seconds, so an edit shows within that time in every process.
VERSION_CHECK_SECONDS = 5.0
_cache: dict[str, PolicyIndex] = {}
_checked: dict[str, float] = {}


async def _index(ctx: Ctx) -> PolicyIndex:
    if _cache and time.monotonic() - _checked.get("at", 0.0) < VERSION_CHECK_SECONDS:
        return next(iter(_cache.values()))
    version = await ctx.uow.catalog.policy_version()
    if version not in _cache:
        _cache.clear()  # articles were imported or edited
        _cache[version] = PolicyIndex(await ctx.uow.catalog.policy_articles(), ctx.tokenize)
    _checked["at"] = time.monotonic()
    return _cache[version]


def forget_index() -> None:
    """Look the articles up again on the next question (after an edit in this process)."""
    _cache.clear()


def _answer(article: PolicyArticle, related: list[PolicyArticle]) -> Reply:
    sentences = [s for s in phrases.SENTENCE_END.split(article.body.replace("\n", "")) if s.strip()]
    body = "".join(sentences[:SENTENCES])
    source = (
        texts.POLICY_SOURCE.format(title=article.source_title, region=article.region)
        if article.region
        else article.source_title
    )
    options = (
        *(Option(r.title, payload("policy_question", article=r.slug)) for r in related),
        Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")),
    )
    return Reply(texts.POLICY_ANSWER.format(title=article.title, body=body, source=source), options)


async def policy_question(ctx: Ctx) -> list[Reply]:
    """Answer from the best-matching article, or hand the question to a person."""
    index = await _index(ctx)
    chosen = ctx.turn.values("article")
    if chosen:
        article = next((a for a in index.articles if a.slug == chosen[0]), None)
        if article is not None:
            return [_answer(article, [])]
    if ctx.turn.payload and not ctx.turn.values("article"):
        return [Reply(texts.POLICY_ASK)]  # chosen from the menu: ask what about
    matches = index.search(ctx.turn.text)
    if not matches or not index.confident(matches[0]):
        # Not sure: offer a person (who then sees the question in the transcript) rather
        # than open a ticket the asker did not ask for.
        person = Option(texts.POLICY_ASK_STAFF, payload("human_agent"))
        return [Reply(texts.POLICY_UNSURE, (person,))]
    related = [m.article for m in matches[1:] if m.score >= RELATED_SCORE]
    return [_answer(matches[0].article, related[:2])]
