"""Policy Q&A (政策答疑): BM25 over the policy articles in the database, answered in two
short sentences with the article's title, its caveat (提示) and its source (document and
issuing body); unsure means a person.

Regions. Every article carries the region it applies in (a city, a province, or 全国); the
bureau's region is ``ServiceConfig.region`` (YINLING_REGION). An answer uses only articles
of that region, of the regions it is part of (``phrases.REGION_PARENTS``: 苏州 → 江苏 →
全国) and national ones. The search still runs over every article, so that we know what a
question is about: when the best match is another region's article (and no applicable one
matches about as well), the figures of that article are *not* read out. The retiree is told
plainly that we have no rule of this bureau's on it, that the only document found is
another region's and does not apply here, the caveat, and a person is offered. We chose
not to show the other region's figures at all, even labelled: an 85-year-old remembers
"护理费涨了1500元" and not the "in Jiangxi" before it, and a figure read out by the
bureau's own service sounds like the bureau's promise. Naming the other region still
answers the common case behind such a question, someone who heard a figure on the news.

A question about one's own figure ("我的离休费是多少", "我每个月能拿多少",
``phrases.PERSONAL_FIGURE``) is never answered from an article: only the person's file
knows, so it is handed to a person at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import bm25s
import numpy as np

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.handoff import handoff
from storage.models import PolicyArticle

__all__ = [
    "Found",
    "PolicyIndex",
    "answer",
    "applicable_regions",
    "applies",
    "find",
    "forget_index",
    "policy_question",
]

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


def _region(name: str | None) -> str:
    """A region's name as the table knows it ("江苏省" is 江苏); "" for none."""
    return phrases.REGION_SUFFIX.sub("", (name or "").strip())


def applicable_regions(region: str) -> tuple[str, ...]:
    """The region, the regions it is part of, and national: whose articles apply there."""
    chain = []
    current = _region(region)
    while current and current not in chain:
        chain.append(current)
        current = phrases.REGION_PARENTS.get(current, phrases.NATIONAL_REGION)
    if phrases.NATIONAL_REGION not in chain:
        chain.append(phrases.NATIONAL_REGION)
    return tuple(chain)


def applies(article: PolicyArticle, regions: tuple[str, ...]) -> bool:
    """Whether an article is a rule here (an article without a region never is)."""
    return _region(article.region) in regions


@dataclass(slots=True)
class Found:
    """What answers a question: an article of here, or only another region's."""

    article: PolicyArticle
    here: bool  # the article applies in the bureau's region
    related: list[PolicyArticle]  # other articles of here worth offering


def find(index: PolicyIndex, question: str, regions: tuple[str, ...]) -> Found | None:
    """The article that answers a question in these regions (None: not sure of any). The
    best match over every article says what the question is about; an applicable article
    answers when it is that match, or when it is trusted too and holds as many of the
    question's words (a 江苏 article on 护理费 answers in 苏州 beside 江西's; 苏州's care
    homes, which share only 护理, do not answer "护理费涨了多少")."""
    matches = index.search(question, k=len(index.articles))
    if not matches or not index.confident(matches[0]):
        return None
    best = matches[0]
    here = [m for m in matches if applies(m.article, regions)]
    answer = next((m for m in here if m is best or m.coverage >= best.coverage), None)
    if answer is None or not index.confident(answer):
        return Found(best.article, here=False, related=[])
    related = [m.article for m in here if m is not answer and m.score >= RELATED_SCORE]
    return Found(answer.article, here=True, related=related[:2])


def _caveat(article: PolicyArticle) -> str:
    return (article.caveat or "").strip() or texts.POLICY_CAVEAT_DEFAULT


def _source(article: PolicyArticle) -> str:
    if not article.issuer:
        return article.source_title
    if article.effective is None:
        return texts.POLICY_SOURCE_ISSUED.format(title=article.source_title, issuer=article.issuer)
    day = article.effective
    when = texts.POLICY_DATE.format(year=day.year, month=day.month, day=day.day)
    return texts.POLICY_SOURCE_DATED.format(
        title=article.source_title, issuer=article.issuer, date=when
    )


def _answer(article: PolicyArticle, related: list[PolicyArticle]) -> Reply:
    sentences = [s for s in phrases.SENTENCE_END.split(article.body.replace("\n", "")) if s.strip()]
    body = "".join(sentences[:SENTENCES])
    options = (
        *(Option(r.title, payload("policy_question", article=r.slug)) for r in related),
        Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")),
    )
    text = texts.POLICY_ANSWER_WITH_CAVEAT.format(
        title=article.title, body=body, caveat=_caveat(article), source=_source(article)
    )
    return Reply(text, options)


def _elsewhere(article: PolicyArticle, home: str) -> Reply:
    """Only another region's article matches: say so, without its figures; offer a person."""
    text = texts.POLICY_OTHER_REGION.format(
        home=_region(home), region=_region(article.region), caveat=_caveat(article)
    )
    return Reply(text, (Option(texts.POLICY_ASK_STAFF, payload("human_agent")),))


async def _personal(ctx: Ctx) -> list[Reply]:
    """One's own figure: a person looks at the file (never an article's general figure)."""
    first, *rest = await handoff(ctx, reason="personal_figure")
    return [Reply(f"{texts.POLICY_PERSONAL}\n{first.text}", first.options), *rest]


async def policy_question(ctx: Ctx) -> list[Reply]:
    """Answer from the best-matching article of this bureau's region (or its parents, or
    national), say that only another region's matches, or hand the question to a person."""
    index = await _index(ctx)
    home = ctx.config.region
    regions = applicable_regions(home)
    chosen = ctx.turn.values("article")
    if chosen:
        article = next((a for a in index.articles if a.slug == chosen[0]), None)
        if article is not None:
            return [
                _answer(article, []) if applies(article, regions) else _elsewhere(article, home)
            ]
    if ctx.turn.payload and not ctx.turn.values("article"):
        return [Reply(texts.POLICY_ASK)]  # chosen from the menu: ask what about
    reply = answer(index, ctx.turn.text, home)
    return [reply] if reply is not None else await _personal(ctx)


def answer(index: PolicyIndex, question: str, home: str) -> Reply | None:
    """What the bot answers to a typed question from these articles in the bureau's region
    ``home`` (None: a question about one's own figure, which goes to a person). The
    console's editor previews an article with this before it is saved."""
    if phrases.PERSONAL_FIGURE.search(question):
        return None
    found = find(index, question, applicable_regions(home))
    if found is None:
        # Not sure: offer a person (who then sees the question in the transcript) rather
        # than open a ticket the asker did not ask for.
        person = Option(texts.POLICY_ASK_STAFF, payload("human_agent"))
        return Reply(texts.POLICY_UNSURE, (person,))
    if not found.here:
        return _elsewhere(found.article, home)
    return _answer(found.article, found.related)
