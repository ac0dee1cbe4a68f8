"""Flow definitions as a kind of metadata document: `flows/*.json` (approval flows, automation
rules, assignment rules) — their schemas, frozen dataclasses, builder and cross-document checks.

`FLOW_KIND` is what `metabiz.flows.extension.register` adds to the kernel's extension points.
"""

from __future__ import annotations

from pathlib import Path

from metabiz.flows.definitions.builders import build_flow
from metabiz.flows.definitions.checks import FLOW, check_flow
from metabiz.flows.definitions.model import (
    ActionDef,
    ApprovalFlowDef,
    ApprovalStepDef,
    ApproverDef,
    AssignmentEntryDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FlowDef,
    TriggerDef,
)
from metabiz.platform.extensions import DocumentKind

SCHEMA_DIR = Path(__file__).with_name("schemas")

FLOW_KIND = DocumentKind(name=FLOW, folder="flows", schema=SCHEMA_DIR / "flow.json",
                         build=build_flow, check=check_flow, marker="kind")

__all__ = ["ActionDef", "ApprovalFlowDef", "ApprovalStepDef", "ApproverDef",
           "AssignmentEntryDef", "AssignmentRuleDef", "AutomationRuleDef", "FLOW", "FLOW_KIND",
           "FlowDef", "TriggerDef", "build_flow", "check_flow"]
