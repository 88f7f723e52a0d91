#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Checks the documentation's shape: README.md stays at most 8 KiB, and every
relative link in README.md and docs/**/*.md names a file that exists (and,
for a #fragment into a Markdown page, a heading that exists).

    doc_links.py SOURCE_ROOT
"""
import pathlib
import re
import sys

README_LIMIT = 8192
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page):
    found = set()
    for heading in re.findall(r"^#+ (.*)$", page.read_text(encoding="utf-8"), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def main(root):
    root = pathlib.Path(root).resolve()
    problems = []
    size = (root / "README.md").stat().st_size
    if size > README_LIMIT:
        problems.append(f"README.md is {size} bytes, over {README_LIMIT}: move detail into docs/")
    pages = [root / "README.md"] + sorted((root / "docs").rglob("*.md"))
    for page in pages:
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # http:, https:, mailto:
            path, _, fragment = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(root)}: link {target}"
            if not resolved.exists():
                problems.append(f"{where}: no such file")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                problems.append(f"{where}: no heading #{fragment}")
    for problem in problems:
        print(problem)
    print(f"{len(pages)} pages checked, README.md {size} bytes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
