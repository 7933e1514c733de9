#!/usr/bin/env python3
"""Set up the project's environment from the lock file, then run the demo or the tests.

    python3 dev.py demo [--no-serve]   migrate, load the demo utility, run the pipeline, serve on :8000
    python3 dev.py test [pytest args]  the test suite (set DATABASE_URL / REDIS_URL for the real services)
    python3 dev.py sync                only create or update .venv

Needs Python 3.11+ and access to PyPI; installs uv into .tools/ if it is not on PATH.
"""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.8"


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = ROOT / ".tools"
    bin_dir = tools / ("Scripts" if os.name == "nt" else "bin")
    exe = bin_dir / "uv"
    if not exe.exists():
        print(f"Installing uv {UV_VERSION} into .tools/ ...", flush=True)
        venv.create(tools, with_pip=True)
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"], check=True
        )
    return str(exe)


def sync() -> Path:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(ROOT / ".venv")}
    subprocess.run(
        [uv(), "sync", "--frozen", "--python", sys.executable, "--quiet"], cwd=ROOT, check=True, env=env
    )
    return ROOT / ".venv" / ("Scripts" if os.name == "nt" else "bin")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "sync"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    bin_dir = sync()
    os.chdir(ROOT)
    if command == "demo":
        args = [str(bin_dir / "python"), "manage.py", "demo", *rest]
    elif command == "test":
        args = [str(bin_dir / "python"), "-m", "pytest", *rest]
    else:
        return 0
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
