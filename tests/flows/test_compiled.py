"""Flow formulas are checked once per metadata version; problems name the file, the JSON
path and the position, and keep the broken flow's object from running half its rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metabiz.errors import MetadataError
from metabiz.flows.compiled import check_flows, flows_of
from metabiz.flows.definitions import FLOW_KIND
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.metadata.loader import load_path

FLOWAPP = Path(__file__).resolve().parent / "fixtures" / "flowapp"


def schema_with(tmp_path, name: str, change) -> RuntimeSchema:
    folder = tmp_path / "app"
    shutil.copytree(FLOWAPP, folder)
    path = folder / "flows" / f"{name}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return RuntimeSchema(1, load_path(folder, kinds=[FLOW_KIND]), dialect="sqlite")


def test_the_test_app_compiles():
    schema = RuntimeSchema(1, load_path(FLOWAPP, kinds=[FLOW_KIND]), dialect="sqlite")
    assert check_flows(schema) == []
    compiled = flows_of(schema)
    assert compiled is flows_of(schema)  # cached per schema version
    assert [f.name for f in compiled.approval_flows("opportunity")] == [
        "big_deal_approval", "discount_approval"]
    assert compiled.assignment_rule("lead_routing").on_create is True
    assert compiled.approval_flow("lead_routing") is None


@pytest.mark.parametrize(("name", "change", "expected"), [
    ("ticket_closed", lambda d: d.update(condition="ISPICKVAL(statuss, \"closed\")"),
     "flows/ticket_closed.json: /condition: 1:11: unknown field 'statuss' on ticket"),
    ("discount_approval",
     lambda d: d["steps"][1].update(condition="discount > \"twenty\""),
     "flows/discount_approval.json: /steps/1/condition: "),
    ("won_followup",
     lambda d: d["actions"][0]["create"]["values"].update(due_date="name"),
     "flows/won_followup.json: /actions/0/create/values/due_date: "),
])
def test_problems_name_file_path_and_position(tmp_path, name, change, expected):
    schema = schema_with(tmp_path, name, change)
    [problem] = check_flows(schema)
    assert problem.startswith(expected), problem
    compiled = flows_of(schema)
    obj = next(f.object for f in schema.bundle.definitions("flow") if f.api_name == name)
    with pytest.raises(MetadataError) as raised:
        compiled.automation_rules(obj)
    assert raised.value.problems == [problem]
