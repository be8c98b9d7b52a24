"""Each person's plan (一人一策), own staff contact (一对一) and family doctor: the risk
rules (risk.py), the retiree's and family's questions (answers.py), and the hand-off to
the contact in office hours (contact.py)."""

from __future__ import annotations

from handlers.care.answers import my_contact, my_doctor, my_plan
from handlers.care.contact import office_contact
from handlers.care.risk import Risk, assess, risk_of

__all__ = ["Risk", "assess", "my_contact", "my_doctor", "my_plan", "office_contact", "risk_of"]
