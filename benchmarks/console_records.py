"""The seeder's later rows for benchmarks/console.py: the message log, the audit trail,
activities with their registrations, and broadcasts with their recipients. Mixed into
benchmarks/console_data.py's ``Seeder``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from console_scale import ACTIONS, DISTRICTS, LONG, LONG_MESSAGES, SAID, Scale

from storage.models import (
    Activity,
    AuditEntry,
    Broadcast,
    BroadcastRecipient,
    MessageRecord,
    Registration,
)


class Records:
    """The message log, audit entries, activities and broadcasts, built in memory."""

    scale: Scale
    now: datetime
    rng: random.Random
    rows: dict[type[Any], list[dict[str, Any]]]

    def add(self, model: type[Any], row: dict[str, Any]) -> int:
        raise NotImplementedError

    def _messages(self) -> None:
        """Conversations: in and out in turns; person 1's account has LONG_MESSAGES. Texts
        older than the retention are blanked, as the retention job leaves them."""
        scale, rng, now = self.scale, self.rng, self.now
        long_every = scale.messages // LONG_MESSAGES
        kept = now - timedelta(days=180)
        span = timedelta(days=400).total_seconds()
        last_in: dict[int, str] = {}
        for i in range(1, scale.messages + 1):
            account = LONG if i % long_every == 0 else 2 + (i * 7919) % (scale.accounts - 1)
            at = now - timedelta(seconds=span * (1 - i / scale.messages) + rng.random())
            inbound = account not in last_in or rng.random() < 0.5
            message_id = f"wx{i}" if inbound else last_in.pop(account)
            if inbound:
                last_in[account] = message_id
            said = rng.choice(SAID) if inbound else "好的，已经为您登记，工作人员会联系您。"
            self.add(
                MessageRecord,
                {
                    "channel": "wechat",
                    "external_user_id": f"oBench{account:07d}",
                    "message_id": message_id,
                    "account_id": account,
                    "person_id": account,
                    "direction": "in" if inbound else "out",
                    "kind": "text",
                    "text": said if at >= kept else None,
                    "media_id": None,
                    "intent": "medical_escort" if inbound else None,
                    "confidence": 0.9 if inbound else None,
                    "error": False,
                    "created_at": at,
                },
            )

    def _audit(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        actions = [(a, t) for a, t, _ in ACTIONS]
        weights = [w for _, _, w in ACTIONS]
        span = timedelta(days=365).total_seconds()
        for i in range(1, scale.audit + 1):
            action, target = rng.choices(actions, weights)[0]
            staff = rng.randrange(1, scale.staff + 1)
            actor = f"staff:{staff}" if rng.random() < 0.9 else "system"
            ident = {
                "person": rng.randrange(1, scale.people + 1),
                "service_request": rng.randrange(1, scale.requests + 1),
                "alert": rng.randrange(1, 3000),
                "staff": staff,
                "channel_account": rng.randrange(1, scale.accounts + 1),
            }[target]
            self.add(
                AuditEntry,
                {
                    "at": now - timedelta(seconds=span * (1 - i / scale.audit)),
                    "actor": actor,
                    "action": action,
                    "target_type": target,
                    "target_id": None if action == "people_searched" else str(ident),
                    "details": {"found": rng.randrange(50)} if action == "people_searched" else {},
                },
            )

    def _activities(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        per = scale.registrations // scale.activities
        for a in range(1, scale.activities + 1):
            starts = now - timedelta(days=7 * (scale.activities - a) + 3)  # all past
            self.add(
                Activity,
                {
                    "title": f"第{a}期书画班",
                    "category": "class",
                    "starts_at": starts,
                    "place": "老干部活动中心",
                    "capacity": per,
                    "seats_taken": per,
                    "waitlisted": 0,
                    "eligibility": "all",
                    "description": None,
                    "created_at": starts - timedelta(days=14),
                },
            )
            attendees = rng.sample(range(2, scale.people + 1), per - 1)
            for person in [LONG, *attendees] if a % 3 == 0 else attendees:
                at = starts - timedelta(days=rng.randrange(1, 14))
                self.add(
                    Registration,
                    {
                        "activity_id": a,
                        "person_id": person,
                        "attendee": "spouse" if rng.random() < 0.05 else "self",
                        "status": "registered" if rng.random() < 0.9 else "cancelled",
                        "requested_by_account_id": None,
                        "created_at": at,
                        "updated_at": at,
                    },
                )

    def _broadcasts(self) -> None:
        scale, rng, now = self.scale, self.rng, self.now
        for b in range(1, scale.broadcasts + 1):
            at = now - timedelta(days=30 * (scale.broadcasts - b) + 1)
            accounts = [LONG, *rng.sample(range(2, scale.accounts + 1), scale.recipients - 1)]
            self.add(
                Broadcast,
                {
                    "text": f"第{b}号通知：重阳节慰问品本周五起由社区工作站上门发放，请留意电话。",
                    "link": None,
                    "segment": {"districts": list(DISTRICTS[:3])},
                    "created_by": 1,
                    "status": "done",
                    "send_at": None,
                    "total": len(accounts),
                    "sent": len(accounts),
                    "failed": 0,
                    "blocked": 0,
                    "skipped": 0,
                    "lease_owner": None,
                    "lease_until": None,
                    "created_at": at,
                    "updated_at": at,
                    "finished_at": at + timedelta(minutes=5),
                },
            )
            for account in accounts:
                self.add(
                    BroadcastRecipient,
                    {
                        "broadcast_id": b,
                        "account_id": account,
                        "person_id": account,
                        "channel": "wechat",
                        "status": "sent",
                        "claimed_by": None,
                        "attempted_at": at,
                        "sent_at": at + timedelta(seconds=1),
                        "error": None,
                    },
                )
