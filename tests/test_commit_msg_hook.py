"""The commit-msg hook keeps subjects to 72 characters with the details in the body."""

import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[1] / ".githooks" / "commit-msg"


def _hook(tmp_path: Path, message: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message, encoding="utf-8")
    return subprocess.run(["bash", str(HOOK), str(path)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("message", [
    "x" * 72 + "\n",
    "Short subject\n\nA body line that runs well past seventy-two characters is fine: only the subject is held.\n",
    "# a comment git strips\nShort subject\n",
])
def test_a_subject_of_72_characters_or_fewer_passes(tmp_path: Path, message: str) -> None:
    assert _hook(tmp_path, message).returncode == 0


@pytest.mark.parametrize(("message", "says"), [
    ("x" * 73 + "\n", "73 characters"),
    ("Subject\ncontinued on the second line\n", "second line blank"),
])
def test_a_long_subject_or_a_subject_without_a_blank_line_is_refused(tmp_path: Path, message: str,
                                                                    says: str) -> None:
    done = _hook(tmp_path, message)
    assert done.returncode == 1
    assert says in done.stderr
