"""政策 in the console: the list, the editor with a preview of the bot's answer to the
article as edited (nothing saved), a save that changes what the chat answers (audited),
the folder import's checks (no region: refused, nothing written), and a refused role."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from handlers.base import Ctx, Reply, ServiceConfig, Turn
from handlers.policy import forget_index, policy_question
from storage.demo import POLICY_DIR, load_policy_folder
from storage.models import PolicyArticle
from storage.state import Conversation
from storage.uow import UnitOfWork
from tests.console.conftest import Console

SLUG = "home-adaptation"  # a 苏州 article of the demo folder (the bureau's region)
QUESTION = "家里能做适老化改造吗"
NEW_BODY = "苏州给离休干部家里免费装扶手和防滑地垫，每户最多补贴三千元。请先打电话到老干部局登记。"
NEW_CAVEAT = "补贴以区老干部局审核为准。"


async def seed_policies(console: Console) -> None:
    """The demo folder's articles; the id of ``SLUG`` in ``console.ids["policy"]``."""
    async with UnitOfWork(console.sessions) as uow:
        for article in load_policy_folder(POLICY_DIR, datetime.now(UTC)):
            await uow.catalog.upsert_policy(article)
        await uow.commit()
        found = await uow.session.scalar(select(PolicyArticle.id).where(PolicyArticle.slug == SLUG))
    assert found is not None
    console.ids["policy"] = found
    forget_index()


def policy_form(**values: str) -> dict[str, str]:
    """The editor's fields for ``SLUG`` as the demo folder has it, with ``values`` changed."""
    return {
        "title": "家里能做适老化改造吗", "region": "苏州", "issuer": "苏州市委老干部局",
        "effective": "", "source": "000_e67c896185b38b0e.txt",
        "source_title": "苏州市关于做好2020年全市老干部工作的通知",
        "body": "2019年，苏州完成了市区离休干部居家养老“适老化改造”。",
        "caveat": "改造的具体内容、还能不能申请，以当地老干部局规定为准。",
        "keywords": "适老化改造\n改造\n装修\n房子\n居家养老\n安全\n扶手",
        "questions": "家里能做适老化改造吗\n适老化改造做了没有", **values,
    }  # fmt: skip


async def ask(console: Console, text: str) -> list[Reply]:
    """The chat's policy handler, as the router calls it, in the bureau's region."""
    runtime = console.app.state.runtime
    async with UnitOfWork(console.sessions) as uow:
        ctx = Ctx(
            now=datetime.now(UTC), turn=Turn(text=text, intent="policy_question", confidence=1.0),
            uow=uow, conv=Conversation(), channel="test", external_id="asker", account=None,
            person=None, config=ServiceConfig(), tokenize=runtime.parser.tokenize,
        )  # fmt: skip
        replies = await policy_question(ctx)
        await uow.commit()
    return replies


async def test_the_list_and_the_preview_of_an_edit_save_nothing(console: Console) -> None:
    await seed_policies(console)
    clerk = await console.signed_in("clerk")
    listed = await clerk.get("/console/policies")
    assert listed.status_code == 200
    assert "家里能做适老化改造吗" in listed.text
    assert "苏州市委老干部局" in listed.text
    page = await clerk.get(f"/console/policies/{console.ids['policy']}")
    assert page.status_code == 200
    assert "适老化改造" in page.text
    before = await console.snapshot()
    edited = policy_form(body=NEW_BODY, caveat=NEW_CAVEAT)
    query = {**edited, "id": str(console.ids["policy"]), "question": QUESTION}
    preview = await clerk.get("/console/policies/preview", params=query)
    assert preview.status_code == 200
    assert NEW_BODY in preview.text  # both sentences: the bot reads the first two
    assert f"提示：{NEW_CAVEAT}" in preview.text
    assert "苏州市关于做好2020年全市老干部工作的通知" in preview.text  # the source
    htmx = await clerk.get("/console/policies/preview", params=query, headers={"HX-Request": "1"})
    assert htmx.status_code == 200
    assert NEW_CAVEAT in htmx.text
    assert "<html" not in htmx.text  # only the preview block
    assert await console.snapshot() == before  # a preview saves nothing
    # …and the chat still answers from the saved text.
    [answer] = await ask(console, QUESTION)
    assert NEW_CAVEAT not in answer.text
    assert "2019年" in answer.text


async def test_a_save_changes_what_the_chat_answers_and_is_audited(console: Console) -> None:
    await seed_policies(console)
    [before] = await ask(console, QUESTION)  # the index is built and cached
    assert "2019年" in before.text
    clerk = await console.signed_in("clerk")
    form = {**policy_form(body=NEW_BODY, caveat=NEW_CAVEAT), "csrf": await console.csrf(clerk)}
    saved = await clerk.post(f"/console/policies/{console.ids['policy']}/edit", data=form)
    assert saved.status_code == 200, saved.text
    assert "已保存" in saved.text
    [after] = await ask(console, QUESTION)
    assert NEW_BODY in after.text
    assert f"提示：{NEW_CAVEAT}" in after.text
    [entry] = await console.audit("policy_saved")
    assert entry.actor == f"staff:{console.staff['clerk']}"
    assert entry.details["slug"] == SLUG
    assert sorted(entry.details["fields"]) == ["body", "caveat"]
    # A new article, and the list shows it.
    new = policy_form(
        title="重阳节慰问", body="重阳节前，局里上门看望离休干部。", questions="重阳节有慰问吗"
    )
    form = {**new, "slug": "double-ninth", "csrf": await console.csrf(clerk)}
    created = await clerk.post("/console/policies", data=form)
    assert created.status_code == 200, created.text
    assert "重阳节慰问" in (await clerk.get("/console/policies")).text
    assert [e.details["slug"] for e in await console.audit("policy_saved")] == [
        SLUG,
        "double-ninth",
    ]
    again = await clerk.post("/console/policies", data=form)  # the slug is taken
    assert again.status_code == 409
    assert "编号" in again.text


async def test_an_article_without_region_is_refused(console: Console) -> None:
    await seed_policies(console)
    leader = await console.signed_in("leader")
    before = await console.snapshot()
    url = f"/console/policies/{console.ids['policy']}/edit"
    form = {**policy_form(region=" ", body=NEW_BODY), "csrf": await console.csrf(leader)}
    refused = await leader.post(url, data=form)
    assert refused.status_code == 409
    assert "适用地区" in refused.text
    form = {**policy_form(effective="去年"), "csrf": await console.csrf(leader)}
    assert (await leader.post(url, data=form)).status_code == 409
    new = {**policy_form(region=""), "slug": "no-region", "csrf": await console.csrf(leader)}
    assert (await leader.post("/console/policies", data=new)).status_code == 409
    assert await console.snapshot() == before
    preview = await leader.get(
        "/console/policies/preview",
        params={**policy_form(region=""), "id": str(console.ids["policy"]), "question": QUESTION},
    )
    assert preview.status_code == 200
    assert "适用地区" in preview.text


async def test_a_duty_officer_may_not_edit_articles(console: Console) -> None:
    await seed_policies(console)
    duty = await console.signed_in("duty")
    before = await console.snapshot()
    assert (await duty.get("/console/policies")).status_code == 403
    form = {**policy_form(body=NEW_BODY), "csrf": await console.csrf(duty)}
    response = await duty.post(f"/console/policies/{console.ids['policy']}/edit", data=form)
    assert response.status_code == 403
    assert "没有权限" in response.text
    assert await console.snapshot() == before
    assert "/console/policies" not in (await duty.get("/console/board")).text  # no menu link
