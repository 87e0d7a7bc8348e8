"""What a dbt test asserts, in plain words, in Chinese or English: the check titles of the quality
report (quality/report.py) and the descriptions of the Dagster asset checks (transform/dbt_assets.py,
English). Generic tests are worded from their arguments, with the columns' Chinese names (the start
of their YAML descriptions, '总分 — …') on the Chinese side. A test written by hand says it itself
(docs/readers.md, "Check titles"): a singular test in its leading SQL comment, English first, then
the Chinese under a line starting `-- zh:`; a test with a YAML `description:` as '中文 — English'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

LANGUAGES = ("zh", "en")
ZH_MARK = "zh:"  # the leading comment line of a singular test where its Chinese starts
# A label lookup for accepted values: (column, codes) → their Chinese labels, or None when not all are known.
ValueLabels = Callable[[str, Sequence[Any]], Sequence[str] | None]
_CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef·]+")


def chinese_name(description: str, fallback: str | None = None) -> str:
    """The Chinese name a description starts with ('在编人数 H_u' → '在编人数'), without the formula
    or the English note after it; `fallback` (else the description itself) when it starts otherwise."""
    found = _CHINESE.match(description or "")
    if found and found.group(0).rstrip("（("):
        return found.group(0).rstrip("（(")
    return description if fallback is None else fallback


def describe_test(
    node: Mapping[str, Any],
    lang: str = "en",
    manifest: Mapping[str, Any] | None = None,
    value_labels: ValueLabels | None = None,
) -> str:
    """What the dbt test `node` (of the manifest) asserts, in `lang`. The Chinese names its columns
    by their Chinese names when `manifest` is given (else by their names) and the accepted values
    by their labels when `value_labels` knows them all (else by their number)."""
    if node.get("description"):
        return _bilingual_description(node["description"], lang)
    test = node.get("test_metadata") or {}
    if not test:
        return _singular(node, lang)
    kwargs = test.get("kwargs") or {}
    zh = lang == "zh"
    columns = _column_names(node, manifest) if zh else {}

    def name(column: str) -> str:
        column = str(column).strip('"')
        return columns.get(column.lower(), column) if zh else column

    def names(some: Sequence[str]) -> str:
        return ("、" if zh else ", ").join(name(c) for c in some)

    def key_of(some: Sequence[str]) -> str:  # a key of several columns in brackets: （年度、单位代码）
        return f"（{names(some)}）" if len(some) > 1 else names(some)

    column = str(kwargs.get("column_name") or "")
    kind = test.get("name")
    if kind == "primary_key":
        key = list(kwargs.get("columns") or [])
        required = [*key, *(c for c in kwargs.get("required") or [] if c not in key)]
        if zh:
            return f"每个{key_of(key)}只有一行；{names(required)}不为空"
        return f"one row per ({names(key)}); no null in: {names(required)}"
    if kind == "unique_combination":
        return f"每个{key_of(kwargs['columns'])}只有一行" if zh else f"one row per ({names(kwargs['columns'])})"
    if kind == "not_null_columns":
        return (
            f"{names(kwargs['columns'])}不为空"
            if zh
            else f"no null in the required columns: {names(kwargs['columns'])}"
        )
    if kind == "unique":
        return f"{name(column)}不重复" if zh else f"{name(column)} is unique"
    if kind == "not_null":
        return f"{name(column)}不为空" if zh else f"{name(column)} is not null"
    if kind == "accepted_values":
        values = list(kwargs.get("values") or [])
        if not zh:
            return f"{name(column)} is one of: " + ", ".join(str(v) for v in values)
        labels = value_labels(column.strip('"'), values) if value_labels else None
        if labels:
            quoted = any("，" in label for label in labels)  # a label with a comma would blur the list
            return f"{name(column)}只能是：" + "、".join(f"“{label}”" if quoted else label for label in labels)
        return f"{name(column)}只能是规定的{len(values)}个代码之一"
    if kind == "relationships":
        target = str(kwargs.get("to", "")).removeprefix("ref(").removesuffix(")").strip("'\"")
        field = str(kwargs.get("field", ""))
        if zh:
            model = _model(manifest, target)
            fields = _column_names(model, None) if model else {}
            table = chinese_name(model.get("description", ""), target) if model else target
            return f"每个{name(column)}都能在{table}的{fields.get(field.strip(chr(34)).lower(), field)}中找到"
        return f"every {column.strip(chr(34))} exists in {target}.{field}"
    return node["name"]


def _bilingual_description(description: str, lang: str) -> str:
    """A YAML description written '中文 — English': its side in `lang`; the whole text when it is
    not written so."""
    zh, dash, en = description.partition(" — ")
    if not dash or chinese_name(zh, "") != zh.strip():
        return description
    return zh.strip() if lang == "zh" else en.strip()


def _singular(node: Mapping[str, Any], lang: str) -> str:
    """A singular test's leading SQL comment (what a failure means): the English lines, or the lines
    from `-- zh:` on; the English when it has no Chinese, the test's name when it has no comment."""
    parts: dict[str, list[str]] = {"en": [], "zh": []}
    side = "en"
    for line in (node.get("raw_code") or "").splitlines():
        if not line.startswith("--"):
            break
        text = line.removeprefix("--").strip()
        if text.startswith(ZH_MARK):
            side, text = "zh", text.removeprefix(ZH_MARK).strip()
        parts[side].append(text)
    zh = "".join(parts["zh"])
    en = " ".join(parts["en"])
    return (zh if lang == "zh" and zh else en) or node["name"]


def _column_names(node: Mapping[str, Any] | None, manifest: Mapping[str, Any] | None) -> dict[str, str]:
    """column (lower case) → its Chinese name, of the model a test is attached to (or of `node` itself
    when `manifest` is None)."""
    model = node
    if manifest is not None and node is not None:
        attached = node.get("attached_node")
        model = manifest.get("nodes", {}).get(attached) or manifest.get("sources", {}).get(attached)
    if not model:
        return {}
    return {
        str(name).strip('"').lower(): chinese_name(column.get("description", ""), str(name).strip('"'))
        for name, column in (model.get("columns") or {}).items()
    }


def _model(manifest: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if manifest is None:
        return None
    return next(
        (n for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model" and n["name"] == name),
        None,
    )
