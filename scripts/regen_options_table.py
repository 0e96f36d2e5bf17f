"""Rewrite the generated options table in docs/reference/options.md from the option table.

Run it after adding or changing an option (`cli/option_table.OPTIONS`):
`.venv/bin/python scripts/regen_options_table.py`. `tests/cli/test_help_is_complete.py` fails while the page's
table differs from `option_table.markdown_table()`.
"""

from __future__ import annotations

from pathlib import Path

from coupon_harness.cli.option_table import markdown_table

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "options.md"
BEGIN, END = "<!-- options:begin", "<!-- options:end -->"


def main() -> None:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("\n", text.index(BEGIN)) + 1
    end = text.index(END)
    PAGE.write_text(text[:start] + markdown_table() + "\n" + text[end:], encoding="utf-8")
    print(f"wrote the options table into {PAGE}")


if __name__ == "__main__":
    main()
