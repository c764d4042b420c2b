"""The project model: a whole-program view of a Python/FastAPI service, built once per scan.

How it is built (``build_project(root, options)`` in ``scanners.project.build``):

1. ``discovery.discover`` lists the ``.py`` files (skipping virtualenvs, ``site-packages``,
   ``node_modules``, build and cache folders and ``ScanOptions.exclude`` globs) and names their
   modules (packages, namespace packages, ``src/`` layouts).
2. A process pool runs ``discovery.summarize_file`` per file: ``scanners.parsing.parse_python``
   then ``extract.summarize_module``, returning a compact picklable ``ModuleSummary``
   (``scanners.project.summary``): imports, classes, functions with their parameters,
   decorators, assignments and every call site with how its result is used. ASTs stay in the
   workers.
3. ``model.Project`` links the summaries.

What detectors use (``project`` is a ``Project``):

- ``project.modules`` (dotted name -> ``ModuleSummary``), ``project.by_path``;
  ``project.functions()`` yields ``FunctionInfo(fid, module, summary)`` for every function,
  method, lambda and module body; ids are ``"module:qualname"``; ``project.function(fid)``.
- ``project.resolve(info, expr)`` / ``project.resolved_calls(info)``: what a name or call refers
  to, through imports (absolute, relative, aliases, ``__init__`` re-exports, ``*``), local
  variables, ``self`` attributes, annotations and ``Depends(...)`` parameters. Values are the
  tuples described in ``scanners.project.resolve`` (``("func", fid)``, ``("inst", type, origin)``,
  ``("ext", "requests.get")``, ``("bound", "sqlalchemy.orm.Session", "commit")``, ...).
- Call graph: ``project.edges_out[fid]`` / ``project.edges_in[fid]`` (``CallEdge`` with the call
  site; ``kind="depends"`` for ``Depends`` edges).
- FastAPI: ``project.routes`` (``Route``: method, full path with every router prefix, handler
  fid, dependencies), ``project.fastapi.routers``, ``.events`` (lifespan, ``on_event``,
  ``add_event_handler``, middleware), ``.handoffs`` (``to_thread``, ``run_in_executor``,
  ``run_in_threadpool``, ``anyio.to_thread.run_sync``, ``BackgroundTasks.add_task``, threads),
  ``.depends_of[fid]`` (the ``Depends`` graph); ``project.is_route(fid)``,
  ``project.is_dependency(fid)``.
- Event loop: ``project.on_loop(fid)``, ``project.witness(fid)`` (route -> helper -> ... as
  ``WitnessStep``), ``project.routes_reaching(fid)`` / ``project.reach_labels(fid)``.
- ``project.app_calls()`` yields ``(info, call site, resolved callee)`` outside tests, scripts
  and migrations; ``project.is_offloop(info)`` tells whether a function lives in such a file.
- ``project.facts(kind)``: what a per-file extractor of ``scanners.project.facts`` found
  (module name -> value), for analyses that need more of the AST than the summary keeps.
- ``project.memo(key, compute)`` shares one analysis between detectors;
  ``project.source_line(path, line)`` gives snippets.
"""

from scanners.project.build import BuildOutcome, build_project
from scanners.project.fastapi import EventHandler, HandOff, Route
from scanners.project.model import CallEdge, FunctionInfo, Project, is_offloop_path

__all__ = [
    "BuildOutcome",
    "CallEdge",
    "EventHandler",
    "FunctionInfo",
    "HandOff",
    "Project",
    "Route",
    "build_project",
    "is_offloop_path",
]
