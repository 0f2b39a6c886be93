"""The package's import graph follows the data: imports point down the layers, never in a circle, and no module
takes another's private names. Every import is read with ``ast`` (module level, inside functions, under
``TYPE_CHECKING``; absolute and relative), so a lazy import cannot hide an upward edge.

The order is also drawn in docs/architecture.md; change both together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Layers, lowest first. A module may import its own layer and the layers below it. ``lightship`` itself
#: (the lazy top-level API and ``__version__``) is outside the order: anything may import it.
LAYERS = (
    ("errors",),
    ("images", "files", "tables", "fuzz", "console", "quiet"),
    ("models",),
    ("data",),
    ("training",),
    ("bundle",),
    ("runtime",),
    ("export",),
    ("evaluation",),
    ("serve", "web"),
    ("cli",),
)
ROOT = "lightship"


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: Path
    line: int
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} -> {self.imported}"


def module_names(src: Path, root: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of package ``root`` under ``src``."""
    found = {}
    for path in sorted((src / root).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(src: Path, root: str) -> list[Edge]:
    """Every import of a module of ``root`` by a module of ``root``, wherever it stands in the file."""
    modules = module_names(src, root)
    edges = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = []
                for alias in node.names:  # `from pkg import module` imports the module
                    sub = f"{base}.{alias.name}"
                    targets.append((sub, ()) if sub in modules else (base, (alias.name,)))
            else:
                continue
            rel = path.relative_to(src)
            for target, names in targets:
                while target not in modules and "." in target:  # `import a.b.c` with c an attribute
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    edges.append(Edge(name, target, rel, node.lineno, names))
    return edges


def unit(module: str) -> str | None:
    """The layer unit of a module: ``lightship.data.config`` -> ``data``; None for the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_of(module: str, layers: tuple[tuple[str, ...], ...]) -> int | None:
    name = unit(module)
    if name is None:
        return None
    for level, members in enumerate(layers):
        if name in members:
            return level
    raise AssertionError(f"{module} belongs to no layer: add {name!r} to LAYERS (and docs/architecture.md)")


def upward_edges(edges: list[Edge], layers: tuple[tuple[str, ...], ...]) -> list[str]:
    problems = []
    for edge in edges:
        low, high = layer_of(edge.importer, layers), layer_of(edge.imported, layers)
        if low is not None and high is not None and high > low:
            problems.append(f"{edge} ({unit(edge.importer)} is below {unit(edge.imported)})")
    return sorted(set(problems))


def private_imports(edges: list[Edge]) -> list[str]:
    return [
        f"{edge} imports private {name}"
        for edge in edges
        for name in edge.names
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
    ]


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Each strongly connected set of two or more modules (Tarjan), as a list of names."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_report(edges: list[Edge], component: list[str]) -> str:
    inside = [str(e) for e in edges if e.importer in component and e.imported in component]
    return f"cycle between {', '.join(component)}:\n    " + "\n    ".join(inside)


def test_imports_point_down_the_layers() -> None:
    problems = upward_edges(imports(SRC, ROOT), LAYERS)
    assert not problems, "imports from a lower layer to a higher one:\n" + "\n".join(problems)


def test_no_import_cycles_between_modules() -> None:
    edges = imports(SRC, ROOT)
    assert not cycles(edges), "\n".join(cycle_report(edges, c) for c in cycles(edges))


def test_no_private_names_cross_modules() -> None:
    problems = private_imports(imports(SRC, ROOT))
    assert not problems, "\n".join(problems)


def test_every_package_and_module_has_a_layer() -> None:
    units = {unit(name) for name in module_names(SRC, ROOT)} - {None}
    assert units == {member for layer in LAYERS for member in layer}


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """A planted upward edge (inside a function), a cycle (relative imports) and a private import are found."""
    package = tmp_path / "pkg"
    for folder in ("low", "high"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "low" / "a.py").write_text("def f():\n    from pkg.high.b import thing\n")
    (package / "low" / "c.py").write_text("from .d import _hidden\n")
    (package / "low" / "d.py").write_text("from . import c\n_hidden = 1\n")
    (package / "high" / "b.py").write_text("thing = 1\n")
    edges = imports(tmp_path, "pkg")
    layers = (("low",), ("high",))
    assert upward_edges(edges, layers) == [
        f"{Path('pkg/low/a.py')}:2: pkg.low.a -> pkg.high.b (low is below high)"
    ]
    assert cycles(edges) == [["pkg.low.c", "pkg.low.d"]]
    assert private_imports(edges) == [
        f"{Path('pkg/low/c.py')}:1: pkg.low.c -> pkg.low.d imports private _hidden"
    ]
