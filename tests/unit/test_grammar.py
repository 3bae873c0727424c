"""The pickled HCL parser (ecr_lint/loaders/grammar.py) parses exactly as python-hcl2's own."""

from __future__ import annotations

import os
import pickle

import pytest

from ecr_lint.hcl import grammar

from conftest import REPO, SHARED


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """grammar.parser() with its file in tmp_path and nothing loaded yet."""
    monkeypatch.setattr(grammar, "_PATH", str(tmp_path / ".hcl2_parser.pickle"))
    grammar.parser.cache_clear()
    yield tmp_path / ".hcl2_parser.pickle"
    grammar.parser.cache_clear()


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


def test_the_file_is_written_once_and_then_loaded(fresh):
    first = grammar.parser()
    assert fresh.exists()
    grammar.parser.cache_clear()
    second = grammar.parser()
    assert second is not first  # unpickled, not rebuilt or shared
    assert grammar._shape(second.parse(grammar.SAMPLE)) == grammar._shape(first.parse(grammar.SAMPLE))


@pytest.mark.parametrize("content", [b"", b"garbage", b"ecr-lint parser 0 python (2, 7, 0)\n...", None])
def test_a_bad_or_stale_file_is_rebuilt(fresh, content):
    grammar.parser()
    if content is None:  # right key, truncated pickle
        content = fresh.read_bytes()[:1000]
    fresh.write_bytes(content)
    grammar.parser.cache_clear()
    assert grammar.parser().parse('a = 1\n') is not None
    assert fresh.read_bytes().startswith(grammar._key())


def test_an_unwritable_place_is_not_an_error(fresh, monkeypatch):
    monkeypatch.setattr(grammar, "_PATH", str(fresh.parent / "missing-dir" / "p.pickle"))
    assert grammar.parser().parse('a = 1\n') is not None
    assert not (fresh.parent / "missing-dir").exists()


def test_a_read_only_place_costs_no_pickling(fresh, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("nothing to pickle where nothing can be written")

    monkeypatch.setattr(grammar.os, "access", lambda path, mode: False)
    monkeypatch.setattr(grammar, "_dumps", refuse)
    assert grammar.parser().parse('a = 1\n') is not None
    assert not fresh.exists()


def test_the_file_is_readable_by_everyone_and_no_temporary_file_is_left(fresh, monkeypatch):
    grammar.parser()
    assert fresh.stat().st_mode & 0o777 == 0o644
    grammar.parser.cache_clear()
    fresh.unlink()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(grammar.os, "replace", fail)
    grammar.parser()
    assert os.listdir(fresh.parent) == []


def test_the_key_follows_the_grammar_not_only_the_version(fresh, monkeypatch, tmp_path):
    import hcl2

    grammar.parser.cache_clear()
    original = grammar._key()
    patched = tmp_path / "hcl2"
    patched.mkdir()
    for name in ("hcl2.lark", "parser.py"):
        (patched / name).write_bytes(open(os.path.join(os.path.dirname(hcl2.__file__), name), "rb").read())
    (patched / "hcl2.lark").write_bytes((patched / "hcl2.lark").read_bytes() + b"\n// patched\n")
    monkeypatch.setattr(hcl2, "__file__", str(patched / "__init__.py"))
    assert grammar._key() != original
