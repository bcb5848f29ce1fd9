"""The import formats described for people, from the registry itself.

`import --help` and the README's "Importing results" section print this text, so the documented
columns are exactly the columns the importers read (and warn about when unknown).
"""

from __future__ import annotations

from emergelab.store.importers.base import REGISTRY, Column

EXAMPLES_FOLDER = "examples/data"


def _column(col: Column) -> str:
    notes = [col.unit] if col.unit else []
    if col.aliases:
        notes.append("also " + ", ".join(f"`{a}`" for a in col.aliases))
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"`{col.name}`{extra}: {col.meaning}"


def format_reference() -> str:
    """Markdown: per format its description, example file, and required then optional columns."""
    parts = []
    for reg in REGISTRY.values():
        example = f" Example: `{EXAMPLES_FOLDER}/{reg.example}`." if reg.example else ""
        lines = [f"**{reg.name}**: {reg.description}.{example}", ""]
        for required, title in ((True, "required"), (False, "optional")):
            cols = [c for c in reg.columns if c.required == required]
            lines += [f"- {title} {_column(c)}" for c in cols]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
