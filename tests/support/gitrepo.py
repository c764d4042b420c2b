"""Real git repositories in temp dirs, used as scan sources by pipeline tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# Fixed identity and no user/system config, so commits work on a machine with no git setup.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "HOME": "/nonexistent",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


@dataclass(frozen=True)
class GitRepo:
    path: Path

    def git(self, *args: str) -> str:
        completed = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=GIT_ENV,
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout.strip()

    def commit(self, files: dict[str, str], message: str, *, delete: tuple[str, ...] = ()) -> str:
        """Write ``files`` (path -> text), delete ``delete``, commit everything; return the SHA."""
        for relative, text in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for relative in delete:
            (self.path / relative).unlink()
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.head_sha()

    def head_sha(self) -> str:
        return self.git("rev-parse", "HEAD")

    def create_branch(self, name: str) -> None:
        self.git("checkout", "--quiet", "-b", name)

    def checkout(self, ref: str) -> None:
        self.git("checkout", "--quiet", ref)


def make_git_repo(
    path: Path, files: dict[str, str], *, message: str = "initial commit", branch: str = "main"
) -> GitRepo:
    """``git init`` ``path`` on ``branch`` and commit ``files`` as the first commit."""
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "--quiet", "--initial-branch", branch)
    repo.commit(files, message)
    return repo
