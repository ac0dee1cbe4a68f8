"""The `webhook` action: a signed JSON POST, enqueued in the write and sent after commit.

The body is `payload` (formulas) when given, else the record (or its `fields`) with the
event; see webhooks.py for signing, retries and the attempt log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metabiz.flows import webhooks
from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula
from metabiz.formulas import to_json_value
from metabiz.objects import records


@register
class Webhook(Action):
    name = "webhook"

    def __init__(self, where: Any, url: str, payload: dict[str, FlowFormula] | None,
                 fields: list[str] | None, secret: str | None) -> None:
        super().__init__(where)
        self.url = url
        self.payload = payload
        self.fields = fields
        self.secret = secret

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Webhook:
        payload = None
        if params.get("payload") is not None:
            payload = {key: scope.formula(source, "payload", key)
                       for key, source in params["payload"].items()}
        fields = list(params["fields"]) if params.get("fields") else None
        return cls(scope.where, params["url"], payload, fields, params.get("secret"))

    def run(self, run: Run) -> None:
        subject = run.subject
        if self.payload is not None:
            body: dict[str, Any] = {key: to_json_value(f.value(subject))
                                    for key, f in self.payload.items()}
        else:
            record = records.serialise(run.ctx, subject.obj, subject.values)
            if self.fields is not None:
                record = {k: v for k, v in record.items() if k in self.fields or k == "id"}
            body = {"event": run.event, "source": run.source, "object": subject.obj.name,
                    "record_id": subject.record_id, "record": record,
                    "occurred_at": to_json_value(run.ctx.now)}
        webhooks.enqueue(run.ctx.conn, self.url, body, secret=self.secret, now=run.ctx.now,
                         source=run.source)
