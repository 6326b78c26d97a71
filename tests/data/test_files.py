"""Files a group can share: modes from the umask, the owner's name, an unreadable file in words."""

from __future__ import annotations

import os
import tempfile

from attncv.data.files import owner, shareable, umask, unreadable


def test_umask_is_read_without_changing_it() -> None:
    old = os.umask(0o027)
    try:
        assert umask() == 0o027
        assert umask() == 0o027
    finally:
        os.umask(old)


def test_shareable_gives_what_open_and_mkdir_would(tmp_path) -> None:
    folder = tempfile.mkdtemp(dir=tmp_path)  # 0700
    fd, name = tempfile.mkstemp(dir=folder)  # 0600
    os.close(fd)
    old = os.umask(0o002)
    try:
        shareable(folder)
    finally:
        os.umask(old)
    assert os.stat(folder).st_mode & 0o777 == 0o775
    assert os.stat(name).st_mode & 0o777 == 0o664


def test_unreadable_names_path_and_owner(tmp_path) -> None:
    path = tmp_path / "batch"
    path.write_bytes(b"")
    text = unreadable(path)
    assert str(path) in text and f"owned by {owner(path)}" in text and "permission denied" in text
