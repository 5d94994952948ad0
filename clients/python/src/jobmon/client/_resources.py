"""Compute resources as Jobmon scripts write them, and the YAML files they read them from.

Jobmon's numbers mean GB for memory; the server's mean MiB, so a number is sent as ``"<n>G"``
(strings such as ``"4G"`` or ``"512M"`` go as they are). The server normalises and checks the rest
against the queue's limits. YAML: PyYAML when it is installed, else a reader of the subset these
files use (nested mappings of scalars, ``[a, b]`` lists, comments)."""

import json
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from jobmon.core.exceptions import InvalidResourcesError, ValidationError

Resources = Dict[str, Any]

_ALIASES = {"num_cores": "cores", "max_runtime_seconds": "runtime", "m_mem_free": "memory"}


def jobmon_resources(resources: Optional[Mapping[str, Any]], where: str) -> Resources:
    """A copy with Jobmon's spellings and units turned into the server's."""
    if resources is None:
        return {}
    if not isinstance(resources, Mapping):
        raise InvalidResourcesError(f"{where}: compute resources must be a dict, not {type(resources).__name__}")
    out: Resources = {}
    for key, value in resources.items():
        key = _ALIASES.get(key, key)
        if key == "memory" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = f"{value!r}G"
        out[key] = value
    return out


def merge(*layers: Optional[Mapping[str, Any]]) -> Resources:
    out: Resources = {}
    for layer in layers:
        if layer:
            out.update(layer)
    return out


def split_queue(resources: Resources) -> Tuple[Optional[str], Resources]:
    rest = {k: v for k, v in resources.items() if k != "queue" and v is not None}
    queue = resources.get("queue")
    if queue is not None and (not isinstance(queue, str) or queue == ""):
        raise InvalidResourcesError("queue must be a non-empty string", {"field": "queue", "value": queue})
    return queue, rest


def _scalar(text: str) -> Any:
    t = text.strip()
    if t == "" or t in ("~", "null", "Null", "NULL"):
        return None
    if t[0] in "\"'" and t[-1] == t[0] and len(t) >= 2:
        return json.loads(t) if t[0] == '"' else t[1:-1].replace("''", "'")
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        return [] if inner == "" else [_scalar(x) for x in inner.split(",")]
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", t):
        return float(t)
    return t


def _strip_comment(line: str) -> str:
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _parse_yaml_subset(text: str, path: str) -> Dict[str, Any]:
    root: Dict[str, Any] = {}
    stack: List[Tuple[int, Dict[str, Any]]] = [(-1, root)]
    for n, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if line.strip() in ("", "---"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = re.fullmatch(r"\s*(\"[^\"]*\"|'[^']*'|[^:]+?)\s*:(?:\s+(.*))?", line)
        if not m:
            raise ValidationError(f"{path}:{n}: cannot read this line (install PyYAML for full YAML): {raw.strip()}")
        key = str(_scalar(m.group(1)))
        while stack and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1]
        if m.group(2) is None or m.group(2).strip() == "":
            child: Dict[str, Any] = {}
            parent[key] = child
            stack.append((indent, child))
        else:
            parent[key] = _scalar(m.group(2))
    return root


def read_yaml(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ValidationError(f"cannot read YAML file {path}: {e}", {"file": path}) from e
    try:
        import yaml  # type: ignore[import-untyped]

        data = yaml.safe_load(text)
    except ImportError:
        data = _parse_yaml_subset(text, path)
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected a mapping at the top", {"file": path})
    return data


def yaml_section(path: str, keys: List[str], ignore_missing: bool) -> Optional[Dict[str, Any]]:
    node: Any = read_yaml(path)
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            if ignore_missing:
                return None
            raise ValidationError(f"{path}: no key {'.'.join(keys)}", {"file": path, "key": ".".join(keys)})
        node = node[k]
    if not isinstance(node, dict):
        raise ValidationError(f"{path}: {'.'.join(keys)} must be a mapping", {"file": path})
    return node
