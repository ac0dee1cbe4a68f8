"""The permission matrix: roles × objects × rights × field rules × own/all record access.

Expectations are derived from the role metadata below by an oracle written for this test,
then checked for every user, object, record and field through the record service and the
REST API, on SQLite and PostgreSQL. Each leak once found has its own test.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.security import generate_password_hash

from metabiz.app import build_runtime, create_app
from metabiz.errors import MetabizError
from metabiz.objects import query, records
from metabiz.objects.api import describe
from metabiz.objects.evolution import apply_path
from metabiz.platform import auth
from metabiz.platform.auth import create_token, create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer
from metabiz.platform.extensions import Extensions

# -- the metadata ----------------------------------------------------------------------

ROLES: dict[str, dict[str, Any]] = {
    "rep": {"objects": {"account": ["read"], "deal": ["read", "create", "edit"],
                        "line": ["read", "create", "edit", "delete"]},
            "record_access": "own",
            "fields": {"deal.margin": "hidden", "deal.discount": "read_only",
                       "account.credit_limit": "hidden", "account.secret_note": "hidden"}},
    "manager": {"objects": {"account": ["read", "create", "edit"],
                            "deal": ["read", "create", "edit", "delete"],
                            "line": ["read", "create", "edit"]},
                "record_access": "own",
                "fields": {"deal.margin": "read_only", "account.credit_limit": "read_only"}},
    "auditor": {"objects": {"account": ["read"], "deal": ["read"], "line": ["read"],
                            "memo": ["read", "create", "edit", "delete", "export"]},
                "record_access": "all",
                "fields": {"deal.discount": "hidden", "account.secret_note": "hidden"}},
}

OBJECTS: dict[str, list[dict[str, Any]]] = {
    "account": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "region", "type": "text"},
        {"api_name": "credit_limit", "type": "currency"},
        {"api_name": "secret_note", "type": "text"},
        {"api_name": "risk", "type": "formula", "return_type": "currency",
         "formula": "credit_limit * 2"},
        {"api_name": "pipeline", "type": "rollup", "child_object": "deal",
         "relationship_field": "account", "function": "sum", "field": "amount"},
        {"api_name": "margin_total", "type": "rollup", "child_object": "deal",
         "relationship_field": "account", "function": "sum", "field": "margin"},
    ],
    "deal": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "account", "type": "lookup", "target": "account", "on_delete": "set_null"},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "discount", "type": "percent"},
        {"api_name": "margin", "type": "currency"},
        {"api_name": "code", "type": "text"},
        {"api_name": "weighted", "type": "formula", "return_type": "currency",
         "formula": "amount * 2"},
        {"api_name": "margin_x2", "type": "formula", "return_type": "currency",
         "formula": "margin * 2"},
        {"api_name": "account_limit", "type": "formula", "return_type": "currency",
         "formula": "account.credit_limit"},
        {"api_name": "account_region", "type": "formula", "return_type": "text",
         "formula": "account.region"},
    ],
    "memo": [
        {"api_name": "title", "type": "text", "required": True},
        {"api_name": "body", "type": "long_text"},
    ],
    # a detail of deal: its records follow their deal's access, not their own owner's
    "line": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "deal", "type": "master_detail", "target": "deal", "required": True},
        {"api_name": "note", "type": "text"},
    ],
}

#: what each computed field reads ("object.field"), as the formulas above say
READS: dict[str, list[str]] = {
    "account.risk": ["account.credit_limit"],
    "account.pipeline": ["deal.amount", "deal.account"],
    "account.margin_total": ["deal.margin", "deal.account"],
    "deal.weighted": ["deal.amount"],
    "deal.margin_x2": ["deal.margin"],
    "deal.account_limit": ["deal.account", "account.credit_limit"],
    "deal.account_region": ["deal.account", "account.region"],
}
COMPUTED = {node.partition(".")[2] for node in READS}

#: name → (roles, manager): a three-level chain vp ← mgr ← rep1/rep2, and others beside it
USERS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "admin": (("admin",), None),
    "vp": (("manager",), None),
    "mgr": (("manager",), "vp"),
    "rep1": (("rep",), "mgr"),
    "rep2": (("rep",), "mgr"),
    "solo": (("rep",), None),
    "aud": (("auditor",), None),
    "mixed": (("rep", "auditor"), "rep1"),
    "nobody": ((), None),
}
#: every object has one record owned by each of these
OWNERS = ("admin", "vp", "mgr", "rep1", "rep2", "solo")
NAME_FIELD = {"account": "name", "deal": "name", "memo": "title", "line": "name"}
#: a writable field without rules, for the "may edit" checks
PLAIN_FIELD = {"account": "region", "deal": "code", "memo": "body", "line": "note"}
#: each owner's line sits under the deal of the next owner, so that a line's own owner
#: and its master's owner differ and the matrix tells the two rules apart
MASTER_OWNER = {owner: OWNERS[(i + 1) % len(OWNERS)] for i, owner in enumerate(OWNERS)}


def secret_values(index: int) -> dict[str, dict[str, Any]]:
    """Distinctive final values per object, so that a leak shows up in any response text."""
    return {
        "account": {"region": f"region-{index}", "credit_limit": 313131.31 + index * 1000,
                    "secret_note": f"classified-{index}-note"},
        "deal": {"amount": 100 + index, "discount": 12.34 + index,
                 "margin": round(4242.42 + index * 1111.11, 2), "code": f"C-{index}"},
        "memo": {"body": f"memo body {index}"},
        "line": {"note": f"line note {index}"},
    }


# -- the oracle ------------------------------------------------------------------------


def rights(user: str, obj: str) -> set[str]:
    roles = USERS[user][0]
    if "admin" in roles:
        return {"read", "create", "edit", "delete", "export", "import"}
    return {r for role in roles for r in ROLES[role]["objects"].get(obj, [])}


def team(user: str) -> set[str]:
    members, changed = {user}, True
    while changed:
        changed = False
        for name, (_, manager) in USERS.items():
            if manager in members and name not in members:
                members.add(name)
                changed = True
    return members


def visible_owners(user: str, obj: str) -> set[str]:
    """The owners of the records of `obj` the user sees (a line is seen with its deal)."""
    roles = USERS[user][0]
    if "admin" in roles:
        return set(OWNERS)
    reading = [ROLES[r] for r in roles if "read" in ROLES[r]["objects"].get(obj, [])]
    if any(r["record_access"] == "all" for r in reading):
        return set(OWNERS)
    if obj == "line":  # controlled by parent: the line's own owner grants nothing
        deals = visible_owners(user, "deal")
        return {owner for owner in OWNERS if MASTER_OWNER[owner] in deals}
    return team(user) & set(OWNERS)


def rule(user: str, obj: str, name: str) -> str | None:
    roles = USERS[user][0]
    if "admin" in roles:
        return None
    node = f"{obj}.{name}"
    relevant = [ROLES[r] for r in roles if ROLES[r]["objects"].get(obj) or node in
                ROLES[r]["fields"]]
    found = [r["fields"].get(node) for r in relevant]
    if not found or None in found:
        return None
    return "read_only" if "read_only" in found else "hidden"


def derived_hidden(user: str, obj: str, name: str) -> bool:
    """A computed value reading a field hidden from the user (a leak unless hidden too)."""
    reads = READS.get(f"{obj}.{name}", [])
    return rule(user, obj, name) != "hidden" and any(
        rule(user, *node.split(".")) == "hidden" for node in reads)


def field_names(obj: str) -> list[str]:
    return [f["api_name"] for f in OBJECTS[obj]]


# -- the world: metadata, users, one record per owner ----------------------------------



def write_app(folder) -> None:
    (folder / "objects").mkdir(parents=True)
    (folder / "roles").mkdir()
    (folder / "app.json").write_text(json.dumps(
        {"name": "perm", "version": "1.0.0", "label": "Permissions"}))
    for name, fields in OBJECTS.items():
        (folder / "objects" / f"{name}.json").write_text(json.dumps(
            {"api_name": name, "label": name.title(), "name_field": NAME_FIELD[name],
             "fields": fields}))
    for name, role in ROLES.items():
        (folder / "roles" / f"{name}.json").write_text(json.dumps({"api_name": name, **role}))


Result = tuple[int, Any]


class Service:
    """Calls the record service directly, as the UI, the CLI and flows do."""

    name = "service"

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.runtime = build_runtime(engine)

    def _run(self, user: str, ok: int, work: Callable[[Any], Any]) -> Result:
        try:
            with writer(self.engine).begin() as conn:
                body = work(self.runtime.context(conn, load_actor(conn, user)))
        except MetabizError as err:
            return err.status, err.to_dict()
        return ok, body

    def list(self, user: str, obj: str, **params: str) -> Result:
        def work(ctx: Any) -> Any:
            page = query.list_records(ctx, obj, **params)
            return {"records": page.records, "total": page.total}
        return self._run(user, 200, work)

    def get(self, user: str, obj: str, record_id: int) -> Result:
        return self._run(user, 200, lambda ctx: records.get(ctx, obj, record_id))

    def history(self, user: str, obj: str, record_id: int) -> Result:
        return self._run(user, 200,
                         lambda ctx: {"history": records.history(ctx, obj, record_id)})

    def create(self, user: str, obj: str, body: dict[str, Any]) -> Result:
        return self._run(user, 201, lambda ctx: records.create(ctx, obj, body))

    def update(self, user: str, obj: str, record_id: int, body: dict[str, Any]) -> Result:
        return self._run(user, 200, lambda ctx: records.update(ctx, obj, record_id, body))

    def delete(self, user: str, obj: str, record_id: int) -> Result:
        return self._run(user, 204, lambda ctx: records.delete(ctx, obj, record_id))

    def meta(self, user: str, obj: str) -> Result:
        def work(ctx: Any) -> Any:
            compiled = ctx.schema.object(obj)
            ctx.schema.access.require(ctx.actor, obj, "read")
            return describe(ctx, compiled)
        return self._run(user, 200, work)


class Api:
    """Calls the REST API with each user's bearer token."""

    name = "api"

    def __init__(self, client: Any, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def _call(self, user: str, method: str, path: str, body: Any = None) -> Result:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body), "application/json"
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, data=data)
        return response.status_code, response.get_json(silent=True)

    def list(self, user: str, obj: str, **params: str) -> Result:
        suffix = f"?{urlencode(params)}" if params else ""
        return self._call(user, "GET", f"/records/{obj}{suffix}")

    def get(self, user: str, obj: str, record_id: int) -> Result:
        return self._call(user, "GET", f"/records/{obj}/{record_id}")

    def history(self, user: str, obj: str, record_id: int) -> Result:
        return self._call(user, "GET", f"/records/{obj}/{record_id}/history")

    def create(self, user: str, obj: str, body: dict[str, Any]) -> Result:
        return self._call(user, "POST", f"/records/{obj}", body)

    def update(self, user: str, obj: str, record_id: int, body: dict[str, Any]) -> Result:
        return self._call(user, "PATCH", f"/records/{obj}/{record_id}", body)

    def delete(self, user: str, obj: str, record_id: int) -> Result:
        return self._call(user, "DELETE", f"/records/{obj}/{record_id}")

    def meta(self, user: str, obj: str) -> Result:
        return self._call(user, "GET", f"/meta/objects/{obj}")


@dataclass
class World:
    service: Service
    api: Api
    #: (object, owner) → record id
    ids: dict[tuple[str, str], int] = field(default_factory=dict)

    def driver(self, name: str) -> Service | Api:
        return self.service if name == "service" else self.api

    def new_record(self, obj: str, owner: str, **values: Any) -> int:
        """A record made by the administrator for `owner` (a line under its deal)."""
        if obj == "line":
            values.setdefault("deal", self.ids["deal", MASTER_OWNER[owner]])
        status, body = self.service.create("admin", obj, {
            NAME_FIELD[obj]: f"{obj} of {owner}", "owner": owner, **values})
        assert status == 201, body
        return int(body["id"])


def build_world(db_url: str, tmp_path: Any, monkeypatch: Any,
                extensions: Extensions) -> Iterator[World]:
    # Real password hashing costs ~0.3 s a user; these tests are about access, not hashing.
    monkeypatch.setattr(auth, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    write_app(tmp_path / "perm")
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    engine = app.extensions["metabiz"].engine
    apply_path(engine, tmp_path / "perm", extensions=extensions)
    with writer(engine).begin() as conn:
        for name in USERS:  # managers first: the dict is in that order
            roles, manager = USERS[name]
            create_user(conn, name, f"{name}-pw", roles=roles, manager=manager)
        tokens = {name: create_token(conn, name) for name in USERS}
    service = Service(make_engine(db_url))
    made = World(service, Api(app.test_client(), tokens))
    for index, owner in enumerate(OWNERS):
        values = secret_values(index)
        account = made.new_record("account", owner, region="before", credit_limit=1,
                                  secret_note="before")
        deal = made.new_record("deal", owner, amount=1, discount=1, margin=1, code="before")
        values["deal"]["account"] = account
        memo = made.new_record("memo", owner, body="before")
        made.ids.update({("account", owner): account, ("deal", owner): deal,
                         ("memo", owner): memo})
        # Every stored field changes once, so that history has an entry for each of them.
        for obj, record_id in (("account", account), ("deal", deal), ("memo", memo)):
            status, body = service.update("admin", obj, record_id, {
                NAME_FIELD[obj]: f"{obj} {index} of {owner}", **values[obj]})
            assert status == 200, body
    for index, owner in enumerate(OWNERS):
        # made under the owner's own deal, then moved (so history holds every field)
        line = made.new_record("line", owner, note="before", deal=made.ids["deal", owner])
        made.ids["line", owner] = line
        status, body = service.update("admin", "line", line, {
            "name": f"line {index} of {owner}", "deal": made.ids["deal", MASTER_OWNER[owner]],
            **secret_values(index)["line"]})
        assert status == 200, body
    yield made
    service.engine.dispose()
    engine.dispose()


@pytest.fixture
def world(db_url, tmp_path, monkeypatch, extensions) -> Iterator[World]:
    yield from build_world(db_url, tmp_path, monkeypatch, extensions)


# -- the matrix ------------------------------------------------------------------------


class Findings:
    """Mismatches collected over the whole matrix, reported together."""

    def __init__(self, driver: str) -> None:
        self.driver, self.items = driver, []

    def expect(self, what: str, got: Any, want: Any) -> bool:
        if got != want:
            self.items.append(f"{self.driver}: {what}: got {got!r}, expected {want!r}")
            return False
        return True

    def report(self) -> str:
        return f"{len(self.items)} mismatches:\n" + "\n".join(self.items[:60])


def secrets_for(user: str) -> list[str]:
    """The distinctive values `user` must never receive (their fields are hidden to them)."""
    found = []
    for index in range(len(OWNERS)):
        for obj, values in secret_values(index).items():
            for name, value in values.items():
                if rule(user, obj, name) == "hidden":
                    found.append(json.dumps(value))
    return found


def strip_known_leaks(user: str, obj: str, body: Any) -> Any:
    """Drop computed fields that read hidden ones: their leak has its own test."""
    leaking = {n for n in COMPUTED if derived_hidden(user, obj, n)}
    if isinstance(body, dict) and "records" in body:
        return {**body, "records": [strip_known_leaks(user, obj, r) for r in body["records"]]}
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in leaking}
    return body


def check_reads(world: World, driver: Service | Api, found: Findings) -> None:
    for user in USERS:
        forbidden_text = secrets_for(user)

        def leaks(what: str, obj: str, body: Any, user: str = user,
                  forbidden_text: list[str] = forbidden_text) -> None:
            text = json.dumps(strip_known_leaks(user, obj, body))
            for secret in forbidden_text:
                if secret in text:
                    found.items.append(f"{driver.name}: {user} {what}: leaks {secret}")

        for obj in OBJECTS:
            can_read = "read" in rights(user, obj)
            seen = visible_owners(user, obj)
            where = f"{user} {obj}"
            status, body = driver.list(user, obj)
            if not found.expect(f"{where} list status", status, 200 if can_read else 403):
                continue
            status, meta = driver.meta(user, obj)
            found.expect(f"{where} meta status", status, 200 if can_read else 403)
            if not can_read:
                for owner in OWNERS:
                    record_id = world.ids[obj, owner]
                    found.expect(f"{where} get", driver.get(user, obj, record_id)[0], 403)
                    found.expect(f"{where} history",
                                 driver.history(user, obj, record_id)[0], 403)
                continue
            leaks(f"list {obj}", obj, body)
            owners = sorted(r["owner"] for r in body["records"])
            found.expect(f"{where} list owners", owners, sorted(seen))
            found.expect(f"{where} list total", body["total"], len(seen))
            shown = {f["api_name"]: f for f in meta["fields"]}
            for name in field_names(obj):
                fr = rule(user, obj, name)
                what = f"{where}.{name}"
                if fr == "hidden":
                    found.expect(f"{what} in meta", name in shown, False)
                    found.expect(f"{what} sort", driver.list(user, obj, sort=name)[0], 403)
                    found.expect(f"{what} filter", driver.list(
                        user, obj, filter=f"NOT(ISBLANK({name}))")[0], 403)
                    for record in body["records"]:
                        found.expect(f"{what} in list output", name in record, False)
                    status, only = driver.list(user, obj, fields=f"{name},{NAME_FIELD[obj]}")
                    found.expect(f"{what} fields= status", status, 200)
                    found.expect(f"{what} through fields=", any(
                        name in r for r in only["records"]), False)
                elif not derived_hidden(user, obj, name):
                    found.expect(f"{what} in meta", name in shown, True)
                    if name in shown:
                        writable = name not in COMPUTED and fr is None
                        found.expect(f"{what} meta read_only", shown[name]["read_only"],
                                     not writable)
                    found.expect(f"{what} sort", driver.list(user, obj, sort=f"-{name}")[0],
                                 200)
                    found.expect(f"{what} filter", driver.list(
                        user, obj, filter=f"NOT(ISBLANK({name}))")[0], 200)
                    for record in body["records"]:
                        found.expect(f"{what} in list output", name in record, True)
            for owner in OWNERS:
                record_id = world.ids[obj, owner]
                status, record = driver.get(user, obj, record_id)
                if not found.expect(f"{where} get {owner}'s", status,
                                    200 if owner in seen else 404):
                    continue
                status, history = driver.history(user, obj, record_id)
                found.expect(f"{where} history of {owner}'s", status,
                             200 if owner in seen else 404)
                if owner not in seen:
                    found.expect(f"{where} 404 says nothing", json.dumps(record).count(
                        "before"), 0)
                    continue
                leaks(f"get {obj} of {owner}", obj, record)
                leaks(f"history {obj} of {owner}", obj, history)
                changed = {h["field"] for h in history["history"]}
                for name in field_names(obj):
                    if name in COMPUTED:
                        continue  # computed on read: never in history
                    hidden = rule(user, obj, name) == "hidden"
                    found.expect(f"{where} {owner}'s {name} shown", name in record, not hidden)
                    found.expect(f"{where} {owner}'s history has {name}", name in changed,
                                 not hidden)


def check_writes(world: World, driver: Service | Api, found: Findings) -> None:
    for user in USERS:
        for obj in OBJECTS:
            can = rights(user, obj)
            seen = visible_owners(user, obj)
            where = f"{user} {obj}"
            label = NAME_FIELD[obj]
            extra: dict[str, Any] = {}
            if obj == "line" and visible_owners(user, "deal"):  # under a deal they see
                extra["deal"] = world.ids["deal", sorted(visible_owners(user, "deal"))[0]]
            status, made = driver.create(user, obj, {label: f"made by {user}", **extra})
            if found.expect(f"{where} create", status, 201 if "create" in can else 403) \
                    and status == 201:
                found.expect(f"{where} create owner", made["owner"], user)
            for name in field_names(obj):
                fr = rule(user, obj, name)
                if fr is None or name in COMPUTED or "create" not in can:
                    continue
                status, err = driver.create(user, obj, {label: "x", name: None, **extra})
                found.expect(f"{where} create with {fr} {name}", status, 403)
                found.expect(f"{where} create names {name}",
                             name in (err or {}).get("error", {}).get("fields", {}), True)
            for owner in OWNERS:
                record_id = world.ids[obj, owner]
                want = 403 if "edit" not in can else (200 if owner in seen else 404)
                status, _ = driver.update(user, obj, record_id, {label: f"renamed by {user}"})
                found.expect(f"{where} edit {owner}'s", status, want)
                if want != 200:
                    continue
                status, _ = driver.update(user, obj, record_id,
                                          {PLAIN_FIELD[obj]: f"set by {user}"})
                found.expect(f"{where} edit {owner}'s {PLAIN_FIELD[obj]}", status, 200)
                for name in field_names(obj):
                    fr = rule(user, obj, name)
                    if fr is None or name in COMPUTED:
                        continue
                    status, err = driver.update(user, obj, record_id, {name: None})
                    found.expect(f"{where} write {fr} {owner}'s {name}", status, 403)
                    named = (err or {}).get("error", {}).get("fields", {})
                    found.expect(f"{where} write {fr} {name} named", name in named, True)
            for owner in OWNERS:
                doomed = world.new_record(obj, owner)
                want = 403 if "delete" not in can else (204 if owner in seen else 404)
                status, _ = driver.delete(user, obj, doomed)
                found.expect(f"{where} delete {owner}'s", status, want)
                still = world.service.get("admin", obj, doomed)[0]
                found.expect(f"{where} {owner}'s after delete", still,
                             404 if status == 204 else 200)


@pytest.mark.parametrize("driver", ["service", "api"])
def test_permission_matrix(world, driver):
    """Every user × object × record × field, reads first, then writes."""
    found = Findings(driver)
    check_reads(world, world.driver(driver), found)
    check_writes(world, world.driver(driver), found)
    assert not found.items, found.report()


def test_the_oracle_covers_every_case_it_should():
    """A guard on the matrix itself: the metadata exercises each kind of rule and scope."""
    assert team("vp") == {"vp", "mgr", "rep1", "rep2", "mixed"}  # three levels down
    assert visible_owners("vp", "deal") == {"vp", "mgr", "rep1", "rep2"}
    assert visible_owners("rep1", "deal") == {"rep1"}
    assert visible_owners("mixed", "deal") == set(OWNERS)  # the auditor's "all" wins
    assert rule("mixed", "deal", "margin") is None  # least restrictive of rep and auditor
    assert rule("mixed", "deal", "discount") == "read_only"
    assert rule("mgr", "deal", "margin") == "read_only"
    assert rights("nobody", "deal") == set() and rights("aud", "memo") >= {"read", "delete"}
    # a line follows its deal: rep1 sees mgr's line (under rep1's deal), not his own
    assert visible_owners("rep1", "line") == {"mgr"}
    assert visible_owners("mgr", "line") == {"vp", "mgr", "rep1"}
    assert visible_owners("aud", "line") == set(OWNERS)
    assert {n for u in USERS for o in OBJECTS for n in COMPUTED if derived_hidden(u, o, n)} \
        == {"risk", "margin_total", "margin_x2", "account_limit"}


# -- single paths ----------------------------------------------------------------------


def test_meta_lists_only_the_objects_a_user_may_read(world):
    for user in USERS:
        status, body = world.api._call(user, "GET", "/meta/objects")
        assert status == 200
        assert {o["api_name"] for o in body["objects"]} == {
            o for o in OBJECTS if "read" in rights(user, o)}, user
        for item in body["objects"]:
            assert set(item["permissions"]) == rights(user, item["api_name"]) - {"export", "import"}


def test_ownership_transfer_needs_edit_rights_and_is_recorded(world):
    api, deal = world.api, world.ids["deal", "rep1"]
    moved = api.update("rep1", "deal", deal, {"owner": "solo"})
    assert moved[0] == 200 and moved[1]["owner"] == "solo"
    assert api.get("rep1", "deal", deal)[0] == 404  # gone from rep1's view …
    assert api.get("mgr", "deal", deal)[0] == 404  # … and from the managers above him
    assert api.get("solo", "deal", deal)[0] == 200
    status, history = api.history("solo", "deal", deal)
    assert status == 200
    assert [(h["old"], h["new"], h["by"]) for h in history["history"]
            if h["field"] == "owner"] == [("rep1", "solo", "rep1")]
    # an account: rep1 may read it but not edit it, so he may not give it away either
    refused = api.update("rep1", "account", world.ids["account", "rep1"], {"owner": "solo"})
    assert refused[0] == 403
    assert api.get("rep1", "account", world.ids["account", "rep1"])[1]["owner"] == "rep1"
    bad = api.update("solo", "deal", deal, {"owner": "ghost"})
    assert bad[0] == 422 and "owner" in bad[1]["error"]["fields"]


def test_errors_name_the_field_not_its_value(world):
    status, body = world.api.update("rep1", "deal", world.ids["deal", "rep1"],
                                    {"margin": 1, "discount": 2, "code": "ok"})
    assert status == 403
    assert set(body["error"]["fields"]) == {"margin", "discount"}
    assert "4242" not in json.dumps(body) and "7575" not in json.dumps(body)
    # nothing was written: the whole request is refused
    assert world.api.get("rep1", "deal", world.ids["deal", "rep1"])[1]["code"] == "C-3"


def test_a_user_without_roles_sees_nothing_but_themselves(world):
    status, me = world.api._call("nobody", "GET", "/me")
    assert status == 200 and me["name"] == "nobody" and me["roles"] == []
    assert world.api._call("nobody", "GET", "/meta/objects")[1] == {"objects": []}
    for obj in OBJECTS:
        assert world.api.list("nobody", obj)[0] == 403


# -- computed values and hidden fields -------------------------------------------------


def test_computed_values_follow_hidden_fields(world: World) -> None:
    api = world.api
    deal, account = world.ids["deal", "rep1"], world.ids["account", "rep1"]
    got = api.get("rep1", "deal", deal)[1]
    assert "weighted" in got and "account_region" in got  # read visible fields only
    assert "margin_x2" not in got and "account_limit" not in got
    got = api.get("rep1", "account", account)[1]
    assert "pipeline" in got
    assert "risk" not in got and "margin_total" not in got
    # neither sort order nor a filter's total may reveal them
    assert api.list("rep1", "deal", sort="-margin_x2")[0] == 403
    assert api.list("rep1", "deal", filter="margin_x2 > 15000")[0] == 403
    assert api.list("rep1", "account", sort="risk")[0] == 403
    assert api.list("rep1", "account", filter="margin_total > 0")[0] == 403
    names = [f["api_name"] for f in api.meta("rep1", "deal")[1]["fields"]]
    assert "margin_x2" not in names and "account_limit" not in names
    # the auditor may see margins, so he sees what is computed from them
    assert "margin_x2" in api.get("aud", "deal", deal)[1]


def test_search_does_not_match_hidden_fields(world):
    status, body = world.api.list("rep1", "account", q="classified-3")
    assert status == 200
    assert body["total"] == 0 and body["records"] == []


def test_a_filter_cannot_test_a_hidden_field_behind_a_lookup(world):
    status, body = world.api.list("rep1", "deal", filter="account.credit_limit > 316000")
    assert status == 403, body
    assert "account.credit_limit" in body["error"]["fields"]


def test_evaluate_cannot_read_a_hidden_field_behind_a_lookup(world):
    status, body = world.api._call("rep1", "POST", "/formulas/evaluate", {
        "object": "deal", "formula": "account.credit_limit",
        "record": {"account": world.ids["account", "rep1"]}})
    assert status == 403 and "316131.31" not in json.dumps(body)


def test_evaluate_cannot_read_records_the_user_may_not_see(world):
    def evaluate(account_id: int) -> Result:
        return world.api._call("rep1", "POST", "/formulas/evaluate", {
            "object": "deal", "formula": "account.region", "record": {"account": account_id}})

    assert evaluate(world.ids["account", "rep1"])[1]["value"] == "region-3"  # his own
    unseen, missing = evaluate(world.ids["account", "solo"]), evaluate(999999)
    assert "region-5" not in json.dumps(unseen[1])
    assert unseen == missing  # an unseen record cannot be told from a missing one


def test_a_lookup_may_only_point_at_records_the_user_may_see(world):
    status, body = world.api.create("rep1", "deal", {
        "name": "Poach", "account": world.ids["account", "solo"]})
    missing = world.api.create("rep1", "deal", {"name": "Ghost", "account": 999999})
    assert status == missing[0] == 422
    assert "region-5" not in json.dumps(body)


def test_openapi_shows_only_what_the_user_may_read(world):
    status, spec = world.api._call("rep1", "GET", "/openapi.json")
    assert status == 200
    schemas = spec["components"]["schemas"]
    assert "memo" not in schemas
    assert "credit_limit" not in schemas["account"]["properties"]
