"""Configuration files (goal catalogue, sources manifests, self-assessments): a bounded safe YAML
loader, and pydantic errors told as one :class:`~ks_analysis.errors.DataFileError` line.

The loader is PyYAML's SafeLoader (no ``!!python`` tags) with limits, so that no file can make
a run slow or big:

* the file is at most :data:`MAX_YAML_BYTES` and no scalar longer than :data:`MAX_SCALAR_CHARS`;
* aliases are allowed (``ks-analysis fetch`` writes one for a shared lag rule), but the document
  they expand to has at most :data:`MAX_EXPANDED_NODES` nodes: a 1 kB "billion laughs" file is
  refused while it is parsed, in milliseconds, instead of taking a minute and all memory;
* dates stay text (``2019-02-30`` is then reported by the model with its field, not by the parser).
"""

from __future__ import annotations

import copy
import hashlib
import re
import stat
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ks_analysis._memo import Memo
from ks_analysis.errors import DataFileError

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_SCALAR_CHARS",
    "MAX_EXPANDED_NODES",
    "load_yaml",
    "loads_yaml",
    "validate",
    "field_path",
    "first_error",
]


def _n(x: float) -> str:
    """A count with a space between thousands, as in the package's other messages: 17 179 869 184."""
    return f"{round(x):,}".replace(",", " ")


M = TypeVar("M", bound=BaseModel)

#: The largest configuration file read (the packaged goal catalogue is about 20 kB).
MAX_YAML_BYTES = 4 * 1024 * 1024
#: The longest scalar (one text) in a configuration file.
MAX_SCALAR_CHARS = 1_000_000
#: Nodes the document may have once its aliases are expanded.
MAX_EXPANDED_NODES = 200_000


class _YamlRefused(yaml.YAMLError):
    """The bounded loader refused the document: a limit was passed, or a key written twice."""

    def __init__(self, problem: str, line: int | None, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.fix = fix or "write the values out instead of repeating aliases, or shorten the file"


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts the nodes aliases expand to and leaves dates as text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._expanded = 0
        self._sizes: dict[int, int] = {}
        self.max_scalar = MAX_SCALAR_CHARS

    def _size(self, node: yaml.Node) -> int:
        """Nodes of ``node`` with its aliases expanded (memoised, so linear in the file)."""
        key = id(node)
        if key in self._sizes:
            return self._sizes[key]
        self._sizes[key] = 1  # a recursive alias counts once, then the limit catches repeats
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(self._size(n) for n in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
        else:
            total = 1
        self._sizes[key] = total
        return total

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            anchored = self.anchors.get(event.anchor)  # type: ignore[attr-defined]
            if anchored is not None:
                self._expanded += self._size(anchored)
        else:
            self._expanded += 1
        if self._expanded > MAX_EXPANDED_NODES:
            mark = self.peek_event().start_mark
            raise _YamlRefused(
                f"its aliases (*name) expand to more than {_n(MAX_EXPANDED_NODES)} values "
                "(a YAML bomb?)",
                mark.line + 1 if mark else None,
            )
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        if isinstance(node, yaml.MappingNode):
            _no_key_twice(node)
        if isinstance(node, yaml.ScalarNode) and len(node.value) > self.max_scalar:
            raise _YamlRefused(
                f"a value of {_n(len(node.value))} characters is over the limit of "
                f"{_n(self.max_scalar)}",
                node.start_mark.line + 1,
            )
        return node


def _no_key_twice(node: yaml.MappingNode) -> None:
    """Refuse a mapping that writes one key twice: YAML's last-one-wins would silently drop the
    first (``direction: positiv`` then ``direction: negativ``). Keys merged in with ``<<`` may be
    overridden, as YAML intends."""
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        first = seen.get((key.tag, key.value))
        seen[(key.tag, key.value)] = line
        if first is not None:
            raise _YamlRefused(
                f"key {key.value!r} is written twice "
                + (f"(lines {first} and {line})" if first != line else f"on line {line}"),
                line,
                fix="keep one of them: YAML would silently use the last",
            )


_BoundedLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def loads_yaml(
    text: str,
    path: str | Path,
    *,
    fix: str = "check indentation and quoting",
    max_scalar: int = MAX_SCALAR_CHARS,
) -> Any:
    """The YAML document in ``text`` (from ``path``), loaded safely and within the limits.

    A text loaded before in this process is not parsed again (the loader is pure Python, and a
    report reads its catalogue, manifest and period files more than once): the caller gets a
    copy of the kept document.
    """
    key = (
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        max_scalar,
    )
    if key in _LOADED:
        return copy.deepcopy(_LOADED.get(key))
    doc = _load(text, path, fix=fix, max_scalar=max_scalar)
    _LOADED.put(key, copy.deepcopy(doc))
    return doc


#: Documents loaded in this process, by the digest of their text (see :func:`loads_yaml`).
_LOADED: Memo[Any] = Memo(32)


def _load(text: str, path: str | Path, *, fix: str, max_scalar: int) -> Any:
    try:
        # PyYAML checks the whole text for characters YAML does not allow when the loader is made
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:
        raise DataFileError(
            path,
            f"holds a character YAML does not allow ({_char(exc.character)})",
            row=text[: max(int(exc.position), 0)].count("\n") + 1,
            fix="remove it (a control character or NUL byte, often from a copy and paste or a "
            "binary file saved under this name); save the file as plain UTF-8 text",
        ) from None
    loader.max_scalar = max_scalar
    try:
        return loader.get_single_data()
    except _YamlRefused as exc:
        raise DataFileError(path, f"is refused: {exc.problem}", row=exc.line, fix=exc.fix) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise DataFileError(
            path,
            f"is not valid YAML ({problem})",
            row=mark.line + 1 if mark else None,
            fix=fix,
        ) from None
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"is not valid YAML ({exc})", fix=fix) from None
    except RecursionError:
        raise DataFileError(
            path, "is refused: it nests too deeply", fix="flatten the structure"
        ) from None
    finally:
        loader.dispose()


def _char(c: object) -> str:
    """A refused character as a person can find it in an editor: U+0001 (PyYAML gives the code
    point as an int when it read text, as a one-character string otherwise)."""
    if isinstance(c, str) and len(c) == 1:
        return f"U+{ord(c):04X}"
    return f"U+{c:04X}" if isinstance(c, int) else repr(c)


def load_yaml(
    path: Path,
    *,
    what: str,
    fix: str = "check indentation and quoting",
    max_bytes: int = MAX_YAML_BYTES,
    max_scalar: int = MAX_SCALAR_CHARS,
) -> Any:
    """Load the YAML file ``path`` (``what`` names it in messages: 'goal catalogue', ...).

    Raises:
        DataFileError: for a missing, unreadable, too large, non-UTF-8 or invalid file, or one
            that passes the loader's limits; with the line where YAML says the problem is.
    """
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):  # a pipe or device: reading would block or never end
            raise DataFileError(
                path,
                f"is not a regular file (a pipe or device), not a {what}",
                fix="name the file itself",
            )
        size = st.st_size
        if size > max_bytes:
            raise DataFileError(
                path,
                f"is {size / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB for a {what}",
                fix="check that it is the right file",
            )
        with path.open("rb") as fh:  # no more than the limit, even if the file grows meanwhile
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise DataFileError(
                path,
                f"grew over the limit of {max_bytes / 1e6:.0f} MB for a {what} while being read",
                fix="check that it is the right file",
            )
    except FileNotFoundError:
        raise DataFileError(path, f"{what} not found", fix="check the path") from None
    except IsADirectoryError:
        raise DataFileError(path, f"is a folder, not a {what}", fix="name the file") from None
    except OSError as exc:
        raise DataFileError(
            path, f"cannot be read ({exc.strerror})", fix="check its permissions"
        ) from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataFileError(
            path, f"is UTF-16 text; a {what} is read as UTF-8", fix="save it as UTF-8"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            path,
            f"is not UTF-8 (byte {data[exc.start]:#04x}); a {what} is read as UTF-8",
            row=data[: exc.start].count(b"\n") + 1,
            fix="save the file as UTF-8",
        ) from None
    return loads_yaml(text, path, fix=fix, max_scalar=max_scalar)


#: Parts of a pydantic error location that name a union member or a validator, not a field.
_TYPE_NAME = re.compile(r"(?:str|int|float|bool|none|function-\w+.*|\w+\[.*\])")


def field_path(loc: tuple[int | str, ...], base: str = "") -> str:
    """A pydantic error location as a field path: ``('goals', 2, 'genders', 0)`` -> ``goals[3].genders[1]``.

    List positions are 1-based, as a person counts the items of a YAML list.
    """
    out = base
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif _TYPE_NAME.fullmatch(str(part)):
            continue  # pydantic's names of union members and validators are no field
        else:
            out += f".{part}" if out else str(part)
    return out or "top level"


_ALLOWED = {
    "string_type": "is not a text",
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "finite_number": "is not a finite number",
    "bool_type": "is not true or false",
    "list_type": "is not a list (one '- item' per line, or [a, b])",
    "dict_type": "is not a mapping (key: value lines)",
    "model_type": "is not a mapping (key: value lines)",
    "model_attributes_type": "is not a mapping (key: value lines)",
    "extra_forbidden": "is not a known field",
}


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate(
    model: type[M],
    data: Any,
    path: str | Path,
    *,
    where: str = "",
    fields: dict[str, tuple[str, str]] | None = None,
    default_fix: str | None = None,
) -> M:
    """``data`` validated as ``model``; the first problem as one DataFileError line.

    The line names the file, ``where`` (e.g. ``entry 2 (kolada)``), the field path
    (``goals[3].genders[1]``), the value found and what is allowed, e.g. ``goals.yaml: field
    'year': 'tjugo' is not a whole number; write e.g. 'year: 2019'``. ``fields`` gives, per field
    path, the problem and the fix to print instead of pydantic's words. Further problems are
    counted, so that a person fixes them in turn.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = first_error(exc)
        field = field_path(tuple(first["loc"]))
        kind = first["type"]
        msg = str(first["msg"]).removeprefix("Value error, ")
        prefix = f"{where}, " if where else ""
        custom = (fields or {}).get(field) or (fields or {}).get(_generic(field))
        if kind == "missing":
            problem, fix = f"{prefix}field {field!r} is missing", f"add {field!r}"
        elif custom and kind not in ("extra_forbidden",):
            problem = f"{prefix}field {field!r}: {_shown(first.get('input'))} {custom[0]}"
            fix = custom[1]
        else:
            words = _ALLOWED.get(kind) or f"is not allowed: {msg[:1].lower()}{msg[1:]}"
            given = first.get("input")
            exponent = r"[+-]?\d+(\.\d*)?[eE][+-]?\d+"
            if (
                kind in ("float_type", "float_parsing")
                and isinstance(given, str)
                and re.fullmatch(exponent, given.strip())
            ):
                # YAML 1.1 reads 1e3 (no dot, no sign in the exponent) as text
                words += " to YAML (it reads 1e3 as text); write it out, e.g. 1000, or as 1.0e+3"
            problem = f"{prefix}field {field!r}: {_shown(first.get('input'))} {words}"
            fix = (
                "remove it or correct its spelling"
                if kind == "extra_forbidden"
                else default_fix
                or ("see docs/templates.md" if "entry" in where else "see docs/catalogue.md")
            )
        fields_wrong = {field_path(tuple(e["loc"][:1])) for e in errors}
        more = f" (and {len(fields_wrong) - 1} more problem(s))" if len(fields_wrong) > 1 else ""
        raise DataFileError(path, problem + more, fix=fix) from None


def first_error(exc: ValidationError) -> Any:
    """The error to tell first: of the first field that is wrong, the deepest location (of a
    union ``str | list[str]``, the bad list item rather than 'not a text')."""
    errors = exc.errors(include_url=False)
    top = errors[0]["loc"][:1]
    same = [e for e in errors if e["loc"][:1] == top]
    return max(same, key=lambda e: len(field_path(tuple(e["loc"]))))


def _generic(field: str) -> str:
    """A field path with its list positions as ``[]`` (``goals[3].id`` -> ``goals[].id``) and the
    keys of free mappings as ``*`` (only for lookups in ``fields``)."""
    return re.sub(r"\[\d+\]", "[]", field)
