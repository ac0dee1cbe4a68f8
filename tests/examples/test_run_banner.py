"""`make run`'s first start (scripts/run.sh): a short banner naming the admin's password and
every demo user of both templates, with the set-up's chatter kept in instance/setup.log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "metabiz" / "templates_bundled"


def demo_users() -> set[str]:
    names: set[str] = set()
    for template in ("crm", "service"):
        names |= {u["name"] for u in json.loads(
            (TEMPLATES / template / "data" / "_users.json").read_text())}
    return names


def test_the_first_run_prints_a_short_banner_with_every_demo_user(tmp_path: Path) -> None:
    # run.sh works from the folder above its own: a copy of it, a `.venv/bin` whose
    # `metabiz` is this one except `serve`, which says so instead of serving
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "run.sh", tmp_path / "scripts" / "run.sh")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    real = Path(sys.executable).parent / "metabiz"
    (bin_dir / "metabiz").write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = serve ]; then echo "SERVING $*"; exit 0; fi\n'
        f'exec "{real}" "$@"\n')
    (bin_dir / "metabiz").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("METABIZ_")}
    env.update(PORT="5123", VENV=".venv")
    done = subprocess.run(["bash", "scripts/run.sh"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    password = (tmp_path / "instance" / "admin_password").read_text().strip()
    assert f"admin login:  admin / {password}" in out
    assert "http://127.0.0.1:5123" in out and "SERVING serve --host 127.0.0.1 --port 5123" in out
    listed = next(line for line in out.splitlines() if "demo users:" in line)
    assert set(listed.split(":", 1)[1].split("(")[0].split()) == demo_users()
    # short: no plans, no record counts, no pip or setuptools noise
    assert len([line for line in out.splitlines() if line.strip()]) <= 6, out
    assert "pip" not in out.lower() and "setuptools" not in out.lower()
    assert done.stderr.strip() == ""
    assert (tmp_path / "instance" / "setup.log").read_text().strip()
