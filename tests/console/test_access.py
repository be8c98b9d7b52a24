"""Who may open and do what in the console.

Every route of ``bot.console.routes.ROUTES``, for every role of ``bot.console.access.ROLES``
and signed out, is checked against the role table itself (``PERMISSIONS``), with a few
facts stated by hand so that the table cannot drift unnoticed; every POST needs its
session's CSRF token and a same-site Origin; and no route under /console escapes the table.
"""

from __future__ import annotations

import base64
import inspect
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.routing import Mount, Route

from bot.app import create_app
from bot.console.access import LANDING, PERMISSIONS, ROLES, allowed, first_page
from bot.console.routes import ROUTES
from bot.settings import Settings
from handlers.base import TZ
from storage.models import ImportBatch
from storage.uow import UnitOfWork
from tests.console.conftest import Console, location, with_activity
from tests.console.test_admissions import seed_admission
from tests.console.test_catalogue import activity_form, seed_catalogue
from tests.console.test_policies import policy_form, seed_policies
from tests.console.test_visits import with_visit
from tests.console.test_volunteers import volunteer_forms, with_volunteers

# Which seeded thing fills {id:int}, by the path's first segment.
ID_OF = {
    "alerts": "alert",
    "requests": "request",
    "people": "person",
    "accounts": "account",
    "broadcasts": "broadcast",
    "activities": "activity",  # seeded by with_activity()
    "slots": "slot",  # seeded by seed_catalogue()
    "hospitals": "hospital",
    "policies": "policy",  # seeded by seed_policies()
    "admissions": "admission",  # seeded by seed_admission()
    "visits": "visit",  # a must-visit task, seeded by with_visit()
}
HOME, LOGOUT = "/", "/logout"
REPO = Path(__file__).resolve().parents[2]


def _route_id(route: tuple[str, object, list[str], str | None]) -> str:
    path, _, methods, _ = route
    return f"{'|'.join(methods)} {path}"


def fill(path: str, ids: dict[str, int]) -> str:
    """The console URL of a route, with a real id of the right kind."""
    if "{" in path:
        segment = path.split("/")[1]
        assert segment in ID_OF, f"tests/console: say which seeded id fills {path} (ID_OF)"
        path = path.replace("{id:int}", str(ids[ID_OF[segment]]))
    assert "{" not in path, path
    return "/console" + path


def form_for(path: str, console: Console) -> dict[str, str]:
    """What a page would post to this route (enough for the action to succeed)."""
    forms = {
        "/alerts/{id:int}/note": {"note": "已电话联系家属"},
        "/alerts/{id:int}/close": {"outcome": "helped", "note": "已送医"},
        "/requests/{id:int}/assign": {"staff": str(console.staff["clerk"])},
        "/requests/{id:int}/state": {"status": "booked", "note": "已约好"},
        "/requests/{id:int}/note": {"note": "已回电"},
        "/requests/{id:int}/reply": {"text": "您好，我们收到了，马上联系您。"},
        "/people/{id:int}/edit": {"notes": "矩阵测试改的备注", "lives_alone_shown": "1"},
        "/people/{id:int}/plan": {
            "cadence": "monthly_call",
            "owner": "staff",
            "next_due": "2027-01-05",
        },
        "/people/{id:int}/contact": {"staff": str(console.staff["clerk"])},
        "/people/{id:int}/doctor": {
            "doctor": "矩阵医生",
            "clinic": "社区卫生服务中心",
            "phone": "0512-65001234",
            "valid_until": "2027-06-30",
        },
        "/import": {"kind": "hospitals"},
        "/broadcasts": {"text": "矩阵测试的通知", "district": "姑苏区"},
        "/activities": activity_form(),
        "/activities/{id:int}/edit": activity_form(title="书法班", capacity="7"),
        "/activities/{id:int}/cancel": {"reason": "场地维修"},
        "/activities/{id:int}/check-in": {"registration": str(console.ids.get("registration"))},
        "/slots": {
            "day": (datetime.now(TZ).date() + timedelta(days=5)).isoformat(),
            "capacity": "2",
        },
        "/slots/{id:int}/capacity": {"capacity": "6"},
        "/hospitals": {"name": "矩阵测试医院"},
        "/hospitals/{id:int}/edit": {"name": "市立医院", "address": "矩阵路1号"},
        "/policies": policy_form(title="矩阵测试文章") | {"slug": "matrix-test"},
        "/policies/{id:int}/edit": policy_form(caveat="矩阵测试的提示。"),
        "/admissions/{id:int}/match": {"person": str(console.ids["person"])},
        "/visits/{id:int}/log": {"note": "送了慰问品"},
        "/people/{id:int}/visit-occasion": {"occasion": "hardship", "note": "家里困难"},
    }
    forms.update(volunteer_forms(console))
    return dict(forms.get(path, {}))


def may(role: str, permission: str | None) -> bool:
    """The role table's answer, read straight from PERMISSIONS."""
    return permission is None or role in PERMISSIONS[permission]


# A sheet for the import routes (one new hospital: nothing personal in it).
SHEET = "医院名称,科室\n矩阵测试医院,骨科\n".encode()


async def _batch(console: Console) -> str:
    """A checked upload waiting to be confirmed (what /import/apply confirms)."""
    async with UnitOfWork(console.sessions) as uow:
        batch = ImportBatch(
            kind="hospitals", filename="医院.csv", staff_id=console.staff["clerk"],
            payload=base64.b64encode(SHEET).decode(), created_at=datetime.now(UTC),
        )  # fmt: skip
        uow.session.add(batch)
        await uow.commit()
        return str(batch.id)


async def _draft(console: Console) -> int:
    """A broadcast draft waiting for a leader (what /broadcasts/{id}/confirm confirms)."""
    now = datetime.now(UTC)
    async with UnitOfWork(console.sessions) as uow:
        draft = await uow.broadcasts.create("矩阵测试", {}, console.staff["clerk"], now, now.date())
        draft.status = "draft"
        await uow.commit()
        return draft.id


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if method == "GET":
        return await client.get(url, headers=headers)
    if url.endswith("/console/import"):  # an upload
        files = {"file": ("医院.csv", SHEET, "text/csv")}
        return await client.post(url, data=form or {}, files=files, headers=headers)
    return await client.post(url, data=form or {}, headers=headers)


async def _signed_out(console: Console, method: str, url: str, form: dict[str, str]) -> None:
    """Signed out: a page sends you to sign in (htmx: 401 with HX-Redirect); a POST does
    nothing, not even with the anonymous sign-in form's CSRF token."""
    before = await console.snapshot()
    browser = console.client()
    response = await _send(browser, method, url, form)
    assert response.status_code == 303, (url, response.status_code)
    target = urlsplit(location(response))
    assert target.path == "/console/login", location(response)
    if method == "GET" and url != "/console/":
        assert parse_qs(target.query)["next"] == [url]
    htmx = await _send(browser, method, url, form, {"HX-Request": "true"})
    assert htmx.status_code == 401, (url, htmx.status_code)
    assert htmx.headers["HX-Redirect"].startswith("/console/login")
    if method == "POST":
        anonymous = console.client()
        token = await console.csrf(anonymous)  # a session, but nobody signed in
        response = await _send(anonymous, method, url, {**form, "csrf": token})
        assert response.status_code == 303, (url, response.status_code)
        assert location(response) == "/console/login"
    assert await console.snapshot() == before, f"{method} {url} signed out changed something"


@pytest.mark.parametrize("route", ROUTES, ids=[_route_id(r) for r in ROUTES])
async def test_role_matrix(  # noqa: PLR0915 - one seeding hook per kind of route
    console: Console, route: tuple[str, object, list[str], str | None]
) -> None:
    """Every route × (signed out, every role): refused, or let through, as PERMISSIONS says."""
    path, _, methods, permission = route
    if path.startswith("/broadcasts/"):
        console.ids["broadcast"] = await _draft(console)
    if path.split("/")[1] in {"activities", "slots", "hospitals"}:
        await seed_catalogue(console)
    if path.startswith("/activities/"):
        await with_activity(console)
    if path.startswith("/policies"):
        await seed_policies(console)
    if path.startswith("/visits/"):
        await with_visit(console)
    if path.startswith("/volunteers"):
        await with_volunteers(console)
    if path.startswith("/admissions/"):
        await seed_admission(console)
    url = fill(path, console.ids)
    for method in methods:
        await _signed_out(console, method, url, form_for(path, console))
    browsers = {role: await console.signed_in(role) for role in ROLES}
    # The roles without the permission first: nothing may have changed before they try.
    order = sorted(ROLES, key=lambda role: may(role, permission))
    for method in methods:
        acted = False
        for role in order:
            browser = browsers[role]
            form = form_for(path, console)
            if path == "/import/apply":
                form["batch"] = await _batch(console)
            if method == "POST":
                form["csrf"] = await console.csrf(browser)
            before = await console.snapshot()
            response = await _send(browser, method, url, form)
            shown = (method, url, role, response.status_code)
            if not may(role, permission):
                assert response.status_code == 403, shown
                assert "没有权限" in response.text, shown
                assert await console.snapshot() == before, f"{shown}: refused but changed"
                continue
            assert response.status_code not in {401, 403}, shown
            if path == HOME:
                assert response.status_code == 303, shown
                assert location(response) == first_page(role), shown
            elif path == LOGOUT:
                assert response.status_code == 303, shown
                assert location(response) == "/console/login", shown
                after = await browser.get("/console/")  # that session is over
                assert location(after).startswith("/console/login"), shown
            elif method == "GET":
                assert response.status_code == 200, shown
            else:
                # Done (200), or a refusal of the business rules: already taken or closed
                # by the role before (409), already unbound (404).
                assert response.status_code in {200, 404, 409}, shown
                if response.status_code == 200 and not acted:
                    acted = True
                    assert await console.snapshot() != before, f"{shown}: 200 but did nothing"
        if method == "POST" and path not in {LOGOUT}:
            assert acted, f"{method} {path}: no role with {permission} could do it at all"


# ------------------------------------------------------------- facts by hand
def test_the_table_holds_what_the_bureau_decided() -> None:
    """Stated by hand, so that a slip in PERMISSIONS cannot pass the matrix unseen."""
    permission = {path: needed for path, _, _, needed in ROUTES}
    assert permission["/alerts/{id:int}/close"] == "alert.close"
    assert permission["/people/{id:int}"] == "people.view"
    assert permission["/people/{id:int}/edit"] == "people.edit"
    assert permission["/audit"] == "audit.view"
    assert not allowed("clerk", "alert.close")  # a clerk cannot close an emergency
    assert allowed("duty", "alert.close")
    assert not allowed("admin", "people.view")  # the IT person opens no personal file
    assert not allowed("admin", "board.view")
    assert not allowed("duty", "people.edit")  # duty reads files but does not edit them
    assert allowed("leader", "audit.view")  # a leader sees the audit log
    assert not allowed("clerk", "audit.view")
    assert not allowed(None, "board.view")
    assert not allowed("leader", "no.such.permission")
    assert set(ROLES) == {"clerk", "duty", "leader", "admin"}
    assert {needed for needed, _ in LANDING} <= set(PERMISSIONS)
    for role in ROLES:
        landing = first_page(role)  # everyone has a page, and may see it
        assert landing is not None, role
        needed = next(n for n, page in LANDING if page == landing)
        assert allowed(role, needed)
    assert first_page("admin") == "/console/audit"
    assert first_page("clerk") == first_page("duty") == "/console/board"


async def test_a_clerk_cannot_close_an_emergency(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    url = f"/console/alerts/{console.ids['alert']}/close"
    form = {"outcome": "helped", "note": "x", "csrf": await console.csrf(clerk)}
    before = await console.snapshot()
    response = await clerk.post(url, data=form)
    assert response.status_code == 403
    assert await console.snapshot() == before
    duty = await console.signed_in("duty")
    form["csrf"] = await console.csrf(duty)
    assert (await duty.post(url, data=form)).status_code == 200
    assert [e.actor for e in await console.audit("alert_resolved")] == [
        f"staff:{console.staff['duty']}"
    ]


async def test_the_admin_cannot_open_a_persons_file(console: Console) -> None:
    admin = await console.signed_in("admin")
    before = await console.snapshot()
    for url in (f"/console/people/{console.ids['person']}", "/console/people?q=张建国"):
        response = await admin.get(url)
        assert response.status_code == 403, url
        assert "张建国" not in response.text
        assert "高血压" not in response.text
    assert await console.snapshot() == before  # not even a "person_viewed" row
    page = await admin.get("/console/audit")
    assert page.status_code == 200


async def test_duty_cannot_edit_a_file(console: Console) -> None:
    duty = await console.signed_in("duty")
    person = f"/console/people/{console.ids['person']}"
    assert (await duty.get(person)).status_code == 200  # reads it
    before = await console.snapshot()
    form = {"notes": "值班改的", "csrf": await console.csrf(duty)}
    response = await duty.post(f"{person}/edit", data=form)
    assert response.status_code == 403
    revoke = await duty.post(f"/console/accounts/{console.ids['account']}/revoke", data=form)
    assert revoke.status_code == 403
    assert await console.snapshot() == before


async def test_a_leader_sees_the_audit_log(console: Console) -> None:
    leader = await console.signed_in("leader")
    response = await leader.get("/console/audit")
    assert response.status_code == 200
    assert "审计日志" in response.text
    assert "login" in response.text  # the leader's own sign-in is there


async def test_a_new_role_counts_from_the_next_request(console: Console) -> None:
    """The role is read from the database on every request, not kept in the cookie."""
    leader = await console.signed_in("leader")
    assert (await leader.get("/console/audit")).status_code == 200
    await console.update_staff(console.staff["leader"], role="clerk")
    assert (await leader.get("/console/audit")).status_code == 403
    await console.update_staff(console.staff["leader"], role="admin")
    assert (await leader.get(f"/console/people/{console.ids['person']}")).status_code == 403
    assert (await leader.get("/console/audit")).status_code == 200


def test_the_readme_prints_the_same_table() -> None:
    """README "The staff console" shows who may do what; it must say what the code does."""
    readme = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(readme) if line.startswith("| permission |"))
    columns = [c.strip().split()[-1] for c in readme[header].strip("|").split("|")[1:]]
    assert columns == list(ROLES)
    printed = {}
    for line in readme[header + 2 :]:
        if not line.startswith("|"):
            break
        first, *marks = (c.strip() for c in line.strip().strip("|").split("|"))
        name = first.split("`")[1]
        printed[name] = frozenset(role for role, mark in zip(ROLES, marks, strict=True) if mark)
    assert printed == dict(PERMISSIONS)


# --------------------------------------------------------------------- CSRF
async def test_a_post_needs_its_own_sessions_csrf_token(console: Console) -> None:
    leader = await console.signed_in("leader")
    clerk = await console.signed_in("clerk")
    url = f"/console/people/{console.ids['person']}/edit"
    form = {"notes": "伪造的修改"}
    anonymous = await console.csrf(console.client())
    before = await console.snapshot()
    tries: dict[str, dict[str, Any]] = {
        "no token": {"data": form},
        "an empty token": {"data": {**form, "csrf": ""}},
        "a wrong token": {"data": {**form, "csrf": "A" * 32}},
        "another staff member's token": {"data": {**form, "csrf": await console.csrf(clerk)}},
        "the anonymous form's token": {"data": {**form, "csrf": anonymous}},
        "a wrong header": {"data": form, "headers": {"X-CSRF-Token": "A" * 32}},
    }
    for name, request in tries.items():
        response = await leader.post(url, **request)
        assert response.status_code == 403, name
        assert "页面已过期" in response.text, name
    token = await console.csrf(leader)
    for origin in ("https://evil.example", "http://t.evil.example", "https://t", "http://t:8080"):
        response = await leader.post(url, data={**form, "csrf": token}, headers={"Origin": origin})
        assert response.status_code == 403, origin
    assert await console.snapshot() == before
    # The same requests, done right, go through: a field, or htmx's header, from our origin.
    done = await leader.post(url, data={**form, "csrf": token}, headers={"Origin": "http://t"})
    assert done.status_code == 200
    header = await leader.post(url, data={"notes": "用请求头改的"}, headers={"X-CSRF-Token": token})
    assert header.status_code == 200
    assert len(await console.audit("person_edited")) == 2


async def test_signing_out_needs_the_token_too(console: Console) -> None:
    """A cross-site page cannot sign staff out (nor in: the sign-in form has its token)."""
    clerk = await console.signed_in("clerk")
    refused = await clerk.post("/console/logout", data={})
    assert refused.status_code == 403
    assert (await clerk.get("/console/board")).status_code == 200  # still signed in
    stranger = console.client()
    await console.csrf(stranger)
    form = {"username": "clerk", "password": "irrelevant", "csrf": "A" * 32}
    response = await stranger.post("/console/login", data=form)
    assert response.status_code == 403
    assert await console.audit("login_failed") == []  # not even counted as a try


# ------------------------------------------------------- the table is complete
def test_every_console_route_is_in_the_table() -> None:
    """A route added under /console without a line in ROUTES (and so in the matrix) fails."""
    app = create_app(Settings())
    mounts = [r for r in app.routes if isinstance(r, Mount) and r.path == "/console"]
    assert len(mounts) == 1
    others = [getattr(r, "path", "") for r in app.routes if r not in mounts]
    assert not [p for p in others if p.startswith("/console")], others
    found = set()
    for route in mounts[0].routes:
        if isinstance(route, Mount):
            assert route.path == "/static", route.path
            continue
        assert isinstance(route, Route), route
        if route.path == "/login":
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            found.add((method, route.path))
    table = {(method, path) for path, _, methods, _ in ROUTES for method in methods}
    assert found == table
    assert len(table) == len(ROUTES)  # one line per route and method


@pytest.mark.parametrize("route", ROUTES, ids=[_route_id(r) for r in ROUTES])
def test_each_route_enforces_its_line_of_the_table(
    route: tuple[str, object, list[str], str | None],
) -> None:
    """The permission column is the one the route's guard checks (bot.console.web.guarded)."""
    path, endpoint, _, permission = route
    assert hasattr(endpoint, "__wrapped__"), f"{path} is not guarded"
    enforced = inspect.getclosurevars(endpoint).nonlocals  # type: ignore[arg-type]
    assert "permission" in enforced, path
    assert enforced["permission"] == permission, path
    assert permission is None or permission in PERMISSIONS
