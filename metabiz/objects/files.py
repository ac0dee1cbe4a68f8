"""Files and images of records: upload (size, extension and picture checks, thumbnails),
download with the record's read access, removal — each a write through the record service.

Blobs go to the file storage (file_storage.py) before the write; the blobs a write leaves
behind (replaced, removed, or of a deleted record) are deleted once it has committed, and
the blobs it stored are deleted when it rolls back (the unit of work calls both hooks).
"""

from __future__ import annotations

import io
import logging
import mimetypes
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from metabiz.errors import NotFound, TooLarge, ValidationError
from metabiz.objects import records
from metabiz.objects.context import Context, WriteEvent
from metabiz.objects.fields.file import CLEARED, File, StoredFile
from metabiz.objects.file_storage import FileStorage
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.platform.api import API_PREFIX

log = logging.getLogger(__name__)

#: where a unit of work collects the blobs to delete once it has committed
OBSOLETE = "files.obsolete"
#: where it collects the blobs it stored, to delete if it rolls back
FRESH = "files.fresh"
THUMBNAIL_SIZE = (320, 320)
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
#: Pillow's formats → the content type a download gets
_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                "WEBP": "image/webp"}


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str
    name: str
    inline: bool  # an image shows in the page; anything else downloads


def file_field(obj: CompiledObject, name: str) -> CompiledField:
    cf = obj.fields.get(name)
    if cf is None or not isinstance(cf.ftype, File):
        raise NotFound(f"{obj.name} has no file or image field {name!r}")
    return cf


def attach(ctx: Context, storage: FileStorage, object_name: str, record_id: Any, field: str,
           filename: str, data: bytes, content_type: str | None = None) -> dict[str, Any]:
    """Stores `data` as the file of `field` and writes it to the record (edit right, field
    rules and record lock as for any edit); returns the record as JSON."""
    obj = ctx.schema.object(object_name)
    cf = file_field(obj, field)
    ftype = cf.ftype
    assert isinstance(ftype, File)
    ctx.schema.access.require(ctx.actor, obj.name, "edit")
    record = records.load(ctx, obj, record_id)  # 404 before anything is stored
    name = _safe_name(filename)
    lang = ctx.language
    if not name:
        raise ValidationError("no file", fields={field: [_text("no_file", lang)]})
    if not ftype.accepts(cf.fdef, name):
        allowed = ", ".join(cf.fdef.accept) or "jpg, jpeg, png, gif, webp"
        raise ValidationError("file type not accepted", fields={
            field: [_text("extension", lang).format(allowed=allowed)]})
    if len(data) > ftype.max_bytes(cf.fdef):
        raise TooLarge("file too large", fields={field: [_text("too_large", lang).format(
            mb=f"{ftype.max_bytes(cf.fdef) / 1024 / 1024:g}")]})
    if not data:
        raise ValidationError("empty file", fields={field: [_text("empty", lang)]})
    key = f"{obj.name}/{record['id']}/{field}/{uuid.uuid4().hex}/{name}"
    thumbnail = None
    fresh = ctx.cache.setdefault(FRESH, [])
    if ftype.image:
        content_type, thumb = _picture(data, field, lang)
        thumbnail = key + ".thumb.png"
        fresh.append(thumbnail)
        storage.put(thumbnail, thumb, "image/png")
    else:
        content_type = (mimetypes.guess_type(name)[0] or content_type
                        or "application/octet-stream")
    fresh.append(key)
    storage.put(key, data, content_type)
    stored = StoredFile(name, key=key, size=len(data), content_type=content_type,
                        url=f"{API_PREFIX}/records/{obj.name}/{record['id']}/files/{field}",
                        thumbnail=thumbnail)
    try:
        saved = records.update(ctx, obj.name, record["id"], {field: stored})
    except Exception:  # gone now, even if the caller goes on and commits the rest
        for gone in (key, thumbnail):
            if gone:
                storage.delete(gone)
                fresh.remove(gone)
        raise
    forget(ctx, [record.get(field)])
    return saved


def remove(ctx: Context, object_name: str, record_id: Any, field: str) -> dict[str, Any]:
    """Empties the field (its blob is deleted once the write commits)."""
    obj = ctx.schema.object(object_name)
    file_field(obj, field)
    record = records.load(ctx, obj, record_id)
    saved = records.update(ctx, obj.name, record["id"], {field: CLEARED})
    forget(ctx, [record.get(field)])
    return saved


def download(ctx: Context, storage: FileStorage, object_name: str, record_id: Any,
             field: str, *, thumbnail: bool = False) -> Download:
    """The file of a record the actor may read (a field hidden from them is not there)."""
    obj = ctx.schema.object(object_name)
    cf = file_field(obj, field)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    if field in ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields):
        raise NotFound(f"{obj.name} has no file or image field {field!r}")
    value = records.load(ctx, obj, record_id).get(field)
    if not isinstance(value, StoredFile):
        raise NotFound(f"no file in {obj.name}.{field} of record {record_id}")
    if thumbnail and value.thumbnail:
        return Download(storage.get(value.thumbnail), "image/png", value.name, True)
    image = isinstance(cf.ftype, File) and cf.ftype.image
    return Download(storage.get(value.key), value.content_type, value.name, image)


def forget(ctx: Context, values: Iterable[Any]) -> None:
    """Marks stored files to delete once the unit of work commits."""
    pending = ctx.cache.setdefault(OBSOLETE, [])
    for value in values:
        if isinstance(value, StoredFile):
            pending.append(value.key)
            if value.thumbnail:
                pending.append(value.thumbnail)


def on_write(ctx: Context, event: WriteEvent) -> None:
    """A deleted record's files go once the delete commits (a write listener)."""
    if event.kind == "deleted" and event.before is not None:
        forget(ctx, [v for v in event.before.values() if isinstance(v, StoredFile)])


def delete_obsolete(cache: Mapping[Any, Any], storage: FileStorage) -> None:
    """After commit: delete the blobs the unit of work left behind (a failure is logged;
    the record is already right, and `metabiz files sweep` finds the blob later)."""
    _delete_quietly(cache.get(OBSOLETE, ()), storage)


def delete_fresh(cache: Mapping[Any, Any], storage: FileStorage) -> None:
    """After rollback: delete the blobs the unit of work stored (no record names them)."""
    _delete_quietly(cache.get(FRESH, ()), storage)


def _delete_quietly(keys: Iterable[str], storage: FileStorage) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception as err:  # the store being down must not turn into a failed request
            log.warning("could not delete stored file %s: %s", key, err)


def _safe_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = _UNSAFE.sub("_", name).strip(". ")
    return name[-120:]


def _picture(data: bytes, field: str, lang: str) -> tuple[str, bytes]:
    """The content type of a picture Pillow can read, and its thumbnail as PNG."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as picture:
            kind = _IMAGE_TYPES.get(picture.format or "")
            if kind is None:
                raise ValueError(picture.format)
            picture.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            picture.convert("RGBA" if "A" in picture.getbands() else "RGB").save(out, "PNG")
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError,
            Image.DecompressionBombError):
        raise ValidationError("not an image", fields={field: [_text("not_image", lang)]}) \
            from None
    return kind, out.getvalue()


_TEXTS = {
    "no_file": {"en": "choose a file", "zh": "请选择文件"},
    "empty": {"en": "the file is empty", "zh": "文件为空"},
    "extension": {"en": "only these file types: {allowed}", "zh": "仅支持以下文件类型：{allowed}"},
    "too_large": {"en": "the file is larger than {mb} MB", "zh": "文件超过 {mb} MB"},
    "not_image": {"en": "not a picture (JPEG, PNG, GIF or WebP)",
                  "zh": "不是图片（支持 JPEG、PNG、GIF、WebP）"},
}


def _text(key: str, lang: str) -> str:
    return _TEXTS[key].get(lang, _TEXTS[key]["en"])
