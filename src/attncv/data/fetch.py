"""Download CIFAR-100 once into the cache, from the original host or a mirror, and check it.

The original archive (https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, 161 MB) is
checked against its MD5 (the one torchvision lists). That host has at times been throttled to
about an hour per archive, so a watchdog aborts any source whose projected download time exceeds
``max_seconds`` (10 minutes by default) and the next source is tried: the Hugging Face copy of
the same data (``uoft-cs/cifar100``, two Parquet files, about 135 MB), converted on the spot to the
official ``cifar-100-python/`` pickle layout so :func:`attncv.data.read.read_cifar100` reads either.
The mirror's files are checked against their SHA-256 where :data:`MIRROR_SHA256` sets one (not
yet: see the comment there); its conversion is checked too (50,000 + 10,000 images,
500 + 100 per class, 100 fine and 20 coarse class names). Converting needs ``pyarrow`` and
``Pillow``, which Colab ships.

Usage: ``fetch_cifar100()`` returns the folder ``<cache>/cifar-100-python``; a second call finds
it there and downloads nothing.

Concurrency and faults: one download per cache at a time. A file lock
(``<cache>/cifar-100-python.lock``, :class:`~.files.SharedLock`, which the cache's group can take)
makes a second process (another notebook
kernel, a parallel sweep) wait for the first and then use its result; every temporary file and
folder has a unique name and is removed when its download or conversion fails, and the finished
folder appears whole or not at all. Without a ``Content-Length`` the watchdog cannot project a
download's time, so it stops it at ``max_seconds``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import shutil
import tarfile
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..env import progress_mode
from .files import SharedLock, shareable, why_not
from .layout import C100, C100_URL, cache_dir

ORIGINAL = C100_URL
ORIGINAL_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
# The mirror, pinned: the URL names a commit of the dataset repository (``MIRROR_REVISION``) and
# each file's SHA-256 (``MIRROR_SHA256``) is checked when it is set. NOT YET PINNED: the commit
# and the checksums could not be learned where this was written (no internet), and inventing
# them would break the mirror, so the revision is still the branch "main" and the checksums are
# None (unchecked; the conversion's counts are still checked). To pin: take the commit hash from
# https://huggingface.co/datasets/uoft-cs/cifar100/commits/main and each file's SHA-256 (its LFS
# "oid sha256", shown on the file's page), set both below, and run tests/data/test_fetch.py.
MIRROR_REVISION = "main"  # NOT YET PINNED: a branch, not a commit
MIRROR_SHA256: dict[str, str | None] = {"train": None, "test": None}  # NOT YET PINNED
MIRROR = (
    "https://huggingface.co/datasets/uoft-cs/cifar100/resolve/"
    + MIRROR_REVISION
    + "/cifar100/{split}-00000-of-00001.parquet"
)


class FetchError(RuntimeError):
    """No source delivered CIFAR-100; the message lists every source and why it failed."""


class SlowSource(FetchError):
    """A source was too slow: its projected download time exceeded the limit."""


@dataclass(frozen=True)
class Archive:
    """The official ``cifar-100-python.tar.gz`` at ``url``, checked against ``md5``."""

    url: str = ORIGINAL
    md5: str = ORIGINAL_MD5

    def fetch(self, root: Path, watchdog: Watchdog, progress: str) -> None:
        dest = root / f"cifar-100-python.{_token()}.tar.gz"  # unique: never shared by two
        path = download(self.url, dest, watchdog, progress)
        try:
            digest = md5sum(path)
            if digest != self.md5:
                raise FetchError(
                    f"checksum mismatch: MD5 {digest}, expected {self.md5} "
                    "(a corrupt or different file)"
                )
            extract(path, root)
        finally:
            path.unlink(missing_ok=True)

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class Parquet:
    """A Hugging Face Parquet copy: ``url`` with ``{split}`` in it, columns ``img`` (PNG bytes),
    ``fine_label``, ``coarse_label``; class names in the files' ``huggingface`` metadata."""

    url: str = MIRROR
    per_class: tuple[int, int] = (500, 100)  # train, test
    sha256: dict[str, str | None] = field(default_factory=lambda: dict(MIRROR_SHA256))

    def fetch(self, root: Path, watchdog: Watchdog, progress: str) -> None:
        try:
            import pyarrow.parquet  # noqa: F401  (Colab ships it; a laptop may not)
        except ImportError:
            raise FetchError(
                "reading the mirror's Parquet files needs pyarrow: pip install pyarrow"
            ) from None
        parts = Path(tempfile.mkdtemp(prefix="parquet-", suffix=".part", dir=root))
        try:
            files = {s: self._download(s, parts, watchdog, progress) for s in ("train", "test")}
            parquet_to_pickles(files, root / C100, dict(zip(files, self.per_class, strict=True)))
        finally:
            shutil.rmtree(parts, ignore_errors=True)

    def _download(self, split: str, parts: Path, watchdog: Watchdog, progress: str) -> Path:
        """One split's file, checked against its SHA-256 where one is set; a mismatch is
        removed and refused, naming the URL and both hashes."""
        url = self.url.format(split=split)
        path = download(url, parts / f"{split}.parquet", watchdog, progress)
        expected = self.sha256.get(split)
        if expected is not None:
            digest = _digest(path, hashlib.sha256())
            if digest != expected.lower():
                path.unlink(missing_ok=True)
                raise FetchError(
                    f"checksum mismatch for {url}: SHA-256 {digest}, expected {expected} "
                    "(a corrupt or changed file; discarded)"
                )
        return path

    def __str__(self) -> str:
        return self.url.format(split="{train,test}")


SOURCES: tuple[Archive | Parquet, ...] = (Archive(), Parquet())


def fetch_cifar100(
    root: str | Path | None = None,
    *,
    sources: Sequence[Archive | Parquet] | None = None,
    max_seconds: float = 600,
    grace: float = 15,
    timeout: float = 30,
    probe: float = 5,
    progress: bool | str = True,
    wait: float | None = None,
) -> Path:
    """Make sure ``<root>/cifar-100-python`` holds CIFAR-100; download it if not.

    Args:
        root: the cache folder (default :func:`attncv.data.layout.cache_dir`).
        sources: tried in order until one delivers (default :data:`SOURCES`).
        max_seconds: abort a source whose projected download time exceeds this, once
            ``grace`` seconds have passed, or that is still running after ``max_seconds``, and
            try the next one.
        timeout: seconds without any data, once the server has answered, before a download
            counts as failed.
        probe: seconds to connect and get the server's answer (its headers): a network that
            accepts connections and never answers fails each source this fast, not in
            ``timeout``.
        progress: ``True`` (``$ATTNCV_PROGRESS`` or a tqdm bar), ``"log"``, ``"none"``.
        wait: how long to wait for another process that is downloading into the same cache
            (default: as long as it may take, ``max_seconds`` per source and five minutes more).

    Returns the ``cifar-100-python`` folder. Raises :class:`FetchError` if every source fails.
    """
    root = Path(root).expanduser() if root is not None else cache_dir()
    target = root / C100
    if _complete(target):
        return target
    sources = SOURCES if sources is None else sources
    root.mkdir(parents=True, exist_ok=True)
    wait = len(sources) * max_seconds + 300 if wait is None else wait
    with _one_at_a_time(root / f"{C100}.lock", wait):
        if _complete(target):  # another process downloaded it while this one waited
            print(f"CIFAR-100 is in {target}: another process downloaded it.", flush=True)
            return target
        failures = []
        for source in sources:
            try:
                source.fetch(
                    root, Watchdog(max_seconds, grace, timeout, probe), progress_mode(progress)
                )
            except Exception as exc:  # network, slowness, checksum, format: try the next source
                failures.append(f"{source}: {type(exc).__name__}: {exc}")
                print(
                    f"CIFAR-100 from {source} failed ({exc}); trying the next source.", flush=True
                )
                continue
            return target
    raise FetchError(
        "CIFAR-100 could not be downloaded.\n  "
        + "\n  ".join(failures)
        + "\nWithout internet access, set ATTNCV_OFFLINE=1 to skip the download."
    )


def _complete(target: Path) -> bool:
    return (target / "train").exists() and (target / "test").exists() and (target / "meta").exists()


@contextlib.contextmanager
def _one_at_a_time(path: Path, wait: float) -> Iterator[None]:
    """Hold the file lock at ``path``: the first process downloads, the others wait for it. The
    lock file is removed after a download that succeeded (whoever then takes a stale lock finds
    the finished folder and downloads nothing). The lock is one the cache's group can take
    (:class:`~.files.SharedLock`), another user's left-over lock file included; one that cannot
    be taken at all is reported, and the download goes on without it."""
    lock = SharedLock(path)
    try:
        free = lock.acquire(timeout=0)
    except OSError as exc:
        print(
            f"Could not take the download lock {why_not(path, exc)}; downloading without it "
            "(another process downloading into this cache now would download too).",
            flush=True,
        )
        yield
        return
    if not free:
        print(
            f"Another process is downloading CIFAR-100 into {path.parent}; waiting for it "
            f"(at most {wait / 60:,.0f} min) to use its result.",
            flush=True,
        )
        if not lock.acquire(timeout=wait):
            raise FetchError(
                f"another process has held {path} for more than {wait / 60:,.0f} min while "
                "downloading CIFAR-100. Wait for it to finish, or stop it and run this again "
                "(the lock is released when that process ends)."
            ) from None
    try:
        yield
        if _complete(path.parent / C100):
            with contextlib.suppress(OSError):  # another user's, in a sticky folder: leave it
                path.unlink(missing_ok=True)
    finally:
        lock.release()


def _token() -> str:
    """A part of a temporary name that no other download (process or thread) shares."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Watchdog:
    """Abort a download projected to take longer than ``max_seconds`` (checked after ``grace``)."""

    max_seconds: float
    grace: float
    timeout: float  # seconds without data, once the server answered
    probe: float = 5  # seconds to connect and get the answer's headers

    def check(self, done: int, total: int | None, elapsed: float) -> None:
        if elapsed > self.max_seconds:  # whatever the projection, and without a known size
            size = f"of {total / 1e6:,.0f} MB" if total else "(the server gave no size)"
            raise SlowSource(
                f"too slow: {done / 1e6:,.1f} MB {size} after {elapsed:.0f} s (limit "
                f"{self.max_seconds / 60:g} min)"
            )
        if elapsed < self.grace or not total:
            return
        rate = done / elapsed
        projected = elapsed + (total - done) / rate if rate > 0 else float("inf")
        if projected > self.max_seconds:
            raise SlowSource(
                f"too slow: {rate / 1e3:,.0f} kB/s after {elapsed:.0f} s, projected "
                f"{projected / 60:,.1f} min for {total / 1e6:,.0f} MB (limit "
                f"{self.max_seconds / 60:g} min)"
            )


def download(url: str, dest: Path, watchdog: Watchdog, progress: str = "auto") -> Path:
    """Stream ``url`` into ``dest`` (via a uniquely named ``.part`` file beside it) under
    ``watchdog``, with a progress bar."""
    part = dest.with_name(f"{dest.name}.{_token()}.part")
    start = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "attncv"})
    try:
        with (
            urllib.request.urlopen(
                request, timeout=min(watchdog.probe, watchdog.timeout)
            ) as response,
            open(part, "wb") as out,
        ):
            _read_timeout(response, watchdog.timeout)  # it answered: the body may be slower
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _bar(progress, total, dest.name)
            done = 0
            while chunk := response.read1(1 << 16):  # what has arrived, up to 64 kB
                out.write(chunk)
                done += len(chunk)
                bar(len(chunk))
                watchdog.check(done, total, time.monotonic() - start)
            bar(None)
        if total is not None and done != total:
            raise FetchError(f"incomplete: {done:,} of {total:,} bytes")
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
    return dest


def _read_timeout(response: object, seconds: float) -> None:
    """Give the answered connection behind ``response`` the longer ``seconds`` for its body
    (``http.client``'s response reads from a socket file; nothing to do where there is none)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _bar(mode: str, total: int | None, name: str):
    """A callable taking a byte count (``None`` closes): tqdm, ten log lines, or nothing."""
    if mode == "auto":
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024)
        return lambda n: bar.close() if n is None else bar.update(n)
    seen = [0, 0]  # bytes, tenths printed

    def log(n: int | None) -> None:
        if mode != "log" or n is None:
            return
        seen[0] += n
        tenth = seen[0] * 10 // total if total else 0
        if tenth > seen[1]:
            seen[1] = tenth
            print(f"{name}: {seen[0] / 1e6:,.0f} of {total / 1e6:,.0f} MB", flush=True)

    return log


def md5sum(path: Path) -> str:
    return _digest(path, hashlib.md5())


def _digest(path: Path, digest) -> str:  # noqa: ANN001 (hashlib's hash objects have no public type)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def extract(archive: Path, root: Path) -> None:
    """Unpack the ``cifar-100-python/`` members of ``archive`` into ``root``, and nothing else;
    the folder appears whole or not at all."""
    tmp = Path(tempfile.mkdtemp(prefix="extract-", suffix=".part", dir=root))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
            bad = [m.name for m in members if Path(m.name).parts[:1] != (C100,) or ".." in m.name]
            if bad or not members:
                raise FetchError(f"unexpected archive content: {bad[:3] or 'empty'}")
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, members=members, **safe)  # names checked above
        if not (tmp / C100 / "train").exists():
            raise FetchError(f"the archive has no {C100}/train")
        shareable(tmp / C100)  # as the archive's own modes allow under the umask
        shutil.rmtree(root / C100, ignore_errors=True)
        (tmp / C100).replace(root / C100)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def parquet_to_pickles(files: dict[str, Path], out: Path, per_class: dict[str, int]) -> None:
    """Convert the Hugging Face Parquet files to the official pickles ``train``, ``test``, ``meta``,
    checking that each split has ``per_class[split]`` images of each of the 100 classes. The
    folder appears whole or not at all; a failed conversion leaves no ``.part`` folder behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}-", suffix=".part", dir=out.parent))
    try:
        _convert(files, tmp, per_class)
        shareable(tmp)  # mkdtemp made it 0700: readable by the group, as mkdir would
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed conversion leaves nothing behind


def _convert(files: dict[str, Path], tmp: Path, per_class: dict[str, int]) -> None:
    import pyarrow.parquet as pq
    from PIL import Image

    names: dict[str, list[str]] = {}
    for split, path in files.items():
        table = pq.read_table(path)
        names = names or _class_names(table.schema.metadata or {})
        rows = [
            np.asarray(Image.open(io.BytesIO(img["bytes"])).convert("RGB"), dtype=np.uint8)
            for img in table.column("img").to_pylist()
        ]  # each (32, 32, 3)
        data = np.stack(rows).transpose(0, 3, 1, 2).reshape(len(rows), 3072)  # (N, 3*32*32)
        fine, coarse = (table.column(c).to_pylist() for c in ("fine_label", "coarse_label"))
        _validate(split, fine, coarse, per_class[split])
        _dump(tmp / split, {b"data": data, b"fine_labels": fine, b"coarse_labels": coarse})
    _dump(
        tmp / "meta",
        {
            b"fine_label_names": [n.encode() for n in names["fine_label"]],
            b"coarse_label_names": [n.encode() for n in names["coarse_label"]],
        },
    )
    (tmp / "SOURCE.txt").write_text("Converted from the Hugging Face copy uoft-cs/cifar100.\n")


def _class_names(metadata: dict[bytes, bytes]) -> dict[str, list[str]]:
    try:
        features = json.loads(metadata[b"huggingface"])["info"]["features"]
        names = {k: list(features[k]["names"]) for k in ("fine_label", "coarse_label")}
    except (KeyError, ValueError, TypeError) as exc:
        raise FetchError(f"no class names in the Parquet metadata ({exc!r})") from None
    if (len(names["fine_label"]), len(names["coarse_label"])) != (100, 20):
        raise FetchError(
            f"expected 100 and 20 class names, got {len(names['fine_label'])} and "
            f"{len(names['coarse_label'])}"
        )
    return names


def _validate(split: str, fine: list[int], coarse: list[int], per_class: int) -> None:
    counts = np.bincount(fine, minlength=100)
    if len(counts) != 100 or (counts != per_class).any():
        raise FetchError(
            f"{split}: expected {per_class} images of each of 100 classes; got "
            f"{len(fine):,} images, {counts.min()}-{counts.max()} per class"
        )
    if min(coarse) < 0 or max(coarse) > 19:
        raise FetchError(f"{split}: coarse labels outside 0-19")


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)
