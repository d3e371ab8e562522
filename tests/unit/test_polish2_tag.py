"""``newsflow tag`` says what is wrong with its input, in one line, and never crashes.

UTF-16 input (what PowerShell's ``>`` writes) crashed with a traceback; now it is
one clear error line and a non-zero exit. A bad JSON line 2 said "line 1 column
11" (the parser counts within the line); now the position is the column only.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.formats import parse_body
from newsflow.domain.normalise import Rejection, decode_entry
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow_tools.evaluation import run_tag

pytestmark = pytest.mark.tools

NOW = datetime(2026, 11, 29, tzinfo=UTC)
GOOD = orjson.dumps({"title": "ODIHR opens an observation mission"}) + b"\n"
BAD_LINE_2 = GOOD + b'{"title": oops}\n' + GOOD


def run(stdin: bytes) -> tuple[int, str, str]:
    """``newsflow tag`` as a subprocess: exit code, stdout, stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "newsflow_tools.cli", "tag"],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_input_is_one_clear_error(encoding: str) -> None:
    code, out, err = run(GOOD.decode().encode(encoding) * 3)
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("newsflow tag: ")
    assert "UTF-16" in line
    assert "UTF-8" in line


def test_a_line_that_is_not_utf8_is_reported_and_the_rest_tagged() -> None:
    code, out, err = run(GOOD + '{"title": "Caf\xe9"}\n'.encode("latin-1") + GOOD)
    assert code == 1
    assert len(out.splitlines()) == 2
    assert "Traceback" not in err
    assert err.splitlines() == ["line 2: item: not UTF-8 text"]


def test_a_bad_json_line_names_its_own_line_only() -> None:
    code, out, err = run(BAD_LINE_2)
    assert code == 1
    assert len(out.splitlines()) == 2
    (line,) = err.splitlines()
    assert line.startswith("line 2: item: not valid JSON: ")
    assert "line 1" not in line
    assert line.endswith("at column 11")


def test_run_tag_with_a_strict_stdin_reports_instead_of_raising() -> None:
    """A stdin that raises on bad bytes (PYTHONIOENCODING=utf-8:strict) is no crash either."""
    stdin = io.TextIOWrapper(io.BytesIO(GOOD + b"\xff\xfe{\n"), encoding="utf-8", errors="strict")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_tag(stdin, stdout, stderr, Tagger(load_taxonomy()), NOW) == 1
    assert "Traceback" not in stderr.getvalue()
    assert "UTF-8" in stderr.getvalue()


def test_push_and_stream_entries_give_positions_that_agree_with_the_line() -> None:
    result = parse_body(BAD_LINE_2, "jsonl")
    (error,) = result.errors
    assert (error.line, error.message) == (
        2,
        "not valid JSON: unexpected character, expected a JSON value at column 11",
    )
    # a document of several lines keeps the line of its own
    with pytest.raises(Rejection) as refused:
        decode_entry({"item": '{\n"title": oops}'})
    assert refused.value.reason.endswith("at line 2 column 10")
