"""The pickled HCL parser (ecr_lint/hcl/grammar.py): parses exactly as python-hcl2's own, is kept
only in the user cache as a signed entry, and is never unpickled unless its signature verifies."""

from __future__ import annotations

import os
import pickle

import pytest

from ecr_lint import cache
from ecr_lint.hcl import grammar

from conftest import REPO, SHARED


@pytest.fixture
def store(tmp_path):
    """A fresh cache in tmp_path that parser() keeps the parser in, and nothing loaded yet."""
    grammar.forget()
    opened = cache.Store(str(tmp_path / "cache"))
    grammar.keep_in(opened)
    yield opened
    grammar.keep_in(None)
    grammar.forget()
    opened.close()


def _entry(store: cache.Store) -> str:
    key = grammar._key()
    return os.path.join(store.root, grammar.KIND, key[:2], key[2:] + ".bin")


def _tf_files() -> list[str]:
    roots = [os.path.join(REPO, "fixtures"), os.path.join(REPO, "terraform"), os.path.join(SHARED, "corpus")]
    return sorted(os.path.join(d, f) for root in roots for d, _, files in os.walk(root) for f in files
                  if f.endswith(".tf"))


def test_the_pickled_parser_parses_every_file_as_python_hcl2_does():
    from hcl2.parser import parser as build

    original = build()
    copy = pickle.loads(grammar._dumps(original))
    files = _tf_files()
    # the project's own files alone, or with the corpus of ../shared beside the repository
    least = 100 if os.path.isdir(os.path.join(SHARED, "corpus")) else 30
    assert len(files) > least
    compared = 0
    for path in files:
        text = open(path, encoding="utf-8", errors="replace").read() + "\n"
        try:
            expected = grammar._shape(original.parse(text))
        except Exception as exc:  # a file python-hcl2 rejects must be rejected the same way
            with pytest.raises(type(exc)):
                copy.parse(text)
            continue
        assert grammar._shape(copy.parse(text)) == expected, path
        compared += 1
    assert compared > least


def test_the_sample_covers_the_grammar_and_parses():
    from hcl2.parser import parser as build

    rules = {entry[0] for entry in grammar._shape(build().parse(grammar.SAMPLE)) if isinstance(entry[0], str)}
    for rule in ("heredoc_template", "heredoc_template_trim", "for_tuple_expr", "for_object_expr", "conditional",
                 "full_splat", "attr_splat", "binary_op", "unary_op", "function_call", "index_expr_term"):
        assert rule in rules, rule


def test_the_parser_is_kept_in_the_cache_once_and_then_loaded(store):
    first = grammar.parser()
    entry = _entry(store)
    assert os.path.isfile(entry)
    assert os.stat(entry).st_mode & 0o777 == 0o600  # the user's alone, like every cache entry
    written = os.stat(entry).st_mtime_ns
    grammar.forget()
    second = grammar.parser()
    assert second is not first  # unpickled, not rebuilt or shared
    assert grammar._shape(second.parse(grammar.SAMPLE)) == grammar._shape(first.parse(grammar.SAMPLE))
    assert os.stat(entry).st_mtime_ns == written  # loaded, not written again


def _planted_pickle(marker) -> bytes:
    """A pickle that, if it were ever unpickled, would create `marker` (what an attacker plants)."""

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Payload())


@pytest.mark.parametrize("signer", ["unsigned", "another key", "a JSON entry's kind"])
def test_a_planted_pickle_is_never_unpickled(store, tmp_path, signer):
    import hmac

    marker = tmp_path / "unpickled"
    body = _planted_pickle(marker)
    key = grammar._key()
    if signer == "unsigned":
        mac = b"0" * 64
    elif signer == "another key":
        mac = hmac.digest(b"k" * 32, f"{grammar.KIND}\0{key}\0".encode() + b"bytes\0" + body, "sha256").hex().encode()
    else:  # signed with the right key, but as a JSON entry would be: not a bytes entry's signature
        mac = store._mac(grammar.KIND, key, body)
    os.makedirs(os.path.dirname(_entry(store)), mode=0o700, exist_ok=True)
    with open(_entry(store), "wb") as handle:
        handle.write(mac + b"\n" + body)
    assert grammar.parser().parse("a = 1\n") is not None
    assert not marker.exists()
    assert store.get_bytes(grammar.KIND, key) not in (None, body)  # replaced by the real parser, signed


def test_a_signed_entry_that_does_not_unpickle_is_rebuilt(store):
    store.put_bytes(grammar.KIND, grammar._key(), b"not a pickle")
    assert grammar.parser().parse("a = 1\n") is not None


def test_a_truncated_entry_is_rebuilt(store):
    grammar.parser()
    entry = _entry(store)
    data = open(entry, "rb").read()
    with open(entry, "wb") as handle:
        handle.write(data[:1000])
    grammar.forget()
    assert store.get_bytes(grammar.KIND, grammar._key()) is None
    assert grammar.parser().parse("a = 1\n") is not None
    assert store.get_bytes(grammar.KIND, grammar._key()) is not None  # written again, whole


def test_without_a_cache_the_parser_is_built_and_kept_nowhere():
    grammar.keep_in(None)
    grammar.forget()
    before = set(os.listdir(os.path.dirname(grammar.__file__)))
    assert grammar.parser().parse("a = 1\n") is not None
    assert set(os.listdir(os.path.dirname(grammar.__file__))) == before
    grammar.forget()


def test_a_cache_that_is_not_trusted_is_not_used(tmp_path, capfd):
    root = tmp_path / "cache"
    root.mkdir()
    root.chmod(0o777)  # writable by others: anyone could have planted the parser
    grammar.forget()
    opened = cache.Store(str(root))
    assert opened.root is None
    grammar.keep_in(opened)
    try:
        assert grammar.parser().parse("a = 1\n") is not None
    finally:
        grammar.keep_in(None)
        grammar.forget()
    assert os.listdir(root) == []
    assert "cache not used" in capfd.readouterr().err


def test_the_key_follows_the_grammar_not_only_the_version(monkeypatch, tmp_path):
    import hcl2

    original = grammar._key()
    patched = tmp_path / "hcl2"
    patched.mkdir()
    for name in ("hcl2.lark", "parser.py"):
        (patched / name).write_bytes(open(os.path.join(os.path.dirname(hcl2.__file__), name), "rb").read())
    (patched / "hcl2.lark").write_bytes((patched / "hcl2.lark").read_bytes() + b"\n// patched\n")
    monkeypatch.setattr(hcl2, "__file__", str(patched / "__init__.py"))
    assert grammar._key() != original
    (patched / "parser.py").unlink()
    assert grammar._key() is None  # unreadable: no cached parser, python-hcl2's way


def test_through_the_cli_the_parser_goes_to_the_user_cache_and_no_cache_means_none(tmp_path):
    import subprocess
    import sys

    import ecr_lint

    package = os.path.dirname(ecr_lint.__file__)
    before = {os.path.join(d, f) for d, _, files in os.walk(package) for f in files if "__pycache__" not in d}
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    seed = os.path.join(REPO, "fixtures", "seed_as_written")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ecr_lint", seed, *args], env=env, capture_output=True,
                              text=True, timeout=120)

    bypassed = run("--no-cache")
    assert (bypassed.returncode, bypassed.stderr) == (1, "")
    assert not (tmp_path / "cache").exists()
    cached = run()
    assert (cached.returncode, cached.stderr) == (1, "")
    assert len(os.listdir(tmp_path / "cache" / "ecr-lint" / "v1" / grammar.KIND)) == 1
    after = {os.path.join(d, f) for d, _, files in os.walk(package) for f in files if "__pycache__" not in d}
    assert after == before  # nothing written beside the code
