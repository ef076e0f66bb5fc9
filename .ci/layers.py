#!/usr/bin/env python3
"""Checks that the runtime crate's imports run down its layers (see README, Layout).

usage: layers.py [SRC_DIR]   (default: combtest/src)

Each file belongs to a layer: its top folder under src/ (model/, config/, ...) or, for a
file at the top, its stem (builder.rs, typed.rs, error.rs). A file may name `crate::X`
only when X's layer is its own or one the table below allows; `pub use` re-exports and
`#[cfg(test)]` code are not imports. Prints every offending reference and exits 1 if any.
"""
import os
import re
import sys

ALLOWED = {
    "error": set(),
    "covering": set(),
    "model": {"error"},
    "config": {"model", "error"},
    "output": {"config", "model", "error"},
    "engine": {"config", "model", "output", "error"},
    "builder": {"config", "covering", "engine", "error", "model", "output"},
    "typed": {"builder", "engine", "model"},
}

src = sys.argv[1] if len(sys.argv) > 1 else "combtest/src"
problems = []
for root, _, names in os.walk(src):
    for name in sorted(names):
        rel = os.path.relpath(os.path.join(root, name), src)
        top = rel.split(os.sep)[0]
        if not name.endswith(".rs") or top in ("lib.rs", "bin"):
            continue
        layer = top[:-3] if top.endswith(".rs") else top
        if layer not in ALLOWED:
            problems.append(f"{rel}: layer `{layer}` is not in the table of layers.py")
            continue
        text = open(os.path.join(root, name), encoding="utf-8").read()
        text = text.split("#[cfg(test)]")[0]
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"pub(\([^)]*\))?\s+use\s+[^;]+;", "", text)
        for target in sorted(set(re.findall(r"\bcrate::(\w+)", text))):
            if target in ALLOWED and target != layer and target not in ALLOWED[layer]:
                problems.append(f"{rel}: imports `crate::{target}`, a layer above `{layer}`")
for problem in problems:
    print(problem)
print(f"{len(problems)} imports against the layers")
sys.exit(1 if problems else 0)
