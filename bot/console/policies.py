"""政策: the policy articles the bot answers from — a list, an editor (the same checks as
``yinling policy import``: storage/demo ``check_article``; an article without a region is
refused) and a preview: a question typed beside the article as edited, not yet saved,
answered exactly as the bot would in the bureau's region (handlers/policy.py ``answer``).
Every save is audited, and the bot's index is dropped so that the next question reads the
new text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.console.web import Signed, guarded, number, param, render, runtime_of
from handlers import policy, texts
from storage.demo import ArticleError, check_article
from storage.models import PolicyArticle
from storage.uow import UnitOfWork

__all__ = [
    "policies",
    "policy_create",
    "policy_edit",
    "policy_new",
    "policy_page",
    "policy_preview",
]

# field -> (most characters, its name on the page)
FIELDS = {
    "slug": (60, "编号"),
    "title": (100, "标题"),
    "body": (2000, "正文"),
    "source": (100, "出处文件"),
    "source_title": (200, "文件名称"),
    "region": (40, "适用地区"),
    "issuer": (100, "发文机关"),
    "effective": (10, "生效日期"),
    "caveat": (200, "提示"),
    "keywords": (600, "关键词"),
    "questions": (1500, "常见问法"),
}
LISTS = ("keywords", "questions")  # one per line
EDITED = ("title", "body", "source", "source_title", "region", "issuer", "effective",
          "caveat", "keywords", "questions")  # fmt: skip
NOT_FOUND = "没有找到这篇文章。"


def _lines(text: str) -> list[str]:
    return [line.strip()[:100] for line in text.splitlines() if line.strip()][:30]


def _meta(values: dict[str, str]) -> dict[str, Any]:
    """An article's front matter as the folder import reads it, from the form's fields."""
    meta: dict[str, Any] = {
        name: values.get(name, "").strip() for name in FIELDS if name not in LISTS
    }
    meta["source_title"] = meta["source_title"] or meta["source"]
    meta["effective"] = meta["effective"] or None
    for name in LISTS:
        meta[name] = _lines(values.get(name, ""))
    return meta


def _check(values: dict[str, str], now: datetime) -> PolicyArticle | str:
    """The article as typed, or why it cannot be stored (in words for the page)."""
    try:
        return check_article(_meta(values), values.get("body", ""), now)
    except ArticleError as e:
        if e.missing:
            return "没有保存：请填写" + "、".join(FIELDS[m][1] for m in e.missing) + "。"
        return f"没有保存：生效日期“{e.effective}”要写成 年-月-日，例如 2026-01-01。"


def _values(article: PolicyArticle | None) -> dict[str, str]:
    """An article's fields as the form shows them."""
    if article is None:
        return dict.fromkeys(FIELDS, "")
    shown = {name: str(getattr(article, name) or "") for name in FIELDS if name not in LISTS}
    shown["effective"] = article.effective.isoformat() if article.effective else ""
    for name in LISTS:
        shown[name] = "\n".join(getattr(article, name) or [])
    return shown


def _posted(who: Signed) -> dict[str, str]:
    return {name: who.field(name, limit) for name, (limit, _) in FIELDS.items()}


def _preview(
    request: Request, articles: list[PolicyArticle], edited: PolicyArticle | str, question: str
) -> dict[str, object]:
    """What the bot would answer to ``question`` with ``edited`` in place of its saved copy."""
    if isinstance(edited, str):
        return {"refused": edited}
    if not question:
        return {}
    runtime = runtime_of(request)
    home = runtime.pipeline.config.region
    index = policy.PolicyIndex([*articles, edited], runtime.parser.tokenize)
    reply = policy.answer(index, question, home)
    if reply is None:  # one's own figure: a person, never an article
        return {"reply": texts.POLICY_PERSONAL, "options": [], "to_person": True, "home": home}
    found = policy.find(index, question, policy.applicable_regions(home))
    return {
        "reply": reply.text,
        "options": [option.label for option in reply.options],
        "other": found is not None and found.article is not edited,
        "other_title": found.article.title if found is not None else "",
        "home": home,
    }


def _page(
    item: int,
    values: dict[str, str],
    *,
    question: str = "",
    preview: dict[str, object] | None = None,
) -> dict[str, object]:
    return {"item": item, "values": values, "question": question, "preview": preview or {},
            "labels": {name: label for name, (_, label) in FIELDS.items()},
            "nav": "policies"}  # fmt: skip


@guarded("policy.edit")
async def policies(request: Request, who: Signed) -> Response:
    """Every article: title, region, issuer, effective date, last change."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        rows = await uow.catalog.policy_articles()
    return render(request, "policies.html", {"rows": rows, "nav": "policies"}, who=who)


@guarded("policy.edit")
async def policy_new(request: Request, who: Signed) -> Response:
    """An empty article to write."""
    return render(request, "policy.html", _page(0, _values(None)), who=who)


@guarded("policy.edit")
async def policy_page(request: Request, who: Signed) -> Response:
    """One article in the editor."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        article = await uow.session.get(PolicyArticle, number(request.path_params.get("id")))
    if article is None:
        return render(request, "error.html", {"title": "没有找到", "why": NOT_FOUND}, who=who,
                      status=404)  # fmt: skip
    values = _values(article)
    question = article.questions[0] if article.questions else ""
    return render(request, "policy.html", _page(article.id, values, question=question), who=who)


@guarded("policy.edit")
async def policy_preview(request: Request, who: Signed) -> Response:
    """The article as typed (not saved) and what the bot would answer to the question."""
    item = number(request.query_params.get("id"))
    values = {name: param(request, name, limit) for name, (limit, _) in FIELDS.items()}
    question = param(request, "question", 200)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        saved = await uow.catalog.policy_articles()
    current = next((a for a in saved if a.id == item), None)
    if current is not None:
        values["slug"] = current.slug
    else:
        item = 0
    others = [a for a in saved if a.id != item]
    edited = _check(values, datetime.now(UTC))
    page = _page(item, values, question=question,
                 preview=_preview(request, others, edited, question))  # fmt: skip
    block = "preview" if request.headers.get("hx-request") else None
    return render(request, "policy.html", page, who=who, block=block)


async def _save(request: Request, who: Signed, item: int) -> Response:
    """Store the article as posted (``item`` 0: a new one), audited; the bot forgets its
    index. Refused (409, nothing written): a check fails, or a new one's slug is taken."""
    values, now = _posted(who), datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        existing = await uow.session.get(PolicyArticle, item) if item else None
        if item and existing is None:
            return render(request, "error.html", {"title": "没有找到", "why": NOT_FOUND},
                          who=who, status=404)  # fmt: skip
        if existing is not None:
            values["slug"] = existing.slug
        article = _check(values, now)
        refused = article if isinstance(article, str) else None
        if existing is None and not isinstance(article, str):
            taken = select(PolicyArticle.id).where(PolicyArticle.slug == article.slug)
            if await uow.session.scalar(taken) is not None:
                refused = f"没有保存：编号“{article.slug}”已经有文章在用，请换一个。"
        if refused is not None or isinstance(article, str):
            page = _page(item, values, preview={"refused": refused})
            return render(request, "policy.html", {**page, "flash": refused, "ok": False},
                          who=who, status=409)  # fmt: skip
        changed = [
            n for n in EDITED if existing is None or getattr(existing, n) != getattr(article, n)
        ]
        if existing is not None and not changed:
            page = _page(item, _values(existing))
            return render(request, "policy.html", {**page, "flash": "没有改动。", "ok": True},
                          who=who)  # fmt: skip
        stored = await uow.catalog.upsert_policy(article)
        uow.audit.record(now, f"staff:{who.member.id}", "policy_saved", "policy_article",
                         stored.id, slug=stored.slug, fields=changed)  # fmt: skip
        await uow.commit()
        item, values = stored.id, _values(stored)
    policy.forget_index()  # this process answers from the new text at once
    flash = f"已保存《{values['title']}》，机器人从现在起按新的内容回答。"
    page = _page(item, values, question=values["questions"].split("\n")[0])
    return render(request, "policy.html", {**page, "flash": flash, "ok": True}, who=who)


@guarded("policy.edit")
async def policy_create(request: Request, who: Signed) -> Response:
    """Store a new article."""
    return await _save(request, who, 0)


@guarded("policy.edit")
async def policy_edit(request: Request, who: Signed) -> Response:
    """Store an article's new text."""
    item = number(request.path_params.get("id"))
    if not item:
        return render(request, "error.html", {"title": "没有找到", "why": NOT_FOUND}, who=who,
                      status=404)  # fmt: skip
    return await _save(request, who, item)
