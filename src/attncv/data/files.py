"""Files and folders a group can share: the modes ``open()`` and ``mkdir()`` would give, the
owner's name for a message, and a plain description of a file that cannot be read.

``tempfile.mkstemp`` and ``mkdtemp`` create private entries (0600, 0700); a cache entry made that
way and renamed into place stays private, and on a shared cache (a lab machine, a course server)
nobody else can read it. :func:`shareable` gives it the mode the user's umask asks for.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def shareable(path: str | os.PathLike[str]) -> None:
    """Give ``path`` (a file, or a folder and everything in it) the mode the umask asks for:
    0644 and 0755 under umask 022, 0664 and 0775 under 002. Errors are ignored: a mode is a
    courtesy to others, never a reason to lose a result."""
    mask = umask()
    path = Path(path)
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in paths:
        try:
            full = 0o777 if p.is_dir() else 0o666
            os.chmod(p, full & ~mask)
        except OSError:
            pass


def owner(path: str | os.PathLike[str]) -> str:
    """The name of the user who owns ``path`` (their uid where the name is unknown)."""
    try:
        uid = os.stat(path).st_uid
    except OSError:
        return "unknown"
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def unreadable(path: str | os.PathLike[str]) -> str:
    """One phrase for a file that exists but this user may not read: path, owner and mode."""
    try:
        mode = stat.filemode(os.stat(path).st_mode)
    except OSError:
        mode = "unknown mode"
    return f"{path} cannot be read: permission denied (owned by {owner(path)}, {mode})"
