"""What approvals add to a record's activity timeline: each step of each request (submitted,
approved, rejected, recalled, reassigned) with who did it and their comment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from metabiz.flows import approvals
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.platform.extensions import TimelineEntry
from metabiz.platform.web import i18n

#: approval history actions worth a line of their own (steps starting are implied)
SHOWN = ("submitted", "approved", "rejected", "recalled", "reassigned", "cancelled")


def approval_events(ctx: Context, obj: CompiledObject,
                    values: Mapping[str, Any]) -> list[TimelineEntry]:
    lang = ctx.language
    out = []
    for request in approvals.requests_for_record(ctx, obj.name, values["id"]):
        flow = request.get("flow_label") or request["flow"]
        for step in request.get("history", []):
            action = step.get("action")
            if action not in SHOWN or not step.get("at"):
                continue
            words = i18n.text(f"action_{action}", lang)
            if step.get("step_label") and action != "submitted":
                words = f"{words} ({step['step_label']})"
            out.append(TimelineEntry(
                dt.datetime.fromisoformat(str(step["at"]).replace("Z", "+00:00")), "approval",
                i18n.text("tl_approval", lang, flow=flow, action=words), step.get("actor"),
                step.get("comment")))
    return out
