"""The runner package's layers import downward only (gomaprun/__init__.py).

Every module of gomaprun/ is parsed with `ast`; each import of another
module of the package must name a module of the same layer or of a layer
below. The layer table is the package's own (gomaprun.LAYERS).
"""

import ast
import unittest
from pathlib import Path

import fakes
import gomaprun

PACKAGE = fakes.REPO / "gomaprun"


def layer_of(parts, layers):
    """The layer number of a module named by its parts below the package."""
    if not parts:  # the package itself: its __init__ sits below everything
        return -1
    for rank, names in enumerate(layers):
        if parts[0] in names:
            return rank
    raise LookupError(f"gomaprun.{'.'.join(parts)} belongs to no layer of gomaprun.LAYERS")


def module_parts(path: Path, package: Path = PACKAGE):
    rel = path.relative_to(package).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return parts, path.name == "__init__.py"


def imported_modules(tree, parts, is_package):
    """(line, parts below the package) for every import of a gomaprun module."""
    here = parts if is_package else parts[:-1]  # the package a relative import starts from
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "gomaprun" or alias.name.startswith("gomaprun."):
                    yield node.lineno, alias.name.split(".")[1:]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else list(here)
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and (node.module == "gomaprun" or node.module.startswith("gomaprun.")):
                target = node.module.split(".")[1:]
            else:
                continue
            if node.module:
                yield node.lineno, target
            else:
                # `from . import x`: each name is a module of that package.
                for alias in node.names:
                    yield node.lineno, target + [alias.name]


def violations(package: Path, layers):
    """Every upward import in the package, as readable lines."""
    found = []
    for path in sorted(package.rglob("*.py")):
        parts, is_package = module_parts(path, package)
        mine = layer_of(parts, layers)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for lineno, target in imported_modules(tree, parts, is_package):
            theirs = layer_of(target, layers)
            if theirs > mine:
                found.append(f"{path.relative_to(package.parent)}:{lineno}: layer {mine} "
                             f"({'.'.join(parts)}) imports layer {theirs} ({'.'.join(target)})")
    return found


class LayerTests(unittest.TestCase):
    def test_every_module_belongs_to_a_layer(self):
        for path in PACKAGE.rglob("*.py"):
            layer_of(module_parts(path)[0], gomaprun.LAYERS)

    def test_no_module_imports_a_layer_above_its_own(self):
        self.assertEqual(violations(PACKAGE, gomaprun.LAYERS), [])

    def test_an_upward_import_is_found(self):
        # The checker itself: a copy of the package where the catalogue
        # reaches up into the reports must be caught, in each import style.
        import shutil
        import tempfile
        for line in ("from ..reports import text\n", "from ..reports.text import format_table\n",
                     "import gomaprun.main\n", "from gomaprun.runloop import units\n"):
            with tempfile.TemporaryDirectory() as td:
                copy = Path(td) / "gomaprun"
                shutil.copytree(PACKAGE, copy)
                target = copy / "catalogue" / "select.py"
                target.write_text(target.read_text() + line)
                found = violations(copy, gomaprun.LAYERS)
                self.assertEqual(len(found), 1, (line, found))
                self.assertIn("catalogue/select.py", found[0])

    def test_the_runner_entry_point_is_a_shim(self):
        tree = ast.parse((fakes.REPO / "runner.py").read_text())
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        self.assertEqual(defs, [])


if __name__ == "__main__":
    unittest.main()
