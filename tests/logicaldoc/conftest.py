"""Shared helpers for the LogicalDOC bridge tests: fixture files, a reference decoder, the Java cross-check."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomlkit

DATA = Path(__file__).parent / "data"
JAVA_DUMP = Path(__file__).parent / "java" / "PropsDump.java"
FIXTURE = DATA / "context.properties"
FIXTURE_CRLF = DATA / "context-crlf.properties"
# Tenant t with every field of the table (test_bridge, test_bridge_generated: kept here so that the generated tests do
# not import test_bridge, which pytest would then load, assertion-rewrite and run a second time under another name)
FULL_T = (b"t.smtp.protocol=smtp\nt.smtp.host=h\nt.smtp.port=25\nt.smtp.connectionSecurity=0\n"
          b"t.smtp.authEncrypted=false\nt.smtp.username=\nt.smtp.password=\nt.smtp.clientId=\n"
          b"t.smtp.clientTenant=\nt.smtp.clientSecret=\nt.smtp.sender=s@t.example\nt.smtp.userasfrom=false\n")


def reference_load(text: str) -> dict[str, str]:
    """An independent, natural-line based reading of Java's Properties.load rules (for files whose logical lines
    start with an ordinary key character): the oracle for the property-based tests."""
    lines = re.split(r"\r\n|\r|\n", text)
    result: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        logical = line
        while len(logical) - len(logical.rstrip("\\")) & 1:
            logical = logical[:-1]
            if i >= len(lines):
                break
            logical += lines[i].lstrip(" \t\f")
            i += 1
        m = re.match(r"((?:\\.|[^\\=: \t\f])*)", logical, re.S)
        key_raw = m.group(1)
        rest = logical[len(key_raw):]
        rest = rest.lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        result[_unescape(key_raw)] = _unescape(rest)
    return result


def _unescape(raw: str) -> str:
    def sub(m: re.Match[str]) -> str:
        s = m.group(0)
        if s[1] == "u":
            return chr(int(s[2:], 16))
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(s[1], s[1])

    out = re.sub(r"\\u[0-9a-fA-F]{4}|\\.", sub, raw, flags=re.S)
    return out.encode("utf-16", "surrogatepass").decode("utf-16")


def java_available() -> bool:
    return shutil.which("java") is not None


def java_load(paths: list[Path]) -> list[dict[str, str] | str]:
    """What java.util.Properties.load reads from each file: a dict, or "ERR <message>"."""
    proc = subprocess.run(["java", str(JAVA_DUMP), *map(str, paths)], capture_output=True, text=True, timeout=60,
                          check=True)
    results: list[dict[str, str] | str] = []
    current: dict[str, str] | str = {}
    for line in proc.stdout.split("\n"):
        if line == "FILE":
            current = {}
        elif line == "END":
            results.append(current)
        elif line.startswith("ERR "):
            current = line
        elif line:
            k, v = line.split("\t")
            current[_unhex(k)] = _unhex(v)
    return results


def _unhex(h: str) -> str:
    s = "".join(chr(int(h[i:i + 4], 16)) for i in range(0, len(h), 4))
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def require_java() -> None:
    """The comparison with java.util.Properties is the point of these tests: no Java is a failure, not a skip
    (.ci/run installs a JRE when the machine has none)."""
    assert java_available(), "these tests compare with java.util.Properties: install a JRE (apt-get install default-jre-headless)"


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """A writable copy of the real-shaped context.properties."""
    target = tmp_path / "conf" / "context.properties"
    target.parent.mkdir()
    shutil.copyfile(FIXTURE, target)
    return target


def edit_smtp(config: Path, tenant: str, **values: object) -> None:
    """Set values in [tenants.<tenant>.smtp] of a settings file, as an admin's editor would."""
    doc = tomlkit.parse(config.read_text())
    for key, value in values.items():
        doc["tenants"][tenant]["smtp"][key] = value
    config.write_text(tomlkit.dumps(doc))


def changed_region(old: bytes, new: bytes) -> tuple[bytes, bytes]:
    """The bytes that differ between two files (the common head and tail cut off)."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return old[start:len(old) - end], new[start:len(new) - end]
