"""Shared analysis for the ASYNC-BLOCKING-* detectors: which calls block, and finding them on the
event loop with reach and witness path. Each category's detector module calls ``find_blocking``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scanners.detectors.base import make_call_finding, render
from scanners.findings import Finding, WitnessStep
from scanners.project.infer import infer_callee
from scanners.project.model import FunctionInfo, Project
from scanners.project.resolve import Value
from scanners.project.summary import (
    USAGE_ASYNC_FOR,
    USAGE_ASYNC_WITH,
    USAGE_AWAIT,
    CallSite,
    Expr,
)

HTTP = "ASYNC-BLOCKING-HTTP"
SLEEP = "ASYNC-BLOCKING-SLEEP"
FILE = "ASYNC-BLOCKING-FILE"
DB = "ASYNC-BLOCKING-DB"
SUBPROCESS = "ASYNC-BLOCKING-SUBPROCESS"
CPU = "ASYNC-BLOCKING-CPU"

# The rule id of each category's detector (their modules register them under these ids).
BLOCKING_RULES = {
    HTTP: "blocking-http-in-async",
    SLEEP: "blocking-sleep-in-async",
    FILE: "blocking-file-io-in-async",
    DB: "blocking-db-in-async",
    SUBPROCESS: "blocking-subprocess-in-async",
    CPU: "blocking-cpu-in-async",
}

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Third-party functions that block: dotted name -> category.
BLOCKING_FUNCTIONS: dict[str, str] = {
    **{f"requests.{verb}": HTTP for verb in _HTTP_VERBS},
    **{f"requests.api.{verb}": HTTP for verb in _HTTP_VERBS},
    **{f"httpx.{verb}": HTTP for verb in (*_HTTP_VERBS, "stream")},
    "urllib.request.urlopen": HTTP,
    "urllib.request.urlretrieve": HTTP,
    "urllib3.request": HTTP,
    "time.sleep": SLEEP,
    "builtins.open": FILE,
    "io.open": FILE,
    "codecs.open": FILE,
    "shutil.copy": FILE,
    "shutil.copy2": FILE,
    "shutil.copyfile": FILE,
    "shutil.copytree": FILE,
    "shutil.copyfileobj": FILE,
    "shutil.move": FILE,
    "shutil.rmtree": FILE,
    "os.remove": FILE,
    "os.unlink": FILE,
    "os.rename": FILE,
    "os.renames": FILE,
    "os.replace": FILE,
    "os.listdir": FILE,
    "os.walk": FILE,
    "os.scandir": FILE,
    "os.makedirs": FILE,
    "os.rmdir": FILE,
    "os.removedirs": FILE,
    "json.load": FILE,
    "json.dump": FILE,
    "pickle.load": FILE,
    "pickle.dump": FILE,
    "sqlite3.connect": DB,
    "psycopg2.connect": DB,
    "psycopg.connect": DB,
    "pymysql.connect": DB,
    "MySQLdb.connect": DB,
    "subprocess.run": SUBPROCESS,
    "subprocess.call": SUBPROCESS,
    "subprocess.check_call": SUBPROCESS,
    "subprocess.check_output": SUBPROCESS,
    "subprocess.getoutput": SUBPROCESS,
    "subprocess.getstatusoutput": SUBPROCESS,
    "os.system": SUBPROCESS,
    "os.popen": SUBPROCESS,
    "os.waitpid": SUBPROCESS,
    "os.wait": SUBPROCESS,
    "bcrypt.hashpw": CPU,
    "bcrypt.checkpw": CPU,
    "bcrypt.kdf": CPU,
    "hashlib.pbkdf2_hmac": CPU,
    "hashlib.scrypt": CPU,
    "pandas.read_csv": CPU,
    "pandas.read_excel": CPU,
    "pandas.read_json": CPU,
    "pandas.read_parquet": CPU,
}
_SPAWN_PREFIXES = ("os.spawn", "os.exec")

_ALL = frozenset({"*"})
# Methods that block on instances of third-party types: type -> (category, methods).
BLOCKING_METHODS: dict[str, tuple[str, frozenset[str]]] = {
    "requests.Session": (HTTP, frozenset({*_HTTP_VERBS, "send"})),
    "httpx.Client": (HTTP, frozenset({*_HTTP_VERBS, "send", "stream"})),
    "urllib3.PoolManager": (
        HTTP,
        frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"}),
    ),
    "http.client.HTTPConnection": (HTTP, frozenset({"request", "getresponse", "connect"})),
    "sqlalchemy.orm.Session": (
        DB,
        frozenset(
            {
                "execute",
                "scalars",
                "scalar",
                "get",
                "get_one",
                "query",
                "commit",
                "flush",
                "refresh",
                "merge",
                "rollback",
                "connection",
                "bulk_save_objects",
                "bulk_insert_mappings",
                "bulk_update_mappings",
                "exec",
            }
        ),
    ),
    "sqlalchemy.engine.Engine": (DB, frozenset({"connect", "begin", "execute", "raw_connection"})),
    "sqlalchemy.engine.Connection": (
        DB,
        frozenset({"execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback"}),
    ),
    "redis.Redis": (DB, _ALL),
    "redis.client.Pipeline": (DB, frozenset({"execute"})),
    "pymongo.MongoClient": (DB, _ALL),
    "pymongo.Database": (DB, _ALL),
    "pymongo.Collection": (DB, _ALL),
    "sqlite3.Connection": (
        DB,
        frozenset({"execute", "executemany", "executescript", "commit", "rollback", "backup"}),
    ),
    "sqlite3.Cursor": (
        DB,
        frozenset({"execute", "executemany", "executescript", "fetchone", "fetchall", "fetchmany"}),
    ),
    "psycopg2.connection": (DB, frozenset({"commit", "rollback"})),
    "psycopg2.cursor": (
        DB,
        frozenset(
            {
                "execute",
                "executemany",
                "fetchone",
                "fetchall",
                "fetchmany",
                "callproc",
                "copy_expert",
            }
        ),
    ),
    "pymysql.Connection": (DB, frozenset({"commit", "rollback", "query", "ping"})),
    "pymysql.Cursor": (
        DB,
        frozenset({"execute", "executemany", "fetchone", "fetchall", "fetchmany", "callproc"}),
    ),
    "psycopg.Connection": (DB, frozenset({"execute", "commit", "rollback"})),
    "psycopg.Cursor": (
        DB,
        frozenset({"execute", "executemany", "fetchone", "fetchall", "fetchmany"}),
    ),
    "subprocess.Popen": (SUBPROCESS, frozenset({"wait", "communicate"})),
    "pathlib.Path": (
        FILE,
        frozenset(
            {
                "read_text",
                "write_text",
                "read_bytes",
                "write_bytes",
                "open",
                "unlink",
                "rename",
                "replace",
                "rmdir",
            }
        ),
    ),
    "PIL.Image.Image": (
        CPU,
        frozenset(
            {
                "thumbnail",
                "resize",
                "save",
                "convert",
                "rotate",
                "filter",
                "transform",
                "reduce",
                "quantize",
                "transpose",
            }
        ),
    ),
    "passlib.CryptContext": (
        CPU,
        frozenset({"hash", "verify", "encrypt", "verify_and_update", "dummy_verify"}),
    ),
    "argon2.PasswordHasher": (CPU, frozenset({"hash", "verify"})),
    "pandas.DataFrame": (CPU, frozenset({"to_csv", "to_json", "to_excel", "to_parquet"})),
}
# Methods of third-party types that do not block even though the type's other methods do.
NON_BLOCKING_METHODS: dict[str, frozenset[str]] = {
    "redis.Redis": frozenset(
        {
            "pipeline",
            "pubsub",
            "lock",
            "register_script",
            "from_url",
            "connection_pool",
            "get_encoder",
            "close",
        }
    ),
    "pymongo.MongoClient": frozenset(
        {"get_database", "get_default_database", "close", "with_options", "start_session"}
    ),
    "pymongo.Database": frozenset({"get_collection", "with_options"}),
    "pymongo.Collection": frozenset({"with_options"}),
}
# ML models: whatever the receiver, these are CPU-heavy when not a project function.
CPU_METHOD_NAMES = frozenset({"predict", "predict_proba", "fit", "fit_transform"})
# Serialization of request/response-sized payloads inside a route.
SERIALIZATION_FUNCTIONS = frozenset({"json.dumps", "json.loads", "pickle.dumps", "pickle.loads"})

_NON_BLOCKING_USAGES = frozenset({USAGE_AWAIT, USAGE_ASYNC_WITH, USAGE_ASYNC_FOR})


@dataclass(frozen=True)
class BlockingCall:
    category: str
    what: str  # human-readable: "requests.get()", "Session.commit() on a sync session"
    group: str = ""  # the library the call belongs to ("sqlalchemy", "redis", "PIL"...)
    confidence: str = "high"  # "medium" for name-based guesses (.predict on an unknown type)


def _short_type(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


def classify(
    project: Project, info: FunctionInfo, site: CallSite, callee: Value | None
) -> BlockingCall | None:
    """Does this call block the thread it runs on? (Awaited calls never do.)"""
    if site.usage in _NON_BLOCKING_USAGES:
        return None
    if callee is None:
        func = site.func
        if func[0] == "attr" and func[2] in CPU_METHOD_NAMES:
            return BlockingCall(
                CPU, f"{render(func)}() (model inference/training)", confidence="medium"
            )
        return None
    kind = callee[0]
    if kind == "ext":
        dotted: str = callee[1]
        found = BLOCKING_FUNCTIONS.get(dotted)
        if found is not None:
            return BlockingCall(
                found, f"{dotted.removeprefix('builtins.')}()", dotted.split(".", 1)[0]
            )
        if dotted.startswith(_SPAWN_PREFIXES):
            return BlockingCall(SUBPROCESS, f"{dotted}()")
        if dotted.startswith("passlib.hash.") and dotted.rsplit(".", 1)[-1] in (
            "hash",
            "verify",
            "encrypt",
        ):
            return BlockingCall(CPU, f"{dotted}() (password hashing)")
        if dotted in SERIALIZATION_FUNCTIONS and _large_payload_in_route(project, info, site):
            return BlockingCall(
                CPU, f"{dotted}() of a request/response-sized payload", confidence="medium"
            )
        method = dotted.rsplit(".", 1)[-1]
        if method in CPU_METHOD_NAMES and site.func[0] == "attr":
            return BlockingCall(
                CPU, f"{render(site.func)}() (model inference/training)", confidence="medium"
            )
        return None
    if kind == "bound":
        type_name: str = callee[1]
        method = callee[2]
        entry = BLOCKING_METHODS.get(type_name)
        if entry is not None:
            category_id, methods = entry
            skip = NON_BLOCKING_METHODS.get(type_name, frozenset())
            if (
                (method in methods or methods is _ALL)
                and method not in skip
                and not (method.startswith("_"))
            ):
                return BlockingCall(
                    category_id,
                    f"{render(site.func)}() on a sync {_short_type(type_name)}",
                    type_name.split(".", 1)[0],
                )
            return None
        if method in CPU_METHOD_NAMES:
            return BlockingCall(
                CPU, f"{render(site.func)}() (model inference/training)", confidence="medium"
            )
    return None


def _large_payload_in_route(project: Project, info: FunctionInfo, site: CallSite) -> bool:
    """json.dumps/loads written in a route body on something that is not a small literal."""
    if not project.is_route(info.fid) or not site.args:
        return False
    payload: Expr = site.args[0]
    return payload[0] not in ("dict", "seq", "const", "fstring")


def _merge_clusters(found: list[tuple[Finding, str]]) -> list[Finding]:
    """Adjacent lines doing one thing (open + json.load, add/commit/refresh, PIL open/resize/save)
    are one finding: a call on the next line, or two lines down from the same library, joins the
    cluster of the previous one."""
    kept: list[Finding] = []
    last: dict[tuple[str, str, str], tuple[int, str]] = {}
    ordered = sorted(found, key=lambda pair: (pair[0].path, pair[0].start_line, pair[0].start_col))
    for finding, group in ordered:
        key = (finding.category, finding.path, finding.enclosing)
        previous = last.get(key)
        last[key] = (finding.end_line, group)
        if previous is not None:
            gap = finding.start_line - previous[0]
            if gap <= 1 or (gap == 2 and group == previous[1]):
                continue
        kept.append(finding)
    return kept


def _call_step(info: FunctionInfo, site: CallSite, what: str) -> WitnessStep:
    return WitnessStep(info.path, site.line, info.display, f"{what} blocks")


def find_blocking(project: Project, category_id: str) -> Iterator[Finding]:
    """Every blocking call of one category in code that runs on the event loop."""
    for finding in project.memo("async.blocking", lambda: _all_blocking(project)):
        if finding.category == category_id:
            yield finding


def _all_blocking(project: Project) -> list[Finding]:
    """One pass over every call on the event loop; the per-category detectors pick theirs."""
    found: list[tuple[Finding, str]] = []
    for info in project.functions():
        if not project.on_loop(info.fid) or project.is_offloop(info):
            continue
        calls = info.summary.calls
        if not calls:
            continue
        resolved = project.resolved_calls(info)
        witness: list[WitnessStep] | None = None
        reach: tuple[str, ...] = ()
        for site, resolved_callee in zip(calls, resolved, strict=True):
            callee = infer_callee(project, info, site, resolved_callee)
            blocking = classify(project, info, site, callee)
            if blocking is None:
                continue
            if witness is None:
                witness = project.witness(info.fid)
                reach = project.reach_labels(info.fid)
            steps = [*witness]
            if steps and steps[-1].function == info.display:
                steps[-1] = WitnessStep(
                    steps[-1].path,
                    site.line,
                    steps[-1].function,
                    f"{steps[-1].note}; {blocking.what} blocks",
                )
            else:
                steps.append(_call_step(info, site, blocking.what))
            path_text = " -> ".join(step.function.rsplit(".", 1)[-1] for step in witness)
            where = (
                f"reached from {reach[0]}"
                + (f" (+{len(reach) - 1} more routes)" if len(reach) > 1 else "")
                if reach
                else "on the event loop"
            )
            via = f" via {path_text}" if len(witness) > 1 else ""
            how = "inside async def" if info.summary.is_async else "in sync helper"
            message = (
                f"{blocking.what} blocks the event loop {how} "
                f"{info.display.rsplit('.', 1)[-1]}(), {where}{via}."
            )
            found.append(
                (
                    make_call_finding(
                        project,
                        info,
                        site,
                        rule_id=BLOCKING_RULES[blocking.category],
                        category_id=blocking.category,
                        message=message,
                        reach=reach,
                        witness=steps,
                        confidence=blocking.confidence,
                    ),
                    blocking.group,
                )
            )
    return _merge_clusters(found)
