"""The package's modules import each other without a cycle (imports inside functions
included), and storage, the file layer, is a leaf that imports only the exceptions."""

import ast
import pathlib

import nbbackprop

ROOT = pathlib.Path(nbbackprop.__file__).parent


def module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(path): path for path in ROOT.rglob("*.py")}


def imports(name, path, known):
    """The package's modules that module `name` imports anywhere in its source (a package
    counts as its __init__; the parents Python imports on the way are not counted)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            for alias in node.names:  # `from . import kernels` imports a module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_the_import_graph_is_read_correctly():
    g = graph()
    assert "nbbackprop.network" in g["nbbackprop.cli"]
    assert "nbbackprop.storage" in g["nbbackprop.network"]  # an import inside a function
    assert "nbbackprop.storage" in g["nbbackprop.interop.files"]  # from ..storage import
    assert "nbbackprop" in g["nbbackprop.cli"]  # from . import __version__


def test_no_module_imports_itself_through_others():
    g = graph()
    state = {}  # name -> "open" while on the path, "done" after

    def visit(name, path):
        state[name] = "open"
        for other in sorted(g[name]):
            if state.get(other) == "open":
                cycle = path[path.index(other):] + [other]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other, path + [other])
        state[name] = "done"

    for name in sorted(g):
        if name not in state:
            visit(name, [name])


def test_storage_imports_nothing_of_the_package_but_its_exceptions():
    assert graph()["nbbackprop.storage"] == {"nbbackprop.exceptions"}
