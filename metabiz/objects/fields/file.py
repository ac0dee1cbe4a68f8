"""A file attached to a record: stored by the file storage, described by its name, size and
content type in the record's column (JSON text); uploaded through the files endpoint only.

`max_size_mb` (default 10) and `accept` (extensions) limit what may be uploaded.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Text

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

DEFAULT_MAX_MB = 10


class StoredFile(str):
    """A stored file's description. As text (formulas, search, TEXT()) it is its name;
    two are equal only when they are the same stored file (same key)."""

    key: str
    size: int
    content_type: str
    url: str
    thumbnail: str | None

    def __new__(cls, name: str, *, key: str, size: int, content_type: str, url: str,
                thumbnail: str | None = None) -> StoredFile:
        value = super().__new__(cls, name)
        value.key, value.size, value.content_type = key, size, content_type
        value.url, value.thumbnail = url, thumbnail
        return value

    @property
    def name(self) -> str:
        return str.__str__(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoredFile) and other.key == self.key

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.key)

    def stored(self) -> dict[str, Any]:
        out = {"name": self.name, "key": self.key, "size": self.size,
               "content_type": self.content_type, "url": self.url}
        if self.thumbnail:
            out["thumbnail"] = self.thumbnail
        return out

    @classmethod
    def of(cls, data: dict[str, Any]) -> StoredFile:
        return cls(str(data["name"]), key=str(data["key"]), size=int(data["size"]),
                   content_type=str(data["content_type"]), url=str(data["url"]),
                   thumbnail=data.get("thumbnail"))


class _Cleared:
    """What the files endpoint writes to empty a file field (JSON cannot say it)."""

    def __repr__(self) -> str:
        return "CLEARED"


CLEARED = _Cleared()


class _Upload(ma.Field):
    """Accepts only what the files endpoint hands the record service: JSON input cannot
    set a file, so the API and forms go through the upload."""

    default_error_messages = {
        "upload": "upload the file with POST /api/v1/records/<object>/<id>/files/<field>",
        "null": "delete the file with DELETE /api/v1/records/<object>/<id>/files/<field>"}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, StoredFile) or value is CLEARED:
            return value
        raise self.make_error("upload")


@register
class File(FieldType):
    name = "file"
    formula_type = FType.TEXT
    widget = "file"
    converts_to = frozenset()
    #: what the value's JSON carries beyond name, size, content type and URL
    image = False

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> Text:
        return Text()

    def max_bytes(self, f: FieldDef) -> int:
        return int((f.max_size_mb or DEFAULT_MAX_MB) * 1024 * 1024)

    def accepts(self, f: FieldDef, filename: str) -> bool:
        wanted = {a.lower().lstrip(".") for a in f.accept}
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return not wanted or extension in wanted

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return _Upload(allow_none=False)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return None if value is CLEARED else value

    def to_db(self, f: FieldDef, value: Any) -> Any:
        return None if value is None else json.dumps(value.stored(), ensure_ascii=False)

    def from_db(self, f: FieldDef, value: Any) -> Any:
        if value is None or isinstance(value, StoredFile):
            return value
        return StoredFile.of(json.loads(value))

    def to_json(self, f: FieldDef, value: Any) -> Any:
        if not isinstance(value, StoredFile):
            return None
        out: dict[str, Any] = {"name": value.name, "size": value.size,
                               "content_type": value.content_type, "url": value.url}
        if self.image:
            out["thumbnail_url"] = value.url + "?thumbnail=1" if value.thumbnail else value.url
        return out

    def as_text(self, f: FieldDef, value: Any) -> str | None:
        return None if value is None else str.__str__(value)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "object", "readOnly": True, "nullable": True,
                "description": "uploaded with POST .../files/<field> (multipart `file`)",
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"},
                               "content_type": {"type": "string"},
                               "url": {"type": "string"}}}
