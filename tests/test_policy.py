"""Policy retrieval: every article answers its own typical questions; strangers go to a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.policy import PolicyIndex
from nlu.engine import EmbeddedEngine
from storage.demo import POLICY_DIR, load_policy_folder


@pytest.fixture(scope="module")
def index(engine_nlu: EmbeddedEngine) -> PolicyIndex:
    articles = load_policy_folder(POLICY_DIR, datetime.now(UTC))
    return PolicyIndex(articles, engine_nlu.tokenize)


def test_each_article_answers_its_own_questions(index: PolicyIndex) -> None:
    wrong = []
    for article in index.articles:
        for question in article.questions:
            best = index.search(question)
            if not best or best[0].article.slug != article.slug or not index.confident(best[0]):
                wrong.append(
                    (article.slug, question, [(m.article.slug, round(m.score, 1)) for m in best])
                )
    assert wrong == []


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("离休费今年涨没涨", "lixiu-allowance"),
        ("我听说护理费涨了一千五是真的吗", "lixiu-allowance"),
        ("住在外地的老同志谁来管", "living-elsewhere"),
        ("电子保姆是干啥用的", "one-key-device"),
    ],
)
def test_paraphrases(index: PolicyIndex, question: str, slug: str) -> None:
    best = index.search(question)
    assert best
    assert best[0].article.slug == slug
    assert index.confident(best[0])


@pytest.mark.parametrize(
    "question",
    [
        "去火星旅游的机票补贴政策能报销吗",
        "股票明天涨不涨",
        "小区停车费怎么交",
        "孙子上大学的学费能减免吗",
    ],
)
def test_questions_we_cannot_answer_are_not_guessed(index: PolicyIndex, question: str) -> None:
    best = index.search(question)
    assert not best or not index.confident(best[0])
