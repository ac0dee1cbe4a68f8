"""Configuration: the database URL, the secret key, the instance folder, SMTP, cookies and
the time a web request's SQL statement may take.

Read from arguments first, then METABIZ_* environment variables, then defaults.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///instance/metabiz.db"
#: seconds one SQL statement of a web request may run (METABIZ_STATEMENT_TIMEOUT; 0: none)
DEFAULT_STATEMENT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail copies of notifications go (METABIZ_SMTP_*); none: no e-mail."""

    host: str
    port: int = 25
    user: str | None = None
    password: str = ""
    starttls: bool = False
    sender: str = "metabiz@localhost"

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        host = os.environ.get("METABIZ_SMTP_HOST")
        if not host:
            return None
        port = os.environ.get("METABIZ_SMTP_PORT", "25")
        if not port.isdigit():
            raise ValueError(f"METABIZ_SMTP_PORT must be a port number, not {port!r}")
        return cls(host=host, port=int(port), user=os.environ.get("METABIZ_SMTP_USER") or None,
                   password=os.environ.get("METABIZ_SMTP_PASSWORD", ""),
                   starttls=os.environ.get("METABIZ_SMTP_STARTTLS") == "1",
                   sender=os.environ.get("METABIZ_SMTP_FROM", "metabiz@localhost"))


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    testing: bool = False
    smtp: SmtpSettings | None = None
    #: session cookies only over HTTPS (METABIZ_SECURE_COOKIES=1): set it behind TLS
    secure_cookies: bool = False
    #: seconds one SQL statement of a web request may run before the database ends it
    #: (a 503); None or 0: no limit
    statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT
    #: where uploaded files live (METABIZ_FILES): a folder, or s3://bucket/prefix on any
    #: S3-compatible store; empty: the folder files/ in the instance folder
    files: str = ""

    @classmethod
    def from_env(cls, database_url: str | None = None, **overrides: object) -> Config:
        instance = Path(os.environ.get("METABIZ_INSTANCE", "instance"))
        url = database_url or os.environ.get("METABIZ_DATABASE_URL") or DEFAULT_DATABASE_URL
        secret = os.environ.get("METABIZ_SECRET_KEY") or _instance_secret(instance)
        settings: dict[str, object] = {
            "smtp": SmtpSettings.from_env(),
            "secure_cookies": os.environ.get("METABIZ_SECURE_COOKIES") == "1",
            "files": os.environ.get("METABIZ_FILES", ""),
            "statement_timeout": _seconds("METABIZ_STATEMENT_TIMEOUT",
                                          DEFAULT_STATEMENT_TIMEOUT),
            **overrides}
        return cls(database_url=url, secret_key=secret, instance_path=instance,
                   **settings)  # type: ignore[arg-type]


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be 0 (no limit) or a number of seconds, not {raw!r}")
    return value


def _instance_secret(instance: Path) -> str:
    """The secret generated once and kept in instance/ (so sessions survive restarts)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)  # its owner's only
    key = secrets.token_urlsafe(48)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(key)  # never readable by others, not even for a moment
    return key
