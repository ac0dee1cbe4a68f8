"""Templates as zip files for the builder: the applied metadata downloaded as a template
folder, and an uploaded template applied like `metabiz apply` of its folder.

An upload is read whole into memory and checked (JSON files only, no paths outside the
folder, a size limit) before anything is written to a private temporary folder.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Engine

from metabiz.builder_ui.problems import explain
from metabiz.errors import BadRequest, MetadataError
from metabiz.objects.evolution import Plan, apply_path
from metabiz.objects.installer import export
from metabiz.platform.extensions import Extensions

#: the most an uploaded template may hold, uncompressed
MAX_TEMPLATE_BYTES = 20 * 1024 * 1024


def export_zip(engine: Engine) -> bytes:
    """The current metadata as a zip of template folders (what `template export` writes)."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="metabiz-export-") as folder:
        written = export(engine, folder)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(written) + sorted(Path(folder).glob("**/app.json")):
                name = path.relative_to(folder).as_posix()
                if name not in archive.namelist():
                    archive.write(path, name)
    return buffer.getvalue()


def read_zip(data: bytes) -> dict[str, Any]:
    """The JSON documents of an uploaded template, by their path in the template folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadRequest("the file is not a zip archive",
                         fields={"file": ["not a zip archive"]}) from None
    entries = [i for i in archive.infolist() if not i.is_dir()
               and not PurePosixPath(i.filename).name.startswith(".")
               and "__MACOSX" not in i.filename]
    if sum(i.file_size for i in entries) > MAX_TEMPLATE_BYTES:
        raise BadRequest("the template is larger than 20 MB unpacked",
                         fields={"file": ["too large"]})
    names = [PurePosixPath(i.filename) for i in entries]
    if any(p.is_absolute() or ".." in p.parts for p in names):
        raise BadRequest("the zip holds paths outside its folder", fields={"file": ["unsafe"]})
    # a zipped folder: take its files as the template's
    tops = {p.parts[0] for p in names}
    strip = len(tops) == 1 and not any(len(p.parts) == 1 for p in names)
    documents: dict[str, Any] = {}
    for info, path in zip(entries, names, strict=True):
        rel = PurePosixPath(*path.parts[1:]) if strip else path
        if rel.suffix != ".json":
            continue
        try:
            documents[rel.as_posix()] = json.loads(archive.read(info).decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as err:
            raise MetadataError([f"{rel}: /: not valid JSON ({err})"]) from None
    if not documents:
        raise BadRequest("the zip holds no metadata (.json) files",
                         fields={"file": ["no metadata"]})
    return documents


def apply_template(engine: Engine, extensions: Extensions, documents: dict[str, Any], *,
                   dry_run: bool, applied_by: str) -> Plan:
    """Apply a template's documents exactly as `metabiz apply FOLDER` would."""
    with tempfile.TemporaryDirectory(prefix="metabiz-import-") as folder:
        root = Path(folder) / "template"
        for rel, doc in documents.items():
            target = root / rel
            if not target.resolve().is_relative_to(root.resolve()):
                raise BadRequest(f"{rel}: a path outside the template")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        try:
            return apply_path(engine, root, extensions=extensions, applied_by=applied_by,
                              dry_run=dry_run)
        except MetadataError as err:
            raise explain(err, None) from None
