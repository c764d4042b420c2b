"""File discovery: skipped folders, exclude globs, and files that cannot be analysed."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.findings import ScanOptions
from scanners.project import build, build_project
from tests.scanners.project_helpers import write_tree


def test_discovery_skips_tool_folders_excludes_and_bad_files(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "app/main.py": "x = 1\n",
            ".venv/lib/site.py": "x = 1\n",
            "node_modules/pkg/a.py": "x = 1\n",
            "build/lib/b.py": "x = 1\n",
            "legacy/old.py": "x = 1\n",
            "gen/api_pb2.py": "x = 1\n",
            "app/broken.py": "def f(:\n",
            "app/big.py": "x = 1\n" * 100,
            "custom_env/pyvenv.cfg": "home = /usr\n",
            "custom_env/lib/c.py": "x = 1\n",
        },
    )
    (tmp_path / "app" / "latin1.py").write_bytes(b"name = '\xe9'\n")
    options = ScanOptions(jobs=1, exclude=("legacy/**", "*_pb2.py"), max_file_bytes=300)
    outcome = build_project(tmp_path, options)
    assert sorted(m.path for m in outcome.project.modules.values()) == ["app/main.py"]
    reasons = {s.path: s.reason for s in outcome.skipped}
    assert set(reasons) == {"app/broken.py", "app/big.py", "app/latin1.py"}
    assert reasons["app/broken.py"].startswith("syntax error at line ")
    assert reasons["app/big.py"] == "larger than 300 bytes (600 bytes)"
    assert reasons["app/latin1.py"].startswith("not UTF-8")
    assert outcome.lines == 1


def test_process_pool_gives_the_same_model_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small trees are summarized in-process; lower the threshold so the pool really runs.
    monkeypatch.setattr(build, "_POOL_MIN_BYTES", 0)
    files = {
        f"pkg/mod{i}.py": f"import time\n\nasync def f{i}():\n    time.sleep({i})\n"
        for i in range(40)
    }
    files["pkg/__init__.py"] = ""
    write_tree(tmp_path, files)
    serial = build_project(tmp_path, ScanOptions(jobs=1)).project
    pooled_outcome = build_project(tmp_path, ScanOptions(jobs=2))
    pooled = pooled_outcome.project
    assert sorted(pooled.modules) == sorted(serial.modules)
    assert pooled.stats() == serial.stats()
    assert pooled_outcome.lines == 4 * 40
