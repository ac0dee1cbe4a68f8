"""An image attached to a record: a file field that must be a picture Pillow can read,
kept with a thumbnail that pages show (the value's `thumbnail_url`)."""

from __future__ import annotations

from metabiz.objects.fields.base import register
from metabiz.objects.fields.file import File

#: extensions an image field accepts when its `accept` does not say
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp")


@register
class Image(File):
    name = "image"
    widget = "image_upload"
    image = True

    def accepts(self, f, filename: str) -> bool:  # type: ignore[no-untyped-def]
        if f.accept:
            return super().accepts(f, filename)
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return extension in IMAGE_EXTENSIONS
