"""`metabiz.flows.extension.register` plugs flows into the kernel: `flows/*.json` becomes a document
kind the loader reads, validates and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from metabiz.errors import MetadataError
from metabiz.flows.definitions import AssignmentRuleDef
from metabiz.flows.extension import register
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.loader import load_path

FLOWAPP = Path(__file__).resolve().parent / "fixtures" / "flowapp"


def test_register_adds_the_flow_document_kind() -> None:
    ext = Extensions()
    register(ext)
    [kind] = ext.document_kinds
    assert ext.listeners and ext.checks and ext.panels and ext.nav and ext.commands
    assert (kind.name, kind.folder, kind.marker) == ("flow", "flows", "kind")
    bundle = load_path(FLOWAPP, kinds=ext.document_kinds)
    assert isinstance(bundle.definition("flow", "lead_routing"), AssignmentRuleDef)
    assert len(bundle.definitions("flow")) == len(list((FLOWAPP / "flows").glob("*.json")))
    with pytest.raises(MetadataError, match="unknown folder 'flows'"):
        load_path(FLOWAPP)  # the kernel alone does not read flows
