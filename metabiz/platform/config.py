"""Configuration: the database URL, the secret key and the instance folder.

Read from arguments first, then METABIZ_* environment variables, then defaults.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///instance/metabiz.db"


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    testing: bool = False
    run_worker: bool = False

    @classmethod
    def from_env(cls, database_url: str | None = None, **overrides: object) -> Config:
        instance = Path(os.environ.get("METABIZ_INSTANCE", "instance"))
        url = database_url or os.environ.get("METABIZ_DATABASE_URL") or DEFAULT_DATABASE_URL
        secret = os.environ.get("METABIZ_SECRET_KEY") or _instance_secret(instance)
        return cls(database_url=url, secret_key=secret, instance_path=instance,
                   **overrides)  # type: ignore[arg-type]


def _instance_secret(instance: Path) -> str:
    """The secret generated once and kept in instance/ (so sessions survive restarts)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
