#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Turns every ```cpp block of the given Markdown files into one header, so
that the tests compile the documentation's C++ examples and run them
(unit-readme.cpp calls README.md's; unit-docs.cpp runs every docs/ one).

    doc_examples.py --output OUT.hpp --namespace readme_example README.md
    doc_examples.py --output OUT.hpp --namespace doc --registry \\
                    --check-dir docs --root . docs/a.md docs/b.md ...

The convention, for whoever writes an example:

- A ```cpp block is a piece of a translation unit: #include lines,
  declarations, function definitions. Each block is compiled in a namespace
  of its own (its #include lines are hoisted out of it), so blocks do not
  see each other's names; `namespace fw = fiskil::webhooks;` in the block is
  fine.
- A block that defines `int main()` is run: main must return 0, which the
  example uses to say that what it shows held (return 1 when it did not).
- A block right after the line `<!-- fragment -->` is a list of statements:
  it is wrapped in `int main() { ...; return 0; }` and run.
- Every other fence (```sh, ```text, ...) is not C++ and is left alone.

With --namespace readme_example, block N goes into `readme_example_N` and
its main becomes `main_N` (unit-readme.cpp calls them by name). With
--registry, block N of docs/x/y.md goes into `doc_x_y_N`, its main becomes
`example_main`, and `doc_examples[]` lists every block that has a main
(`doc_example_count` counts all blocks) for unit-docs.cpp to run.

--check-dir DIR fails the build when a Markdown file under DIR holds a
```cpp block but was not given, so that no page's examples escape the tests.
"""
import argparse
import pathlib
import re
import sys

FENCE = re.compile(r"^```cpp[ \t]*\n(.*?)^```[ \t]*$", flags=re.S | re.M)
FRAGMENT = "<!-- fragment -->"


def blocks_of(path):
    """[(first line number of the code, code, is_fragment)]."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start(1)) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        found.append((line, match.group(1), before.strip() == FRAGMENT))
    return found


def slug(relative):
    return re.sub(r"[^A-Za-z0-9]+", "_", str(relative.with_suffix(""))).strip("_")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, type=pathlib.Path)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--registry", action="store_true")
    parser.add_argument("--root", type=pathlib.Path, default=None,
                        help="paths in #line directives and names are relative to this directory")
    parser.add_argument("--check-dir", type=pathlib.Path, default=None)
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args()

    files = [f.resolve() for f in args.files]
    root = (args.root or pathlib.Path(files[0]).parent).resolve()
    if args.check_dir is not None:
        missing = [p for p in sorted(args.check_dir.resolve().rglob("*.md"))
                   if p not in files and blocks_of(p)]
        if missing:
            sys.exit("doc_examples.py: these pages have ```cpp blocks but are not listed in tests/meson.build: "
                     + ", ".join(str(p.relative_to(root)) for p in missing))

    includes, bodies, registry, total = [], [], [], 0
    for path in files:
        relative = path.relative_to(root)
        blocks = blocks_of(path)
        if not blocks and not args.registry:
            sys.exit(f"{relative}: no ```cpp blocks")
        for n, (line, code, fragment) in enumerate(blocks, start=1):
            total += 1
            lines = []
            for text_line in code.splitlines():
                if text_line.startswith("#include"):
                    if text_line not in includes:
                        includes.append(text_line)
                    text_line = ""  # keep the line count, for #line
                lines.append(text_line)
            body = "\n".join(lines)
            main_name = f"main_{n}" if not args.registry else "example_main"
            if fragment:
                body = f"int {main_name}() {{\n{body}\nreturn 0;\n}}"
                line -= 1
            else:
                body = re.sub(r"\bint main\(\)", f"int {main_name}()", body)
            has_main = re.search(rf"\bint {main_name}\(\)", body) is not None
            name = f"{args.namespace}_{n}" if not args.registry else f"{args.namespace}_{slug(relative)}_{n}"
            bodies.append(f"namespace {name} {{\n#line {line} \"{relative}\"\n{body}\n}}  // namespace {name}\n")
            if has_main:
                registry.append((f"{relative}:{line}", f"{name}::{main_name}"))
            elif fragment:
                sys.exit(f"{relative}:{line}: a fragment must be statements")

    out = [f"// Generated from {', '.join(str(f.relative_to(root)) for f in files)} by tests/doc_examples.py. Do not edit.",
           "#pragma once"]
    out += includes + [""] + bodies
    if args.registry:
        out.append(f"struct {args.namespace}_example {{ const char* where; int (*run)(); }};")
        entries = "".join(f"\n    {{\"{where}\", &{fn}}}," for where, fn in registry)
        out.append(f"inline constexpr {args.namespace}_example {args.namespace}_examples[] = {{{entries}\n}};")
        out.append(f"inline constexpr int {args.namespace}_example_count = {total};")
    else:
        out.append(f"inline constexpr int {args.namespace}_count = {total};")
    args.output.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
