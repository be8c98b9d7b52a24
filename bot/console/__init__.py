"""The staff console (工作台) at /console: a browser workbench for the bureau, in the same
app and on the same database as the bot. Server-rendered (Jinja2, htmx vendored under
static/), signed-in staff only, every route guarded by the role table of access.py.

Pages: 紧急求助 (board.py), 待办 (queue.py), 人员档案 (people.py), 审计日志 (audit.py),
sign-in (signin.py). What staff do there is handlers/workbench.py, shared with the rules of
the chat's staff commands; what the pages read is storage/workbench.py.
"""
