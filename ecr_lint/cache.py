"""On-disk caches under the user cache directory: parsed files, whole stacks' results, the parser.

Entries are JSON, and each carries an HMAC under a random per-user key kept in the cache root
(mode 0600): an entry ecr-lint did not write itself, or that was changed, is ignored and
rewritten, so a planted parse tree or stack result cannot change a verdict. Bytes entries
(`get_bytes`) are signed the same way; the one kind of them, python-hcl2's built parser
pickled by hcl/grammar.py, is unpickled only after its signature verified.

The cache's own directories (`ecr-lint/` and `v<FORMAT>/` under the cache home) and everything
below are opened without following symlinks (directory descriptors, O_NOFOLLOW) and must belong
to this user and not be writable by group or others (they are made 0700). If anything is wrong,
the cache is not used for the run and one line on stderr says why: the run goes on, uncached.
Writes go through a temporary file and a rename, so concurrent runs never see half an entry;
pruning deletes only regular files inside the real cache root, to keep it under a size bound.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import sys
from typing import Any

from ecr_lint import __version__
from ecr_lint.hcl import syntax as ast

FORMAT = 1
MAX_BYTES = 256 * 1024 * 1024
MAX_ENTRY_BYTES = 64 * 1024 * 1024
KEY_FILE = "key"
KEY_BYTES = 32

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KEY_NAME = re.compile(r"[0-9a-f]{64}")
_KIND_NAME = re.compile(r"[a-z]{1,16}")  # "ast", "stack"...: one plain directory name
# Signed before the body of a bytes entry: no JSON entry (whose body starts with `{`) can carry
# the signature of a bytes entry, or the other way round.
_BYTES = b"bytes\0"


class Untrusted(Exception):
    """The cache directory cannot be trusted this run; the message says why."""


def cache_root() -> str:
    """`$XDG_CACHE_HOME/ecr-lint/v<FORMAT>`; without XDG_CACHE_HOME, the user cache directory of
    the system (as platformdirs has it): `~/Library/Caches` on macOS, `~/.cache` elsewhere."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        base = os.path.join(home, "Library", "Caches") if sys.platform == "darwin" else os.path.join(home, ".cache")
    return os.path.join(base, "ecr-lint", f"v{FORMAT}")


@functools.lru_cache(maxsize=1)
def _hcl2_version() -> str:
    """python-hcl2's version, for the parse cache key, without importing it (it loads Lark) or
    importlib.metadata (18 ms): the text of its version module and grammar identify the parser."""
    import importlib.util

    spec = importlib.util.find_spec("hcl2")
    if spec is None or not spec.submodule_search_locations:
        return "missing"
    digest = hashlib.sha256()
    for name in ("version.py", "hcl2.lark"):
        try:
            with open(os.path.join(spec.submodule_search_locations[0], name), "rb") as handle:
                digest.update(handle.read())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


class Store:
    """A directory of authenticated JSON entries. `root` is None when the cache is not used
    (it could not be trusted or made): every get misses and every put is dropped."""

    def __init__(self, root: str | None = None, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self.root: str | None = os.path.abspath(root or cache_root())
        self._fd: int | None = None
        self._kinds: dict[str, int] = {}
        self._key = b""
        try:
            self._fd = _open_root(self.root)
            self._key = _key(self._fd, self.root)
        except Untrusted as exc:
            self._disable(str(exc))
        except OSError:
            self._disable(None)  # cannot be made (read-only home, full disk): only slower, never wrong

    def _disable(self, why: str | None) -> None:
        if why:
            sys.stderr.write(f"ecr-lint: cache not used: {why}\n")
        self.close()
        self.root = None

    def close(self) -> None:
        for fd in [self._fd, *self._kinds.values()]:
            if fd is not None:
                os.close(fd)
        self._fd, self._kinds = None, {}

    def __del__(self) -> None:
        try:
            self.close()
        except (OSError, AttributeError):
            pass

    def _entry_dir(self, kind: str, key: str, create: bool) -> int:
        """A descriptor of kind/key[:2]/ (checked, never through a symlink); the caller closes it."""
        if kind not in self._kinds:
            self._kinds[kind] = _own_dir(self._fd, kind, os.path.join(self.root, kind), create)
        return _own_dir(self._kinds[kind], key[:2], os.path.join(self.root, kind, key[:2]), create)

    def get(self, kind: str, key: str) -> Any:
        """The JSON entry kind/key, or None (missing, not signed by this user's key, stale)."""
        body = self._read_signed(kind, key, ".json", b"")
        if body is None:
            return None
        try:
            entry = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("tool") != __version__:
            return None  # stale: ignored, and rewritten by the caller
        return entry.get("data")

    def put(self, kind: str, key: str, data: Any) -> None:
        if self._fd is None or not _KIND_NAME.fullmatch(kind) or not _KEY_NAME.fullmatch(key):
            return
        # dumps, not dump: dump to a file uses the pure-Python encoder (10x slower)
        body = json.dumps({"key": key, "tool": __version__, "data": data}, separators=(",", ":")).encode()
        self._write_signed(kind, key, ".json", b"", body)

    def get_bytes(self, kind: str, key: str) -> bytes | None:
        """The bytes entry kind/key, only if this user's key signed exactly these bytes under
        this kind and key (so they may be trusted like the user's own files), else None."""
        return self._read_signed(kind, key, ".bin", _BYTES)

    def put_bytes(self, kind: str, key: str, data: bytes) -> None:
        self._write_signed(kind, key, ".bin", _BYTES, bytes(data))

    def _mac(self, kind: str, key: str, body: bytes) -> bytes:
        return hmac.digest(self._key, f"{kind}\0{key}\0".encode() + body, "sha256").hex().encode()

    def _read_signed(self, kind: str, key: str, suffix: str, domain: bytes) -> bytes | None:
        """The body of kind/key<suffix> if its HMAC (over kind, key, domain and body) verifies."""
        if self._fd is None or not _KIND_NAME.fullmatch(kind) or not _KEY_NAME.fullmatch(key):
            return None
        try:
            directory = self._entry_dir(kind, key, create=False)
            try:
                fd = os.open(key[2:] + suffix, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                             dir_fd=directory)
            finally:
                os.close(directory)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_size > MAX_ENTRY_BYTES:
                    return None
                raw = _read(fd, st.st_size)
            finally:
                os.close(fd)
        except Untrusted as exc:
            self._disable(str(exc))
            return None
        except OSError:
            return None  # missing (the common miss), or unreadable
        mac, _, body = raw.partition(b"\n")
        if not hmac.compare_digest(mac, self._mac(kind, key, domain + body)):
            return None  # not written by this user's ecr-lint, or changed since: ignored, and rewritten
        return body

    def _write_signed(self, kind: str, key: str, suffix: str, domain: bytes, body: bytes) -> None:
        if self._fd is None or not _KIND_NAME.fullmatch(kind) or not _KEY_NAME.fullmatch(key):
            return
        directory = None
        tmp = f"{key[2:]}.{secrets.token_hex(6)}.tmp"
        try:
            directory = self._entry_dir(kind, key, create=True)
            _write_new(directory, tmp, self._mac(kind, key, domain + body) + b"\n" + body)
            os.replace(tmp, key[2:] + suffix, src_dir_fd=directory, dst_dir_fd=directory)
        except Untrusted as exc:
            self._disable(str(exc))
        except OSError:
            if directory is not None:
                _unlink(directory, tmp)  # a cache that cannot be written is only slower, never wrong
        finally:
            if directory is not None:
                os.close(directory)

    def prune(self) -> None:
        """Keep the cache under its size bound, dropping the least recently used entries. Only
        regular files inside the real cache root are ever deleted (the walk follows no symlink)."""
        if self._fd is None:
            return
        now = _now()
        entries = []
        total = 0
        for current, _, files, dir_fd in os.fwalk(".", dir_fd=self._fd, follow_symlinks=False):
            for name in files:
                if current == "." and name == KEY_FILE:
                    continue
                try:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                if name.endswith(".tmp") and st.st_mtime < now - 3600:
                    _unlink(dir_fd, name)  # left by a run that was killed mid-write
                    continue
                entries.append((max(st.st_atime, st.st_mtime), st.st_size, current, name))
                total += st.st_size
        if total <= self.max_bytes:
            return
        for _, size, current, name in sorted(entries):
            self._remove(current, name)
            total -= size
            if total <= self.max_bytes * 0.8:
                break

    def _remove(self, current: str, name: str) -> None:
        """Delete root/current/name if it is still a regular file, reaching it without symlinks."""
        fds = []
        try:
            fd = self._fd
            for part in [p for p in current.split("/") if p not in ("", ".")]:
                fd = os.open(part, _DIR, dir_fd=fd)
                fds.append(fd)
            if stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                _unlink(fd, name)
        except OSError:
            pass
        finally:
            for opened in fds:
                os.close(opened)


def _open_root(root: str) -> int:
    """A descriptor of the cache root: the cache home is followed like any directory the user
    names; `ecr-lint/` and the version directory are not (and are checked)."""
    parent = os.path.dirname(root)
    home = os.path.dirname(parent)
    os.makedirs(home, mode=0o700, exist_ok=True)
    home_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parent_fd = _own_dir(home_fd, os.path.basename(parent), parent, create=True)
    finally:
        os.close(home_fd)
    try:
        return _own_dir(parent_fd, os.path.basename(root), root, create=True)
    finally:
        os.close(parent_fd)


def _own_dir(dir_fd: int, name: str, shown: str, create: bool) -> int:
    """A descriptor of the directory `name` below dir_fd: not a symlink, ours, 0700."""
    if create:
        try:
            os.mkdir(name, 0o700, dir_fd=dir_fd)
        except FileExistsError:
            pass
    try:
        fd = os.open(name, _DIR, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            link = stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
            raise Untrusted(f"{shown} is {'a symlink' if link else 'not a directory'}: not followed") from None
        raise
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise Untrusted(f"{shown} belongs to uid {st.st_uid}, not to this user (uid {os.geteuid()})")
        if st.st_mode & 0o022:
            raise Untrusted(f"{shown} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})")
        if st.st_mode & 0o077:
            os.fchmod(fd, 0o700)  # made by an older ecr-lint (0755): nobody else needs to read it
    except BaseException:
        os.close(fd)
        raise
    return fd


def _key(root_fd: int, root: str) -> bytes:
    """This user's HMAC key, made on first use. A missing or malformed key is replaced by a new
    random one: entries signed with the old key then simply stop verifying (safe by construction)."""
    for _ in range(3):
        key = _read_key(root_fd)
        if key is not None:
            return key
        tmp = f"{KEY_FILE}.{secrets.token_hex(6)}.tmp"
        _write_new(root_fd, tmp, secrets.token_bytes(KEY_BYTES))
        try:
            try:
                os.link(tmp, KEY_FILE, src_dir_fd=root_fd, dst_dir_fd=root_fd, follow_symlinks=False)
            except FileExistsError:  # another run made one first (theirs is used), or ours is bad
                if _read_key(root_fd) is None:
                    os.replace(tmp, KEY_FILE, src_dir_fd=root_fd, dst_dir_fd=root_fd)
        finally:
            _unlink(root_fd, tmp)
    raise Untrusted(f"{os.path.join(root, KEY_FILE)} cannot be made a key file")


def _read_key(root_fd: int) -> bytes | None:
    try:
        fd = os.open(KEY_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=root_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return None
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    return key if len(key) == KEY_BYTES else None


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    """Create `name` (it must not exist: O_EXCL, no symlink followed), mode 0600, with `data`."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _read(fd: int, size: int) -> bytes:
    chunks, total = [], 0
    while total <= MAX_ENTRY_BYTES:
        chunk = os.read(fd, max(size + 1 - total, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _now() -> float:
    import time

    return time.time()


def _unlink(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


# --- parsed files ---------------------------------------------------------------------------

_NODE_TYPES = {cls.__name__: cls for cls in (
    ast.Lit, ast.Template, ast.TIf, ast.TFor, ast.Name, ast.GetAttr, ast.Index, ast.Splat, ast.Call,
    ast.TupleExpr, ast.ObjectExpr, ast.Cond, ast.BinOp, ast.UnOp, ast.ForExpr, ast.Attribute, ast.Block, ast.Body)}


def encode(value: Any) -> Any:
    """AST -> JSON: nodes as {"n": type, "f": [fields]}, tuples as {"t": [...]}, dicts as {"d": [...]}."""
    if dataclasses.is_dataclass(value):
        return {"n": type(value).__name__, "f": [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    if isinstance(value, tuple):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"d": [[k, encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"l": [encode(v) for v in value]}
    return value


def decode(value: Any) -> Any:
    """JSON -> AST, accepting only the AST's own node types (anything else raises)."""
    if isinstance(value, dict):
        if "n" in value:
            return _NODE_TYPES[value["n"]](*[decode(v) for v in value["f"]])
        if "t" in value:
            return tuple(decode(v) for v in value["t"])
        if "d" in value:
            return {k: decode(v) for k, v in value["d"]}
        if "l" in value:
            return [decode(v) for v in value["l"]]
        raise ValueError("not an encoded AST")
    if isinstance(value, list):
        raise ValueError("not an encoded AST")
    return value


AST_FORMAT = 6  # 2: bodies carry their comments (suppressions are read from them); 3: attributes and blocks carry a file; 4: item lines; 5: repeated JSON keys are errors; 6: inexact decimals, strip markers and NFC strings in the AST


def parse_key(path: str, content: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"ecr-lint {__version__} ast {AST_FORMAT} hcl2 {_hcl2_version()} "
                  f"{os.path.splitext(path)[1]}\0".encode())
    digest.update(content)
    return digest.hexdigest()


class ParseCache:
    """Parsing, remembered by content hash (the content comes from the reading gate)."""

    def __init__(self, store: Store):
        from ecr_lint.hcl import grammar

        self.store = store
        grammar.keep_in(store)  # the parser itself, when it must be built, is kept in the same cache

    def __call__(self, path: str, raw: bytes) -> ast.Body:
        from ecr_lint.loaders.module import parse_text

        key = parse_key(path, raw)
        cached = self.store.get("ast", key)
        if cached is not None:
            try:
                body = decode(cached)
                if isinstance(body, ast.Body):
                    return body
            except (KeyError, TypeError, ValueError, RecursionError):
                pass  # corrupt: parse again and rewrite
        body = parse_text(path, raw)
        try:
            self.store.put("ast", key, encode(body))
        except RecursionError:
            pass
        return body
