"""The console's routes, each with the permission it needs (bot/console/access.py)."""

from __future__ import annotations

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from bot.console import (
    admissions,
    audit,
    board,
    broadcasts,
    care,
    catalogue,
    exports,
    imports,
    people,
    policies,
    queue,
    reports,
    signin,
    visits,
    volunteers,
)
from bot.console.web import HERE

__all__ = ["ROUTES", "console"]

GET, POST = ["GET"], ["POST"]

# (path, endpoint, methods, permission) — the permission is for the README's table and the
# role-matrix test; each endpoint enforces its own (bot/console/web.py ``guarded``).
ROUTES: list[tuple[str, object, list[str], str | None]] = [
    ("/", signin.home, GET, None),
    ("/logout", signin.logout, POST, None),
    ("/board", board.board, GET, "board.view"),
    ("/board/live", board.board_live, GET, "board.view"),
    ("/board/count", board.board_count, GET, "board.view"),
    ("/alerts/{id:int}", board.alert_page, GET, "board.view"),
    ("/alerts/{id:int}/take", board.alert_take, POST, "alert.take"),
    ("/alerts/{id:int}/note", board.alert_note, POST, "alert.take"),
    ("/alerts/{id:int}/close", board.alert_close, POST, "alert.close"),
    ("/queue", queue.queue, GET, "queue.view"),
    ("/requests/{id:int}", queue.request_page, GET, "queue.view"),
    ("/requests/{id:int}/assign", queue.request_assign, POST, "request.work"),
    ("/requests/{id:int}/state", queue.request_move, POST, "request.work"),
    ("/requests/{id:int}/note", queue.request_note, POST, "request.work"),
    ("/requests/{id:int}/reply", queue.request_reply, POST, "handoff.reply"),
    # 必访探望 (bot/console/visits.py): log a visit made (the id: its task's request);
    # record an occasion that calls for one.
    ("/visits/{id:int}/log", visits.request_visit, POST, "request.work"),
    ("/people/{id:int}/visit-occasion", visits.person_occasion, POST, "request.work"),
    ("/people", people.people, GET, "people.view"),
    ("/people/{id:int}", people.person_page, GET, "people.view"),
    ("/people/{id:int}/edit", people.person_edit, POST, "people.edit"),
    ("/accounts/{id:int}/revoke", people.account_revoke, POST, "people.edit"),
    # 一人一策 (bot/console/care.py, issue 20): plan items, the contact, the family doctor.
    ("/people/{id:int}/plan", care.plan_edit, POST, "people.edit"),
    ("/people/{id:int}/contact", care.contact_set, POST, "people.edit"),
    ("/people/{id:int}/doctor", care.doctor_save, POST, "people.edit"),
    ("/import", imports.import_page, GET, "import.run"),
    ("/import", imports.import_check, POST, "import.run"),
    ("/import/apply", imports.import_apply, POST, "import.run"),
    ("/import/template", imports.import_template, GET, "import.run"),
    ("/audit", audit.audit, GET, "audit.view"),
    # 统计报表 (issue 18 item 6)
    ("/reports", reports.reports, GET, "reports.view"),
    ("/reports/export", reports.report_export, GET, "reports.view"),
    # 群发 (bot/console/broadcasts.py): anyone with view drafts; a leader confirms.
    ("/broadcasts", broadcasts.broadcasts, GET, "broadcast.view"),
    ("/broadcasts", broadcasts.broadcast_draft, POST, "broadcast.view"),
    ("/broadcasts/{id:int}", broadcasts.broadcast_page, GET, "broadcast.view"),
    ("/broadcasts/{id:int}/confirm", broadcasts.broadcast_confirm, POST, "broadcast.send"),
    ("/broadcasts/{id:int}/cancel", broadcasts.broadcast_cancel, POST, "broadcast.send"),
    # 导出 Excel (bot/console/exports.py, issue 18 item 3): contact details only with
    # people.view and the "含联系方式" box ticked; every download is audited.
    ("/activities/{id:int}/export", exports.roster_export, GET, "export.run"),
    ("/people/export", exports.people_export, GET, "export.run"),
    ("/people/{id:int}/export", exports.person_export, GET, "export.run"),
    ("/queue/export", exports.requests_export, GET, "export.run"),
    # 活动与服务 (bot/console/catalogue.py, issue 18 item 2): activities, slots, hospitals.
    ("/activities", catalogue.activities, GET, "catalogue.edit"),
    ("/activities", catalogue.activity_create, POST, "catalogue.edit"),
    ("/activities/{id:int}", catalogue.activity_page, GET, "catalogue.edit"),
    ("/activities/{id:int}/edit", catalogue.activity_edit, POST, "catalogue.edit"),
    ("/activities/{id:int}/cancel", catalogue.activity_cancel, POST, "catalogue.edit"),
    ("/activities/{id:int}/check-in", catalogue.activity_check_in, POST, "catalogue.edit"),
    ("/slots", catalogue.slots, GET, "catalogue.edit"),
    ("/slots", catalogue.slots_add, POST, "catalogue.edit"),
    ("/slots/{id:int}/capacity", catalogue.slot_capacity, POST, "catalogue.edit"),
    ("/hospitals", catalogue.hospitals, GET, "catalogue.edit"),
    ("/hospitals", catalogue.hospital_add, POST, "catalogue.edit"),
    ("/hospitals/{id:int}/edit", catalogue.hospital_edit, POST, "catalogue.edit"),
    # 政策 (bot/console/policies.py, issue 18 item 4): articles, and a preview of the answer.
    ("/policies", policies.policies, GET, "policy.edit"),
    ("/policies", policies.policy_create, POST, "policy.edit"),
    ("/policies/new", policies.policy_new, GET, "policy.edit"),
    ("/policies/preview", policies.policy_preview, GET, "policy.edit"),
    ("/policies/{id:int}", policies.policy_page, GET, "policy.edit"),
    ("/policies/{id:int}/edit", policies.policy_edit, POST, "policy.edit"),
    # 志愿者与时间银行 (bot/console/volunteers.py, issue 20): staff offer requests to volunteers.
    ("/volunteers", volunteers.volunteers_page, GET, "volunteer.view"),
    ("/volunteers", volunteers.volunteer_register, POST, "volunteer.manage"),
    ("/volunteers/offer", volunteers.volunteer_offer, POST, "volunteer.manage"),
    ("/volunteers/hours", volunteers.volunteer_hours, POST, "volunteer.manage"),
    ("/volunteers/redeem", volunteers.volunteer_redeem, POST, "volunteer.manage"),
    # 住院提醒 (bot/console/admissions.py, issue 20): hospitals' events nobody matched.
    ("/admissions", admissions.admissions, GET, "people.view"),
    ("/admissions/{id:int}/match", admissions.admission_match, POST, "people.edit"),
    ("/admissions/{id:int}/dismiss", admissions.admission_dismiss, POST, "people.edit"),
]


def console() -> BaseRoute:
    """The console's routes, mounted at /console."""
    routes: list[BaseRoute] = [
        Route("/login", signin.login, methods=["GET", "POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="console_static"),
    ]
    routes += [Route(path, endpoint, methods=methods) for path, endpoint, methods, _ in ROUTES]  # type: ignore[arg-type]
    return Mount("/console", app=Router(routes=routes, default=_not_found))


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """A console address that does not exist: a plain page, in Chinese."""
    page = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>没有这个页面</title>'
        '<link rel="stylesheet" href="/console/static/console.css"><main><section class="card '
        'narrow"><h1>没有这个页面</h1><p><a href="/console/">回到首页</a></p></section></main>'
    )
    await HTMLResponse(page, 404, headers={"Cache-Control": "no-store"})(scope, receive, send)
