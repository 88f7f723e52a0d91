#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Turns every ```cpp block of README.md into one header, so that the tests
compile the README's examples and call them (see unit-readme.cpp).

Block N goes into `namespace readme_example_N`, its #include lines are
hoisted to the top, and a `main` becomes `main_N`.

    readme_examples.py README.md OUTPUT.hpp
"""
import re
import sys


def main(readme_path, output_path):
    text = open(readme_path, encoding="utf-8").read()
    blocks = re.findall(r"^```cpp\n(.*?)^```", text, flags=re.S | re.M)
    if not blocks:
        sys.exit(f"{readme_path}: no ```cpp blocks")
    includes, bodies = [], []
    for n, block in enumerate(blocks, start=1):
        lines = []
        for line in block.splitlines():
            if line.startswith("#include"):
                if line not in includes:
                    includes.append(line)
            else:
                lines.append(line)
        body = "\n".join(lines)
        body = re.sub(r"\bint main\(", f"int main_{n}(", body)
        bodies.append(f"namespace readme_example_{n} {{\n#line 1 \"README.md block {n}\"\n{body}\n}}  // namespace readme_example_{n}\n")
    out = ["// Generated from README.md by tests/readme_examples.py. Do not edit.", "#pragma once"]
    out += includes + [""] + bodies
    out.append(f"inline constexpr int readme_example_count = {len(blocks)};")
    with open(output_path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
