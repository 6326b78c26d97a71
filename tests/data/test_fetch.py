"""attncv.fetch, offline: a local HTTP server on 127.0.0.1 serves small fake archives built here."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from attncv.data import load as data_module
from attncv.data.fetch import Archive, FetchError, Parquet, Watchdog, fetch_cifar100
from attncv.data.read import read_cifar100

FINE = [f"fine{i}" for i in range(100)]
COARSE = [f"coarse{i}" for i in range(20)]


def _images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def _pickles(per_class: int = 1) -> dict[str, bytes]:
    """The official layout's three pickles, ``per_class`` images of each class."""
    out = {
        "meta": pickle.dumps(
            {
                b"fine_label_names": [n.encode() for n in FINE],
                b"coarse_label_names": [n.encode() for n in COARSE],
            }
        )
    }
    for split, seed in (("train", 0), ("test", 1)):
        fine = list(range(100)) * per_class
        out[split] = pickle.dumps(
            {
                b"data": _images(len(fine), seed),
                b"fine_labels": fine,
                b"coarse_labels": [f // 5 for f in fine],
            }
        )
    return out


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in files.items():
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


class Server:
    """Serves ``files`` {path: bytes}; a path in ``slow`` trickles out 1 kB every 50 ms, one in
    ``rates`` ``step`` bytes every ``delay`` seconds; a path in ``no_length`` is sent without a
    Content-Length header (the end of the body is the end of the connection)."""

    def __init__(
        self,
        files: dict[str, bytes],
        slow: set[str] = frozenset(),
        *,
        rates: dict[str, tuple[int, float]] | None = None,
        no_length: set[str] = frozenset(),
    ) -> None:
        self.files, self.requests = files, []
        self.rates = {p: (1024, 0.05) for p in slow} | (rates or {})
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path in no_length:
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step, delay = server.rates.get(self.path, (len(body), 0.0))
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i : i + step])
                        self.wfile.flush()
                        time.sleep(delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a slow source, as it should

            def log_message(self, *args: object) -> None:
                pass

        no_length = set(no_length)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive() -> tuple[bytes, str]:
    payload = _tar_gz(_pickles())
    return payload, hashlib.md5(payload).hexdigest()


@pytest.fixture
def server(archive):
    payload, _ = archive
    s = Server({"/c100.tar.gz": payload, "/slow.tar.gz": payload}, slow={"/slow.tar.gz"})
    yield s
    s.close()


def fetch(root: Path, *sources, **kw):
    return fetch_cifar100(root, sources=sources, progress="none", **kw)


def _leftovers(root: Path) -> list[str]:
    """What a failed fetch left in ``root``, besides the (empty) lock file it keeps for the next."""
    return sorted(p.name for p in root.iterdir() if p.name != "cifar-100-python.lock")


def test_archive_with_the_right_checksum_is_extracted_and_readable(tmp_path, server, archive):
    path = fetch(tmp_path, Archive(server.url + "/c100.tar.gz", archive[1]))
    assert path == tmp_path / "cifar-100-python"
    data = read_cifar100(path)
    assert data.classes == FINE and len(data.train_labels) == 100 and len(data.test_labels) == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-100-python"]  # no leftovers


def test_wrong_checksum_is_rejected_and_leaves_nothing(tmp_path, server):
    with pytest.raises(FetchError, match="checksum mismatch"):
        fetch(tmp_path, Archive(server.url + "/c100.tar.gz", "0" * 32))
    assert _leftovers(tmp_path) == []


def test_second_call_reuses_the_cache_without_a_request(tmp_path, server, archive):
    source = Archive(server.url + "/c100.tar.gz", archive[1])
    fetch(tmp_path, source)
    assert len(server.requests) == 1
    fetch(tmp_path, source)
    assert len(server.requests) == 1


def test_slow_source_is_abandoned_for_the_next(tmp_path, server, archive, capsys):
    t0 = time.monotonic()
    path = fetch(
        tmp_path,
        Archive(server.url + "/slow.tar.gz", archive[1]),
        Archive(server.url + "/c100.tar.gz", archive[1]),
        max_seconds=0.5,
        grace=0.2,
    )
    assert time.monotonic() - t0 < 2  # the slow archive alone would take 30 s
    assert server.requests == ["/slow.tar.gz", "/c100.tar.gz"]
    assert "too slow" in capsys.readouterr().out
    assert (path / "train").exists()


def test_every_failure_is_listed_when_all_sources_fail(tmp_path, server):
    with pytest.raises(FetchError) as info:
        fetch(
            tmp_path,
            Archive(server.url + "/missing.tar.gz"),
            Archive(server.url + "/c100.tar.gz", "0" * 32),
        )
    assert "404" in str(info.value) and "checksum mismatch" in str(info.value)


def test_watchdog_projects_the_total_time():
    dog = Watchdog(max_seconds=600, grace=15, timeout=30)
    dog.check(done=1, total=10**9, elapsed=14)  # within the grace period: no verdict yet
    dog.check(done=5 * 10**8, total=10**9, elapsed=100)  # 200 s projected
    with pytest.raises(FetchError, match="too slow"):
        dog.check(done=10**7, total=10**9, elapsed=60)  # 100 minutes projected


def test_archive_with_foreign_paths_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    s = Server({"/evil.tar.gz": buf.getvalue()})
    try:
        with pytest.raises(FetchError, match="unexpected archive content"):
            fetch(
                tmp_path / "cache",
                Archive(s.url + "/evil.tar.gz", hashlib.md5(buf.getvalue()).hexdigest()),
            )
    finally:
        s.close()
    assert not (tmp_path / "evil").exists()


def _parquet(split: str, per_class: int, seed: int) -> tuple[bytes, np.ndarray]:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from PIL import Image

    images = _images(100 * per_class, seed).reshape(-1, 3, 32, 32)
    pngs = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img.transpose(1, 2, 0)).save(buf, format="PNG")
        pngs.append({"bytes": buf.getvalue(), "path": None})
    fine = list(range(100)) * per_class
    table = pa.table({"img": pngs, "fine_label": fine, "coarse_label": [f // 5 for f in fine]})
    features = {
        "fine_label": {"names": FINE, "_type": "ClassLabel"},
        "coarse_label": {"names": COARSE, "_type": "ClassLabel"},
    }
    table = table.replace_schema_metadata(
        {"huggingface": json.dumps({"info": {"features": features}})}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue(), images


def test_mirror_parquet_becomes_the_official_layout(tmp_path):
    (train, train_images), (test, _) = _parquet("train", 2, 0), _parquet("test", 1, 1)
    s = Server({"/hf/train.parquet": train, "/hf/test.parquet": test})
    try:
        path = fetch(
            tmp_path,
            Archive(s.url + "/gone.tar.gz"),
            Parquet(s.url + "/hf/{split}.parquet", per_class=(2, 1)),
        )
    finally:
        s.close()
    data = read_cifar100(path)
    assert data.classes == FINE and data.coarse_classes == COARSE
    assert data.train_images.shape == (200, 3, 32, 32) and len(data.test_labels) == 100
    assert np.array_equal(data.train_images.numpy(), train_images)  # channel-major, not transposed
    assert data.train_coarse.tolist() == [f // 5 for f in data.train_labels.tolist()]


def test_mirror_with_missing_classes_is_rejected(tmp_path):
    (train, _), (test, _) = _parquet("train", 1, 0), _parquet("test", 1, 1)
    s = Server({"/hf/train.parquet": train, "/hf/test.parquet": test})
    try:
        with pytest.raises(FetchError, match="expected 5 images of each"):
            fetch(tmp_path, Parquet(s.url + "/hf/{split}.parquet", per_class=(5, 1)))
    finally:
        s.close()
    assert not (tmp_path / "cifar-100-python").exists()
    assert _leftovers(tmp_path) == []  # no cifar-100-python.part/ (150 MB at full size)


def test_load_cifar_downloads_through_fetch(tmp_path, monkeypatch, server, archive):
    monkeypatch.setenv("ATTNCV_CACHE", str(tmp_path))
    monkeypatch.delenv("ATTNCV_DATA", raising=False)
    monkeypatch.delenv("ATTNCV_OFFLINE", raising=False)
    monkeypatch.setattr(data_module, "_DOWNLOAD_FAILED", [])
    source = Archive(server.url + "/c100.tar.gz", archive[1])
    monkeypatch.setenv("ATTNCV_PROGRESS", "none")
    monkeypatch.setattr("attncv.data.fetch.SOURCES", (source,))
    data = data_module.load_cifar(download=True)
    assert data.name == "CIFAR-100" and data.num_classes == 100


def test_the_watchdog_stops_a_download_without_a_content_length(tmp_path):
    """Without a Content-Length the watchdog could not project the time and never fired: a
    trickling download ran 25 s against a 3 s limit. It now stops at the limit."""
    body = bytes(100 * 1024)  # 100 kB at 1 kB per 50 ms: 5 s
    s = Server({"/trickle.tar.gz": body}, slow={"/trickle.tar.gz"}, no_length={"/trickle.tar.gz"})
    t0 = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"too slow.*gave no size"):
            fetch(tmp_path, Archive(s.url + "/trickle.tar.gz"), max_seconds=1)
    finally:
        s.close()
    assert time.monotonic() - t0 < 3.5  # the limit, not the 5 s the trickle takes
    assert _leftovers(tmp_path) == []


def test_the_watchdog_limit_holds_within_the_grace_period():
    dog = Watchdog(max_seconds=3, grace=15, timeout=30)
    dog.check(done=10, total=None, elapsed=2.9)
    with pytest.raises(FetchError, match="too slow"):
        dog.check(done=10, total=None, elapsed=3.1)
    with pytest.raises(FetchError, match="too slow"):
        dog.check(done=10, total=10**9, elapsed=3.1)  # within grace, but past the limit


def test_download_uses_a_part_file_no_other_download_shares(tmp_path, server, archive):
    dest = tmp_path / "c100.tar.gz"
    seen = []
    real_open = open

    def spy(path, *args, **kwargs):
        seen.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    import builtins

    builtins.open, saved = spy, builtins.open
    try:
        from attncv.data.fetch import download

        download(server.url + "/c100.tar.gz", dest, Watchdog(60, 15, 30), "none")
        download(server.url + "/c100.tar.gz", dest, Watchdog(60, 15, 30), "none")
    finally:
        builtins.open = saved
    parts = [n for n in seen if n.endswith(".part")]
    assert len(parts) == 2 and len(set(parts)) == 2 and all(p != "c100.tar.gz.part" for p in parts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c100.tar.gz"]


def test_two_threads_downloading_into_one_cache_share_one_download(tmp_path, archive, capsys):
    """The quick form of the test below: two threads, each with its own lock handle."""
    payload, md5 = archive
    s = Server({"/c100.tar.gz": payload}, rates={"/c100.tar.gz": (32 * 1024, 0.05)})  # ~1 s
    source = Archive(s.url + "/c100.tar.gz", md5)
    results, errors = [], []

    def run() -> None:
        try:
            results.append(fetch(tmp_path, source))
        except Exception as exc:  # reported below
            errors.append(exc)

    try:
        first = threading.Thread(target=run)
        first.start()
        _wait_for(lambda: s.requests)
        second = threading.Thread(target=run)
        second.start()
        first.join(60)
        second.join(60)
    finally:
        s.close()
    assert not errors and len(results) == 2
    assert s.requests == ["/c100.tar.gz"]
    assert "another process downloaded it" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-100-python"]


FETCH_IN_A_PROCESS = """
import sys, time
from pathlib import Path
from attncv.data.fetch import Archive, fetch_cifar100
root, url, md5, go = sys.argv[1:]
Path(go + ".ready").touch()
while not Path(go).exists():  # imports done: start when the test says so
    time.sleep(0.02)
path = fetch_cifar100(root, sources=[Archive(url, md5)], progress="none")
print("done", path)
"""


def _wait_for(condition, seconds: float = 60) -> None:
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < seconds, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_two_processes_downloading_into_one_cache_share_one_download(tmp_path, archive):
    """Two kernels started 2 s apart used to break each other's download (fixed temporary names,
    no lock) and both trained on a substitute. Now the second waits and uses the first's result."""
    import os
    import subprocess
    import sys

    payload, md5 = archive
    s = Server({"/c100.tar.gz": payload}, rates={"/c100.tar.gz": (16 * 1024, 0.05)})  # ~2 s
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    cache, url = tmp_path / "cache", s.url + "/c100.tar.gz"
    go = [tmp_path / "go1", tmp_path / "go2"]
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", FETCH_IN_A_PROCESS, str(cache), url, md5, str(g)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for g in go
        ]
        _wait_for(lambda: all(Path(f"{g}.ready").exists() for g in go))  # both imported attncv
        go[0].touch()
        _wait_for(lambda: s.requests)  # the first is downloading ...
        go[1].touch()  # ... when the second starts
        outs = [p.communicate(timeout=60)[0].decode() for p in procs]
    finally:
        s.close()
    assert [p.returncode for p in procs] == [0, 0], outs
    assert s.requests == ["/c100.tar.gz"], outs  # one download, not two
    assert "Another process is downloading" in outs[1], outs
    assert "another process downloaded it" in outs[1], outs
    assert read_cifar100(cache / "cifar-100-python").num_classes == 100
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-100-python"]


def test_the_mirror_without_pyarrow_hints_at_the_install(tmp_path, monkeypatch):
    """pyarrow stays optional (Colab ships it): without it the mirror says what to install."""
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(FetchError, match="needs pyarrow: pip install pyarrow"):
        fetch(tmp_path, Parquet("http://127.0.0.1:9/{split}.parquet"))


def test_a_mirror_converted_folder_is_readable_by_the_group(tmp_path):
    """The converted cifar-100-python/ used to be 0700 (mkdtemp): private to whoever fetched it."""
    import os

    (train, _), (test, _) = _parquet("train", 2, 0), _parquet("test", 1, 1)
    s = Server({"/hf/train.parquet": train, "/hf/test.parquet": test})
    old = os.umask(0o022)
    try:
        path = fetch(
            tmp_path,
            Archive(s.url + "/gone.tar.gz"),
            Parquet(s.url + "/hf/{split}.parquet", per_class=(2, 1)),
        )
    finally:
        os.umask(old)
        s.close()
    assert path.stat().st_mode & 0o777 == 0o755
    assert all(f.stat().st_mode & 0o777 == 0o644 for f in path.iterdir())


def test_the_mirror_url_is_built_from_its_revision():
    """Issue 21: the mirror URL was ``resolve/main``, whatever that branch holds today."""
    from attncv.data import fetch as module

    assert f"/resolve/{module.MIRROR_REVISION}/" in module.MIRROR
    assert Parquet().sha256 == module.MIRROR_SHA256


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def test_a_mirror_file_with_the_wrong_checksum_is_refused(tmp_path):
    (train, _), (test, _) = _parquet("train", 1, 0), _parquet("test", 1, 1)
    wrong = "0" * 64
    s = Server({"/hf/train.parquet": train, "/hf/test.parquet": test})
    try:
        mirror = Parquet(
            s.url + "/hf/{split}.parquet",
            per_class=(1, 1),
            sha256={"train": _sha256(train), "test": wrong},
        )
        with pytest.raises(FetchError) as err:
            fetch(tmp_path, mirror)
    finally:
        s.close()
    message = str(err.value)
    assert s.url + "/hf/test.parquet" in message
    assert wrong in message and _sha256(test) in message
    assert not (tmp_path / "cifar-100-python").exists()
    assert _leftovers(tmp_path) == []


def test_a_mirror_file_with_the_right_checksum_is_accepted(tmp_path):
    (train, _), (test, _) = _parquet("train", 1, 0), _parquet("test", 1, 1)
    s = Server({"/hf/train.parquet": train, "/hf/test.parquet": test})
    try:
        mirror = Parquet(
            s.url + "/hf/{split}.parquet",
            per_class=(1, 1),
            sha256={"train": _sha256(train), "test": _sha256(test)},
        )
        path = fetch(tmp_path, mirror)
    finally:
        s.close()
    assert read_cifar100(path).train_images.shape == (100, 3, 32, 32)


class _Here:
    """A source that 'downloads' at once: it writes the three files of the layout, and notes
    the lock file's mode while it holds the lock."""

    def __init__(self) -> None:
        self.lock_mode = None

    def fetch(self, root, watchdog, progress) -> None:
        import os

        self.lock_mode = os.stat(root / "cifar-100-python.lock").st_mode
        target = root / "cifar-100-python"
        target.mkdir()
        for name in ("train", "test", "meta"):
            (target / name).write_bytes(b"")


def _not_writable_here(monkeypatch, lock: Path) -> None:
    """``lock`` as another user's lock file under umask 022 (rw-r--r--) looks to this one: it
    may read it, not write it (faked, since root may write anything)."""
    import os

    real = os.open

    def open_(path, flags, *args, **kwargs):
        writes = flags & os.O_ACCMODE != os.O_RDONLY and not flags & os.O_EXCL  # EEXIST first
        if str(path) == str(lock) and writes and lock.exists():
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def test_a_left_over_download_lock_of_another_user_is_taken(tmp_path, monkeypatch, capsys):
    """Another user's left-over lock (rw-r--r--) used to make fetch_cifar100 raise
    PermissionError; a lock needs no write access to its file (flock)."""
    lock = tmp_path / "cifar-100-python.lock"
    lock.write_text("")
    _not_writable_here(monkeypatch, lock)
    assert fetch_cifar100(tmp_path, sources=[_Here()], progress="none").is_dir()
    assert "Could not take" not in capsys.readouterr().out  # taken, not gone without


def test_the_download_lock_is_group_writable_where_the_cache_is(tmp_path) -> None:
    """Under umask 022 the lock used to be rw-r--r--: no other member of the group could take
    it. A group-writable cache folder gets a group-writable lock."""
    import os

    tmp_path.chmod(0o2775)
    source, old = _Here(), os.umask(0o022)
    try:
        fetch_cifar100(tmp_path, sources=[source], progress="none")
    finally:
        os.umask(old)
    assert source.lock_mode & 0o060 == 0o060
