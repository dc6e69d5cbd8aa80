"""The package imports no peer framework (PyTorch, JAX, scikit-learn, matplotlib) except
through its adapters in ``nbbackprop.interop``, its scikit-learn estimators in
``nbbackprop.sklearn`` (which import scikit-learn only), tqdm in ``nbbackprop.monitor`` and
matplotlib in ``nbbackprop.plot`` (inside their functions), and those only when they are
used: read from the source of every module, and seen in a fresh process."""

import ast
import json
from pathlib import Path

import processes

SOURCE = Path(__file__).resolve().parents[1] / "src" / "nbbackprop"
INTEROP = SOURCE / "interop"
# Optional libraries each imported by one module of the package outside interop, only
# inside its functions (so only when that feature is used).
LAZY = {"tqdm": "nbbackprop.monitor", "matplotlib": "nbbackprop.plot"}
PEERS = {"torch", "jax", "jaxlib", "sklearn", "scikit-learn", "scikit_learn", *LAZY}
ADAPTERS = {"nbbackprop.interop.torch", "nbbackprop.interop.jax", "nbbackprop.sklearn"}
# Outside nbbackprop.interop, the one module allowed a peer at module level, and which: the
# estimators subclass scikit-learn's base classes.
SANCTIONED = {SOURCE / "sklearn.py": "sklearn"}


def module_name(path):
    parts = ("nbbackprop", *path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source, module="nbbackprop.example", is_package=False):
    """(line, imported module, at module level) for every import in ``source``, wherever
    it is: import statements (relative ones resolved; ``from a import b`` gives both a and
    a.b, as b may be a module) and importlib.import_module or __import__ of a literal."""
    tree = ast.parse(source)
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function.update(id(inner) for inner in ast.walk(node) if inner is not node)
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            start = ".".join([*base, *([node.module] if node.module else [])])
            names = [start] + [f"{start}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [(node.lineno, name, id(node) not in in_function) for name in names]
    return found


def package_imports():
    """{path: imports()} for every module under src/nbbackprop."""
    modules = {}
    for path in sorted(SOURCE.rglob("*.py")):
        modules[path] = imports(path.read_text(encoding="utf-8"), module_name(path),
                                is_package=path.name == "__init__.py")
    return modules


def is_peer(name):
    return name.split(".")[0] in PEERS


def test_the_check_finds_imports_wherever_they_are():
    found = imports("import numpy as np\n"
                    "from sklearn.neural_network import MLPRegressor\n"
                    "def f():\n"
                    "    import torch.nn as nn\n"
                    "    return importlib.import_module('jax'), __import__('matplotlib')\n"
                    "g = lambda: __import__('jaxlib')\n"
                    "class C:\n"
                    "    def m(self):\n"
                    "        from .interop import torch\n",
                    module="nbbackprop.cli")
    assert {(name, level) for _, name, level in found if is_peer(name)} == {
        ("sklearn.neural_network", True), ("sklearn.neural_network.MLPRegressor", True),
        ("torch.nn", False), ("jax", False), ("matplotlib", False), ("jaxlib", False)}
    assert (9, "nbbackprop.interop.torch", False) in found
    assert (3, "nbbackprop.interop.torch", True) in imports(
        "import x\n\nfrom ..interop import torch", module="nbbackprop.interop.files")
    # and it sees the adapters' own imports of their frameworks
    assert any(name == "torch" and level for _, name, level in
               package_imports()[INTEROP / "torch.py"])


def test_no_module_outside_interop_imports_a_peer_framework():
    modules = package_imports()
    assert len(modules) > 10 and SOURCE / "cli.py" in modules, "the package was not found"
    offending = [f"src/nbbackprop/{path.relative_to(SOURCE)}:{line}: imports {name}"
                 for path, found in modules.items() if INTEROP not in path.parents
                 for line, name, at_module_level in found
                 if is_peer(name) and name.split(".")[0] != SANCTIONED.get(path)
                 and (at_module_level or LAZY.get(name.split(".")[0]) != module_name(path))]
    assert not offending, ("only nbbackprop.interop may import a peer framework (and "
                           "nbbackprop.sklearn scikit-learn, nbbackprop.monitor tqdm and "
                           "nbbackprop.plot matplotlib inside their functions):\n"
                           + "\n".join(offending))
    # the sanctioned module does import its peer, so the exception above is not idle
    for path, peer in SANCTIONED.items():
        assert any(name.split(".")[0] == peer for _, name, _ in modules[path])


def test_plot_imports_matplotlib_and_only_inside_functions():
    found = package_imports()[SOURCE / "plot.py"]
    assert any(name.startswith("matplotlib") for _, name, _ in found), "the check sees nothing"
    assert not [name for _, name, level in found if is_peer(name) and level]


def test_the_adapters_are_imported_only_inside_functions():
    offending = [f"src/nbbackprop/{path.relative_to(SOURCE)}:{line}: imports {name} at "
                 "module level"
                 for path, found in package_imports().items() if module_name(path) not in ADAPTERS
                 for line, name, at_module_level in found
                 if at_module_level and name in ADAPTERS]
    assert not offending, ("an adapter imported at module level would import its framework "
                           "with nbbackprop:\n" + "\n".join(offending))


FRESH = f"""
import json, sys
import nbbackprop, nbbackprop.cli, nbbackprop.interop, nbbackprop.plot
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {sorted(PEERS)!r})))
"""


def test_a_fresh_import_loads_no_peer_framework():
    result = processes.run(["-c", FRESH])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], "importing nbbackprop loaded a peer framework"


def import_graph():
    """{module: the package's modules it imports, anywhere in its source}. ``from . import
    x`` also names the package itself, which is left out: only its submodules count."""
    modules = {module_name(path): found for path, found in package_imports().items()}
    return {module: {name for _, name, _ in found if name in modules and name != "nbbackprop"
                     and name != module}
            for module, found in modules.items()}


def cycles(graph):
    """Every import cycle, as a list of modules from one back to itself (depth first)."""
    found, done = [], set()

    def visit(module, path):
        if module in path:
            found.append(path[path.index(module):] + [module])
            return
        if module in done:
            return
        for name in sorted(graph[module]):
            visit(name, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


def test_cycles_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_package_imports_itself_back_even_inside_functions():
    graph = import_graph()
    assert "nbbackprop.network" in graph and "nbbackprop.formulas" in graph["nbbackprop.fast"]
    assert cycles(graph) == []


def test_storage_imports_nothing_of_the_package_but_its_exceptions():
    assert import_graph()["nbbackprop.storage"] == {"nbbackprop.exceptions"}
