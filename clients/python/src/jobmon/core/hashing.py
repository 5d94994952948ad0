"""Identity hashes, byte for byte those of packages/core/src/hashing.ts, so that a workflow
declared in Python and in TypeScript is one workflow. That means JavaScript's rules where they
differ from Python's: ``String(value)`` for arg values (``true``, ``1`` for ``1.0``, ``1e+21``),
``JSON.stringify`` for the hashed text (no spaces, only control characters and lone surrogates
escaped) and sorting by UTF-16 code units."""

import decimal
import hashlib
import math
import re
from typing import Iterable, List, Mapping, Sequence, Tuple, Union

ArgValue = Union[str, int, float, bool]

_MAX_SAFE = 2**53 - 1


def js_number(x: float) -> str:
    """JavaScript's ``String(x)`` for a number (ECMAScript Number::toString)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    t = decimal.Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, t.digits))
    exp = int(t.exponent)
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + exp  # value = 0.<digits> × 10^n
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    return sign + out


def js_string(value: object) -> str:
    """JavaScript's ``String(value)`` for the values an arg may hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= _MAX_SAFE else js_number(float(value))
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{value!r} is not a string, number or boolean")


_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _utf16_units(s: str) -> List[int]:
    b = s.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(b[i : i + 2], "big") for i in range(0, len(b), 2)]


def js_json_string(s: str) -> str:
    """``JSON.stringify(s)``: quotes, backslash and control characters escaped, lone surrogates as
    ``\\udxxx``, everything else as is."""
    units = _utf16_units(s)
    out: List[str] = ['"']
    i = 0
    while i < len(units):
        u = units[i]
        if 0xD800 <= u <= 0xDBFF and i + 1 < len(units) and 0xDC00 <= units[i + 1] <= 0xDFFF:
            out.append(chr(0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00)))
            i += 2
            continue
        c = chr(u)
        if c in _SHORT:
            out.append(_SHORT[c])
        elif u < 0x20 or 0xD800 <= u <= 0xDFFF:
            out.append("\\u%04x" % u)
        else:
            out.append(c)
        i += 1
    out.append('"')
    return "".join(out)


def js_sort_key(s: str) -> bytes:
    """Sort key giving JavaScript's default order (UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def canonical_args(args: Mapping[str, ArgValue]) -> List[Tuple[str, str]]:
    """Args as sorted (name, stringified value) pairs: key order and value types do not matter."""
    return [(k, js_string(args[k])) for k in sorted(args, key=js_sort_key)]


def _canonical_json(args: Mapping[str, ArgValue]) -> str:
    return (
        "[" + ",".join("[" + js_json_string(k) + "," + js_json_string(v) + "]" for k, v in canonical_args(args)) + "]"
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def args_hash(args: Mapping[str, ArgValue]) -> str:
    return _sha256(_canonical_json(args))


def node_hash(tool_name: str, template_name: str, node_args: Mapping[str, ArgValue]) -> str:
    text = '["node",' + js_json_string(tool_name) + "," + js_json_string(template_name) + ","
    return _sha256(text + _canonical_json(node_args) + "]")


def task_hash(node_hash_value: str, task_args_hash_value: str) -> str:
    return _sha256(f"task:{node_hash_value}:{task_args_hash_value}")


def task_set_hash(task_hashes: Iterable[str]) -> str:
    h = hashlib.sha256()
    for t in sorted(task_hashes):
        h.update(t.encode() + b"\n")
    return h.hexdigest()


def dag_hash(node_hashes: Sequence[str], upstream: Sequence[Sequence[int]]) -> str:
    """Nodes in sorted order, then each edge as the pair of its ends' ranks, pairs sorted."""
    h = hashlib.sha256()
    order = sorted(range(len(node_hashes)), key=lambda i: node_hashes[i])
    rank = [0] * len(node_hashes)
    for r, node in enumerate(order):
        rank[node] = r
    for i in order:
        h.update(node_hashes[i].encode() + b"\n")
    h.update(b"edges\n")
    pairs = sorted((rank[u], rank[d]) for d, ups in enumerate(upstream) for u in ups)
    for u, d in pairs:
        h.update(f"{u}>{d}\n".encode())
    return h.hexdigest()


def workflow_args_hash(workflow_args: Mapping[str, ArgValue]) -> str:
    return _sha256('["workflow",' + _canonical_json(workflow_args) + "]")


_JS_SPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\\\\/'\"]")


def default_task_name(template_name: str, node_args: Mapping[str, ArgValue]) -> str:
    """The TypeScript client's default name: template, then ``key-value`` of each node arg."""
    parts = [f"{k}-{js_string(node_args[k])}" for k in sorted(node_args, key=js_sort_key)]
    name = _JS_SPACE.sub("_", "_".join([template_name] + parts))
    b = name.encode("utf-16-le", "surrogatepass")[: 249 * 2]
    return b.decode("utf-16-le", "surrogatepass")
