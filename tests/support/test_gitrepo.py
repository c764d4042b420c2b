"""The git repository fixture makes real commits a clone can read."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.support.gitrepo import GitRepo


def test_git_repo_factory_commits_files_on_the_requested_branch(
    git_repo_factory: Callable[..., GitRepo],
) -> None:
    repo = git_repo_factory({"app/main.py": "print('one')\n"}, branch="trunk")
    first = repo.head_sha()
    second = repo.commit({"app/main.py": "print('two')\n"}, "second")

    assert len(first) == 40 and first != second
    assert repo.git("rev-parse", "--abbrev-ref", "HEAD") == "trunk"
    assert repo.git("show", f"{first}:app/main.py") == "print('one')"
    assert repo.git("log", "--format=%s") == "second\ninitial commit"


def test_git_repo_can_be_cloned_and_deleted_files_leave_the_tree(
    git_repo_factory: Callable[..., GitRepo],
) -> None:
    repo = git_repo_factory({"a.py": "x = 1\n", "b.py": "y = 2\n"})
    repo.commit({}, "drop b", delete=("b.py",))
    clone = repo.path.parent / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", str(repo.path), str(clone)], check=True
    )

    assert sorted(p.name for p in clone.iterdir() if p.name != ".git") == ["a.py"]
