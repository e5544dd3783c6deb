"""Print the transform reference (Markdown) for crosswalk authors: ``python -m mappings.transforms``."""

from __future__ import annotations

from mappings.transforms import TRANSFORMS


def reference() -> str:
    lines = ["| transform | takes | gives | arguments | what it does |", "|---|---|---|---|---|"]
    for name in sorted(TRANSFORMS):
        spec = TRANSFORMS[name]
        args = ", ".join(f"`{p}`" + ("*" if param.required else "") + (" (shorthand)" if p == spec.primary else "")
                         for p, param in spec.params.items()) or "-"
        doc = " ".join(spec.doc.split("\n\n")[0].split())
        lines.append(f"| `{name}` | {'/'.join(sorted(spec.accepts))} | {spec.produces or 'same'} | "
                     f"{args} | {doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
