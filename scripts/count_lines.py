"""Lines of src/ at git revisions: all lines (wc -l) and code lines (no blank, comment or docstring line).

    .venv/bin/python scripts/count_lines.py [REV ...]     (default: HEAD)

A string statement (a docstring, or a bare string) counts as a docstring; everything else that tokenize reads as
a token is code. Issue 17's "src/ smaller by 1,000 lines" is read with both figures (BENCHMARKS.md).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tokenize

_LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)


def code_lines(text: str) -> int:
    """Lines holding a token that is not a comment, layout, or a string statement."""
    lines: set[int] = set()
    previous: tokenize.TokenInfo | None = None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return 0
    for token in tokens:
        if token.type == tokenize.STRING and (previous is None or previous.type in _LAYOUT):
            previous = token
            continue
        if token.type != tokenize.COMMENT:
            previous = token
        if token.type == tokenize.COMMENT or token.type in _LAYOUT:
            continue
        lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines)


def count(revision: str) -> tuple[int, int]:
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", revision, "src"], capture_output=True,
                           text=True, check=True).stdout.split()
    total = code = 0
    for name in (name for name in names if name.endswith(".py")):
        text = subprocess.run(["git", "show", f"{revision}:{name}"], capture_output=True, text=True,
                              check=True).stdout
        total += text.count("\n")
        code += code_lines(text)
    return total, code


def main(argv: list[str]) -> int:
    for revision in argv or ["HEAD"]:
        total, code = count(revision)
        print(f"{revision}: {total:,} lines, {code:,} code lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
