"""Provisioning: the tools needed (java, mvn, go) and the cache of Kafka's jars and the
FerretDB binary, keyed by version."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .layout import (
    FERRETDB_MODULE,
    FERRETDB_VERSION,
    KAFKA_POM,
    KAFKA_VERSION,
    LOG4J_VERSION,
    MIN_GO,
    MIN_JAVA,
    SLF4J_VERSION,
    InfraError,
    Provisioned,
    ToolMissingError,
    cache_dir,
    say,
)
from .processes import now_iso, tail


def java_bin() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("java")


def java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "([^"]+)"', out.stderr + out.stdout)
    if not m:
        return None
    parts = m.group(1).split(".")
    try:
        major = int(
            parts[1] if parts[0] == "1" and len(parts) > 1 else re.match(r"\d+", parts[0]).group(0)
        )  # type: ignore[union-attr]
    except (ValueError, AttributeError):
        return None
    return major


def _go_version(go: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"go(\d+)\.(\d+)", out.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _check_java() -> tuple[str | None, str | None]:
    java = java_bin()
    if java is None:
        return None, f"java not found on PATH (Java {MIN_JAVA}+ is required)"
    major = java_major(java)
    if major is None:
        return None, f"could not read the version of {java} (Java {MIN_JAVA}+ is required)"
    if major < MIN_JAVA:
        return None, f"java {MIN_JAVA}+ is required (found {major})"
    return java, None


def check_tools(need_mvn: bool, need_go: bool) -> str:
    """Check every needed tool up front; raise ONE line naming all that is missing. Returns java."""
    problems: list[str] = []
    java, problem = _check_java()
    if problem:
        problems.append(problem)
    if need_mvn and shutil.which("mvn") is None:
        problems.append("mvn not found on PATH (Apache Maven 3.6.3+ is required to fetch Kafka)")
    if need_go:
        go = shutil.which("go")
        if go is None:
            problems.append(
                f"go not found on PATH (Go {MIN_GO[0]}.{MIN_GO[1]}+ is required to build FerretDB)"
            )
        else:
            version = _go_version(go)
            if version is None or version < MIN_GO:
                found = f"{version[0]}.{version[1]}" if version else "unknown"
                problems.append(f"go {MIN_GO[0]}.{MIN_GO[1]}+ is required (found {found})")
    if problems:
        raise ToolMissingError("; ".join(problems))
    assert java is not None
    return java


# ---------------------------------------------------------------------------------------------
# Provisioning (cache)
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path, waiting_message: str | None = None) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting_message:
                say(waiting_message)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _kafka_recipe_digest() -> str:
    h = hashlib.sha256()
    h.update(KAFKA_POM.read_bytes())
    h.update(f"{KAFKA_VERSION}|{LOG4J_VERSION}|{SLF4J_VERSION}".encode())
    return h.hexdigest()[:16]


def _kafka_dir() -> Path:
    return cache_dir() / "kafka" / KAFKA_VERSION


def _ferretdb_dir() -> Path:
    return cache_dir() / "ferretdb" / FERRETDB_VERSION


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _kafka_ready_in_cache() -> bool:
    marker = read_json(_kafka_dir() / "provisioned.json")
    libs = _kafka_dir() / "libs"
    return bool(
        marker
        and marker.get("recipe") == _kafka_recipe_digest()
        and (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file()
    )


# One-line fix applied to FerretDB's source before building. FerretDB 1.24's SQLite backend
# creates the `_id` index on `_ferretdb_sjson->"_id"` but filters on `_ferretdb_sjson->'$._id'`;
# SQLite only uses an index whose expression matches, so every lookup by `_id` scanned the whole
# collection (measured: 15 ms at 2,000 documents, 80 ms at 10,000). Both expressions extract the
# same value; the patch makes the filter use the index's spelling. Semantics are unchanged.
FERRETDB_PATCHES = {
    "sqlite-id-index": (
        Path("internal/backends/sqlite/metadata/metadata.go"),
        "IDColumn = DefaultColumn + \"->'$._id'\"",
        'IDColumn = DefaultColumn + `->"_id"`',
    ),
}


def _apply_ferretdb_patches(src: Path) -> None:
    for name, (rel, old, new) in FERRETDB_PATCHES.items():
        path = src / rel
        text = path.read_text()
        if old not in text:
            raise InfraError(f"FerretDB patch {name!r} no longer applies to {rel}")
        path.write_text(text.replace(old, new, 1))


def _ferretdb_ready_in_cache() -> bool:
    marker = read_json(_ferretdb_dir() / "provisioned.json")
    binary = _ferretdb_dir() / "bin" / "ferretdb"
    return bool(
        marker
        and marker.get("version") == FERRETDB_VERSION
        and marker.get("patches") == sorted(FERRETDB_PATCHES)
        and binary.is_file()
    )


def _run_logged(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str, log: Path) -> None:
    """Run a provisioning step, its output kept in a log file; on failure show the tail."""
    with open(log, "w") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        try:
            rc = subprocess.run(
                cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            ).returncode
        except OSError as exc:
            raise InfraError(f"{what} failed: {exc}") from exc
    if rc != 0:
        raise InfraError(f"{what} failed (exit {rc}); full output in {log}:\n{tail(log, 30)}")


def _provision_kafka() -> None:
    target = _kafka_dir()
    target.mkdir(parents=True, exist_ok=True)
    say(f"downloading Kafka {KAFKA_VERSION} jars and their dependencies from Maven Central (mvn)…")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target))
    try:
        shutil.copy2(KAFKA_POM, work / "pom.xml")
        libs_tmp = work / "libs"
        cmd = [
            "mvn",
            "-B",
            "-q",
            "-Dstyle.color=never",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs_tmp}",
            "-DincludeScope=runtime",
            f"-Dkafka.version={KAFKA_VERSION}",
            f"-Dlog4j.version={LOG4J_VERSION}",
            f"-Dslf4j.version={SLF4J_VERSION}",
        ]
        _run_logged(
            cmd,
            cwd=work,
            env=dict(os.environ),
            what="mvn dependency:copy-dependencies",
            log=target / "mvn.log",
        )
        if not (libs_tmp / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            raise InfraError(
                f"Maven finished but kafka_2.13-{KAFKA_VERSION}.jar is missing from {libs_tmp}"
            )
        libs = target / "libs"
        if libs.exists():
            shutil.rmtree(libs)
        os.replace(libs_tmp, libs)
        write_json(
            target / "provisioned.json",
            {
                "kafka_version": KAFKA_VERSION,
                "log4j_version": LOG4J_VERSION,
                "slf4j_version": SLF4J_VERSION,
                "recipe": _kafka_recipe_digest(),
                "jars": sorted(p.name for p in libs.glob("*.jar")),
                "provisioned_at": now_iso(),
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(
        f"Kafka {KAFKA_VERSION}: {len(list(libs.glob('*.jar')))} jars in {libs} "
        f"({time.monotonic() - started:.0f}s)"
    )


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOWORK"] = "off"
    env.setdefault(
        "GOTOOLCHAIN", "local"
    )  # build with the Go that is installed; never fetch another
    env["CGO_ENABLED"] = (
        "0"  # FerretDB's SQLite driver (modernc.org/sqlite) is pure Go: no C compiler needed
    )
    flags = env.get("GOFLAGS", "").split()
    flags = [f for f in flags if not f.startswith(("-buildvcs", "-mod="))]
    env["GOFLAGS"] = " ".join([*flags, "-buildvcs=false", "-mod=readonly"])
    return env


def _provision_ferretdb() -> None:
    """Build FerretDB from its Go module.

    `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.x` builds, but the binary panics at
    start: build/version/version.txt is generated by FerretDB's release tooling and is not part of
    the published module, so the version check in build/version fails. We therefore fetch the same
    module with `go mod download`, copy it, write version.txt, and `go build ./cmd/ferretdb` there:
    the upstream command, flags and --version unchanged.
    """
    target = _ferretdb_dir()
    (target / "bin").mkdir(parents=True, exist_ok=True)
    env = _go_env()
    say(
        f"building FerretDB {FERRETDB_VERSION} from its Go module with the local go; "
        "this takes a few minutes…"
    )
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target))
    try:
        out = subprocess.run(
            ["go", "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        try:
            info = json.loads(out.stdout)
        except ValueError:
            info = {}
        if out.returncode != 0 or not info.get("Dir") or info.get("Error"):
            detail = info.get("Error") or (out.stderr.strip() or out.stdout.strip())[-2000:]
            raise InfraError(
                f"go mod download {FERRETDB_MODULE}@{FERRETDB_VERSION} failed: {detail}"
            )
        src = work / "src"
        shutil.copytree(info["Dir"], src)
        for path in [src, *src.rglob("*")]:  # the module cache is read-only
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        (src / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        _apply_ferretdb_patches(src)
        binary_tmp = work / "ferretdb"
        _run_logged(
            ["go", "build", "-trimpath", "-o", str(binary_tmp), "./cmd/ferretdb"],
            cwd=src,
            env=env,
            what=f"go build FerretDB {FERRETDB_VERSION}",
            log=target / "go-build.log",
        )
        version = binary_version(binary_tmp)
        if version != FERRETDB_VERSION:
            raise InfraError(
                f"the FerretDB binary just built reports version {version!r}, "
                f"expected {FERRETDB_VERSION}"
            )
        os.replace(binary_tmp, target / "bin" / "ferretdb")
        write_json(
            target / "provisioned.json",
            {
                "version": FERRETDB_VERSION,
                "module": FERRETDB_MODULE,
                "patches": sorted(FERRETDB_PATCHES),
                "go": _go_version("go"),
                "provisioned_at": now_iso(),
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(
        f"FerretDB {FERRETDB_VERSION}: {target / 'bin' / 'ferretdb'} "
        f"({time.monotonic() - started:.0f}s)"
    )


def binary_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^version:\s*(\S+)", out.stdout, re.MULTILINE)
    return m.group(1) if m else None


def provision() -> Provisioned:
    """Fetch Kafka and build FerretDB into the cache, once per version.

    Idempotent, and instant when the cache already holds both. Several processes may call it at
    once: a file lock makes the others wait for the first.
    """
    need_kafka = not _kafka_ready_in_cache()
    need_ferretdb = not _ferretdb_ready_in_cache()
    check_tools(need_mvn=need_kafka, need_go=need_ferretdb)
    if need_kafka or need_ferretdb:
        with file_lock(
            cache_dir() / ".provision.lock", "waiting for another provisioning run to finish…"
        ):
            if not _kafka_ready_in_cache():
                _provision_kafka()
            if not _ferretdb_ready_in_cache():
                _provision_ferretdb()
    return Provisioned(
        kafka_version=KAFKA_VERSION,
        kafka_libs=_kafka_dir() / "libs",
        ferretdb_version=FERRETDB_VERSION,
        ferretdb_binary=_ferretdb_dir() / "bin" / "ferretdb",
    )
