"""The medical green channel: escorted hospital visits (就医一键通), hospital stays
(住院提醒, with a staff visit due within 24 hours), and medical-bill reimbursement.

The modules: ``escort``, ``stay`` (hospital stays), ``claims`` (reimbursement), and
``moves`` (moving an escort or a claim appointment to another day).
"""

from __future__ import annotations

from handlers.medical.claims import CLAIM, reimbursement
from handlers.medical.escort import ESCORT, TBD, escort
from handlers.medical.stay import ADMISSION, admission

__all__ = ["ADMISSION", "CLAIM", "ESCORT", "TBD", "admission", "escort", "reimbursement"]
