"""Files and folders a group can share: the modes ``open()`` and ``mkdir()`` would give, the
owner's name for a message, a plain description of a file that cannot be read, and a lock file
every member of the group can take (:class:`SharedLock`).

``tempfile.mkstemp`` and ``mkdtemp`` create private entries (0600, 0700); a cache entry made that
way and renamed into place stays private, and on a shared cache (a lab machine, a course server)
nobody else can read it. :func:`shareable` gives it the mode the user's umask asks for.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path
from typing import Any


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


def lock_mode(folder: str | os.PathLike[str]) -> int:
    """The mode of a lock file made in ``folder``: what the umask asks for, and read-write for
    the group (others) where the folder is writable by the group (others), so that every member
    who may write the cache may take its locks."""
    mode = 0o666 & ~umask()
    try:
        folder_mode = os.stat(folder).st_mode
    except OSError:
        return mode
    if folder_mode & stat.S_IWGRP:
        mode |= 0o060
    if folder_mode & stat.S_IWOTH:
        mode |= 0o006
    return mode


class SharedLock:
    """An exclusive lock on the file at ``path`` (``flock``) that a group can share: the file is
    made with :func:`lock_mode`, and one that this user may only read (another user's, made under
    umask 022) is locked through a read-only descriptor, which ``flock`` allows. Where no
    descriptor can be had at all, :meth:`acquire` raises the ``OSError``: the caller reports it.
    Without ``fcntl`` (Windows), :mod:`filelock` takes the lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._fallback: Any = None

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock: ``True`` once held, ``False`` if another process still holds it after
        ``timeout`` seconds (``0``: one try; ``None``: wait as long as it takes)."""
        try:
            import fcntl
        except ImportError:  # Windows
            return self._acquire_filelock(timeout)
        fd = self._open()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.05)
            except OSError:
                os.close(fd)
                raise
            else:
                self._fd = fd
                return True

    def release(self) -> None:
        """Let the lock go (closing the descriptor releases it)."""
        if self._fallback is not None:
            self._fallback.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, lock_mode(self.path.parent))
        except FileExistsError:
            try:
                return os.open(self.path, os.O_RDWR)
            except PermissionError:  # another user's lock file: flock needs no write access
                return os.open(self.path, os.O_RDONLY)
        with contextlib.suppress(OSError):
            os.fchmod(fd, lock_mode(self.path.parent))  # the umask does not decide alone
        return fd

    def _acquire_filelock(self, timeout: float | None) -> bool:
        from filelock import FileLock, Timeout

        self._fallback = FileLock(str(self.path), mode=lock_mode(self.path.parent))
        try:
            self._fallback.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            return False
        return True


def why_not(path: str | os.PathLike[str], exc: OSError) -> str:
    """One phrase for a lock file that could not be opened or locked: the reason, and where the
    file exists, its owner and mode."""
    reason = exc.strerror or str(exc)
    try:
        mode = stat.filemode(os.stat(path).st_mode)
    except OSError:
        return f"{path}: {reason}"
    return f"{path}: {reason} (owned by {owner(path)}, {mode})"
