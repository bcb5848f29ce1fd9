"""Damage for the fuzz tests (hypothesis): what a typo, a bad tool, a bad merge or a full disk does
to a spec or a result file. Each function draws its choices from a hypothesis `data` object, so a
failure shrinks to the smallest damage that still breaks something."""

from __future__ import annotations

import csv
import io
import json
import math

from hypothesis import strategies as st

# a bad value of any type, nested a little
junk = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# the values that break numeric code: zero, negatives, overflow, NaN/inf, numbers as strings, wrong types
edge = st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, -(10**9), 0.5, math.nan, math.inf, -math.inf, "", "3",
                        "abc", True, None, [], {}])
edge_cell = st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "abc", "1,5", "9" * 30,
                             "None", "true", " ", "\x00", "é"])


def rarely(data: st.DataObject, one_in: int) -> bool:
    """True about once in `one_in` draws. (Not `integers(0, n) == 0`: hypothesis favours 0 and
    boundaries, which made a "1 in 20" event happen one time in three.)"""
    return data.draw(st.sampled_from([False] * (one_in - 1) + [True]))


def places(node, path: tuple = ()) -> list[tuple]:
    """Every path into a nested JSON-like value (keys and list positions), the root excluded."""
    inner = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    return [p for key, child in inner for p in [(*path, key), *places(child, (*path, key))]]


def mutate_tree(data: st.DataObject, tree, most: int = 3, untouched: int = 1):
    """0..`most` damages at random places (none with weight `untouched`, each other count with
    weight 1): a bad value, a key dropped or added, a value wrapped in a list, or the whole tree
    re-nested (wrapped in a list, or replaced by one of its parts)."""
    for _ in range(data.draw(st.sampled_from([0] * untouched + list(range(1, most + 1))))):
        found = places(tree)
        how = data.draw(st.sampled_from(["edge", "junk", "drop", "add", "wrap", "nest"]))
        if how == "nest" or not found:
            tree = [tree] if data.draw(st.booleans()) or not found else _get(tree, data.draw(st.sampled_from(found)))
            continue
        *parent_path, key = data.draw(st.sampled_from(found))
        parent = _get(tree, parent_path)
        if how == "edge":
            parent[key] = data.draw(edge)
        elif how == "junk":
            parent[key] = data.draw(junk)
        elif how == "drop":
            del parent[key]
        elif how == "add" and isinstance(parent, dict):
            parent[data.draw(st.text("xyz_", min_size=1, max_size=5))] = data.draw(junk)
        else:
            parent[key] = [parent[key]]
    return tree


def _get(tree, path):
    for step in path:
        tree = tree[step]
    return tree


def mutate_json_text(data: st.DataObject, text: str) -> str:
    """A JSON document damaged as a tree; sometimes with a key duplicated in the text (which the
    tree cannot express), NaN/Infinity literals allowed."""
    tree = mutate_tree(data, json.loads(text))
    out = json.dumps(tree, allow_nan=True)
    if rarely(data, 10) and out.startswith("{") and len(out) > 2:
        first = out[1:].split(",")[0].rstrip("}")
        out = "{" + first + ", " + out[1:]  # the first key again, with its value
    return out


def mutate_jsonl_text(data: st.DataObject, text: str) -> str:
    """Lines damaged one by one, dropped, duplicated, or joined by a junk line."""
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(0, 3))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        how = data.draw(st.sampled_from(["tree", "tree", "drop", "duplicate", "junk"]))
        if how == "tree":
            lines[i] = mutate_json_text(data, lines[i]) if _is_json(lines[i]) else lines[i]
        elif how == "drop":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines.insert(i, data.draw(st.text(max_size=20)).replace("\n", " "))
    return "\n".join(lines) + "\n"


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def mutate_csv_text(data: st.DataObject, text: str) -> str:
    """Cells set to NaN/inf/strings/blanks, columns dropped/duplicated/added, rows dropped,
    duplicated or made ragged, the header lost."""
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(data.draw(st.integers(0, 4))):
        if not rows or not rows[0]:
            break
        width = len(rows[0])
        how = data.draw(st.sampled_from(["cell", "cell", "cell", "drop_col", "dup_col", "add_col", "drop_row",
                                         "dup_row", "ragged", "no_header"]))
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, width - 1))
        if how == "cell" and c < len(rows[r]):
            rows[r][c] = data.draw(edge_cell)
        elif how == "drop_col":
            rows = [[v for j, v in enumerate(row) if j != c] for row in rows]
        elif how == "dup_col":
            rows = [row + [row[c]] if c < len(row) else row for row in rows]
        elif how == "add_col":
            rows = [row + [data.draw(edge_cell)] for row in rows]
        elif how == "drop_row":
            del rows[r]
        elif how == "dup_row":
            rows.insert(r, list(rows[r]))
        elif how == "ragged" and rows[r]:
            rows[r] = rows[r][:-1]
        elif how == "no_header":
            rows = rows[1:]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def damage_bytes(data: st.DataObject, raw: bytes, rate: int = 8) -> bytes:
    """About one file in `rate`: truncated (a full disk), spliced with binary junk, prefixed with a
    byte-order mark, emptied, or replaced by binary noise."""
    if not rarely(data, rate):
        return raw
    how = data.draw(st.sampled_from(["truncate", "splice", "bom", "empty", "binary"]))
    if how == "truncate":
        return raw[: data.draw(st.integers(0, len(raw)))]
    if how == "splice":
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + data.draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + raw
    if how == "empty":
        return b""
    return data.draw(st.binary(max_size=200))
