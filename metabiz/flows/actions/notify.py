"""The `notify` action: in-app notifications (and e-mail when SMTP is configured).

Recipients and texts are resolved on the record inside the write; the notification rows
are written by a `notify` job after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metabiz.flows import notifications
from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula, text
from metabiz.flows.recipients import Recipient, from_json, resolve_all


@register
class Notify(Action):
    name = "notify"

    def __init__(self, where: Any, to: list[Recipient], subject: FlowFormula | None,
                 message: FlowFormula) -> None:
        super().__init__(where)
        self.to = to
        self.subject = subject
        self.message = message

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Notify:
        subject = scope.formula(params["subject"], "subject") if params.get("subject") else None
        return cls(scope.where, [from_json(r) for r in params["to"]], subject,
                   scope.formula(params["message"], "message"))

    def run(self, run: Run) -> None:
        record = run.subject
        users = resolve_all(self.to, record)
        if not users:
            return
        notifications.send(
            run.ctx.conn, users, now=run.ctx.now,
            subject=text(self.subject.value(record)) if self.subject else None,
            message=text(self.message.value(record)), object_name=record.obj.name,
            record_id=record.record_id, source=run.source)
