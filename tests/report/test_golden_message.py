"""The failure message of a golden snapshot: plain text that reads well in a CI log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.report.golden import failure_message

EXPECTED = "\n".join(f"step {n} fund=100" for n in range(1, 11)) + "\n"


def test_the_message_names_the_first_differing_line_with_context_and_a_short_diff() -> None:
    actual = EXPECTED.replace("step 6 fund=100", "step 6 fund=90").replace("step 9", "step 9b")
    lines = failure_message(EXPECTED, actual).splitlines()
    assert lines[:3] == [
        "first difference at line 6:",
        "  expected: step 6 fund=100",
        "  actual:   step 6 fund=90",
    ]
    assert lines[3:11] == [
        "expected around line 6:",
        "      3  step 3 fund=100",
        "      4  step 4 fund=100",
        "      5  step 5 fund=100",
        ">     6  step 6 fund=100",
        "      7  step 7 fund=100",
        "      8  step 8 fund=100",
        "      9  step 9 fund=100",
    ]
    assert lines[11:13] == ["actual around line 6:", "      3  step 3 fund=100"]
    assert lines[15] == ">     6  step 6 fund=90"
    diff = lines[lines.index("diff (- expected, + actual):") + 1 :]
    assert diff[:3] == ["  --- expected", "  +++ actual", "  @@ -5,6 +5,6 @@"]
    assert "  -step 6 fund=100" in diff and "  +step 9b fund=100" in diff
    assert not any("\x1b" in line for line in lines)  # no terminal colour codes


def test_a_shorter_text_and_a_long_diff_are_said_so() -> None:
    lines = failure_message(EXPECTED, "step 1 fund=100\n").splitlines()
    assert lines[:3] == [
        "first difference at line 2:",
        "  expected: step 2 fund=100",
        "  actual:   (no such line)",
    ]
    long = "".join(f"other {n}\n" for n in range(40))
    message = failure_message(EXPECTED, long)
    assert "diff (- expected, + actual, first 30 of 53 lines):" in message
    assert len(message.splitlines()) < 60
    assert failure_message(EXPECTED, EXPECTED) == "the texts are equal"


USER_TEST = """
from harness.testing import golden  # noqa: F401


class Fake:
    pass


def test_text(golden, monkeypatch):
    import harness.testing as t
    monkeypatch.setattr(t, "golden_text", lambda result: open("text.txt").read())
    golden.check(Fake())
"""


def test_a_failing_golden_test_prints_the_message_without_colours(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    (tmp_path / "text.txt").write_text(EXPECTED, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    env = {**os.environ, "FORCE_COLOR": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args, "test_user.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    stored = tmp_path / "__snapshots__" / "test_user" / "test_text.txt"
    stored.parent.mkdir(parents=True)
    stored.write_text(EXPECTED, encoding="utf-8")  # as `--snapshot-update` writes it
    (tmp_path / "text.txt").write_text(EXPECTED.replace("step 4 ", "step 4x "), encoding="utf-8")
    failed = run()
    assert failed.returncode == 1
    out = failed.stdout
    assert (
        "first difference at line 4:\n  expected: step 4 fund=100\n  actual:   step 4x fund=100"
        in out
    )
    assert ">     4  step 4x fund=100" in out
    message = [line for line in out.splitlines() if "step " in line or "around line" in line]
    assert len(message) > 10 and not any("\x1b" in line for line in message)
