"""The `notify` action: in-app notifications (and e-mail when SMTP is configured).

Recipients and texts are resolved on the record inside the write; the notification rows
are written by a `notify` job after commit. A text may be one formula or one per language
(`{"en", "zh"}`); each recipient gets it in their language, and in it a picklist field of
the record reads as its label in that language rather than its stored value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from metabiz.flows import directory, notifications
from metabiz.flows.actions.base import Action, Run, Scope, register
from metabiz.flows.formula import FlowFormula, Subject, text
from metabiz.flows.recipients import Recipient, from_json, resolve_all

#: one formula per language ("" when the text is the same in every language)
Texts = dict[str, FlowFormula]


@register
class Notify(Action):
    name = "notify"

    def __init__(self, where: Any, to: list[Recipient], subject: Texts | None,
                 message: Texts, email_to: FlowFormula | None = None) -> None:
        super().__init__(where)
        self.to = to
        self.subject = subject
        self.message = message
        self.email_to = email_to

    @classmethod
    def compile(cls, params: Mapping[str, Any], scope: Scope) -> Notify:
        subject = _texts(params["subject"], scope, "subject") if params.get("subject") \
            else None
        email_to = scope.formula(params["email_to"], "email_to") if params.get("email_to") \
            else None
        return cls(scope.where, [from_json(r) for r in params["to"]], subject,
                   _texts(params["message"], scope, "message"), email_to)

    def run(self, run: Run) -> None:
        record = run.subject
        if self.email_to is not None:
            self._email(run)
        users = resolve_all(self.to, record)
        if not users:
            return
        by_language: dict[str, list[str]] = {}
        for user in users:
            by_language.setdefault(directory.language_of(run.ctx.conn, user), []).append(user)
        for lang, readers in sorted(by_language.items()):
            labelled = _labelled(record, lang)
            notifications.send(
                run.ctx.conn, readers, now=run.ctx.now,
                subject=_render(self.subject, labelled, lang) if self.subject else None,
                message=_render(self.message, labelled, lang) or "",
                object_name=record.obj.name, record_id=record.record_id, source=run.source)


    def _email(self, run: Run) -> None:
        """E-mail someone who is not a user (a customer's contact), in the owner's language;
        the owner is told instead when no mail server is configured."""
        record = run.subject
        address = text(self.email_to.value(record)).strip() if self.email_to else ""
        if not address:
            return
        owner = record.values.get("owner")
        lang = directory.language_of(run.ctx.conn, owner) if owner else "en"
        labelled = _labelled(record, lang)
        notifications.email(
            run.ctx.conn, address, now=run.ctx.now,
            subject=_render(self.subject, labelled, lang) if self.subject else None,
            message=_render(self.message, labelled, lang) or "", fallback=owner,
            object_name=record.obj.name, record_id=record.record_id, source=run.source)


def _texts(raw: Any, scope: Scope, part: str) -> Texts:
    if isinstance(raw, str):
        return {"": scope.formula(raw, part)}
    return {lang: scope.formula(source, part, lang) for lang, source in raw.items()}


def _render(texts: Texts, record: Subject, lang: str) -> str:
    formula = texts.get(lang) or texts.get("") or texts.get("en") or \
        next(iter(texts.values()))
    return text(formula.value(record))


def _labelled(record: Subject, lang: str) -> Subject:
    """The record as a message shows it to a reader of `lang`: picklists by their label."""
    values = dict(record.values)
    for name, cf in record.obj.fields.items():
        if cf.fdef.values and values.get(name) is not None:
            labels = {v.value: v.label.get(lang) for v in cf.fdef.values}
            current = values[name]
            if isinstance(current, str):
                values[name] = labels.get(current, current)
            elif isinstance(current, list | tuple):
                values[name] = type(current)(labels.get(v, v) for v in current)
    return dataclasses.replace(record, values=values)


