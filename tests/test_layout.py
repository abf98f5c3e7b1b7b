"""The README's map of the packages (`## Layout`) held against the tree and its imports, and no import circle.

Everything is read as source text with `ast`; no project module is imported, so a broken import shows up here
as a readable failure rather than an ImportError, and no database is needed.
"""

import ast
import re
from collections.abc import Collection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("advisor", "pathways")
TOP = "advisor/"  # the project's own row: settings, urls, models, admin, migrations, commands; may import anything


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module under the packages by dotted name (a package by its `__init__.py`), migrations included."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" not in parts:
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: Collection[str]) -> set[str]:
    """The modules a file names in any import statement (in functions, `if TYPE_CHECKING`, try blocks too).

    `from X import y` names the module `X.y` when that is a known module, else `X`.
    """
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from ..x import y` counts up from the file's own package
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return targets


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module to the project modules it imports, parent packages included (importing a.b.c runs a and a.b)."""
    found = modules(root, packages)
    graph = {}
    for name, path in found.items():
        parts = [target.split(".") for target in imports(name, path, found)]
        graph[name] = {".".join(p[:i]) for p in parts for i in range(1, len(p) + 1)} & found.keys() - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted: every import circle."""
    reach = {}
    for start in graph:  # reachability by an iterative depth-first walk; these graphs have ~100 modules
        seen, todo = set(), [start]
        while todo:
            new = graph.get(todo.pop(), set()) - seen
            seen |= new
            todo.extend(new)
        reach[start] = seen
    # A module is on a circle when it reaches itself; its circle is every module it reaches that reaches it back.
    circles = {tuple(sorted(m for m in reach[s] if s in reach[m])) for s in graph if s in reach[s]}
    return [list(circle) for circle in sorted(circles)]


def layout(readme: Path) -> dict[str, tuple[str, ...] | None]:
    """The README's layout table: each row's directory to the packages it may import (None: every package)."""
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme.read_text(encoding="utf-8"), re.M | re.S)
    if section is None:
        pytest.fail("README.md has no `## Layout` section")
    lines = [line.strip() for line in section[1].splitlines()]
    header = "| package | what it holds | may import |"
    if header not in lines:
        pytest.fail(f"README.md's `## Layout` section has no table with the header `{header}`")
    rows = {}
    for line in lines[lines.index(header) + 2 :]:  # after the header and its |---| line
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        directory, allowed = re.fullmatch(r"`([\w/]+/)`", cells[0]), cells[-1]
        names = re.findall(r"`(\w+)`", allowed)
        if directory is None or not (names or allowed in ("nothing", "every package")):
            pytest.fail(f"README.md's layout row is not `| \\`dir/\\` | ... | \\`name\\`, ... |`: {line}")
        packages = tuple(n if n == "pathways" else f"advisor.{n}" for n in names)  # short names to dotted ones
        rows[directory[1]] = None if allowed == "every package" else packages
    return rows


def named_files(readme: Path) -> dict[str, set[str]]:
    """Each row's directory to the Python files its "what it holds" column names (`views.py`, ...)."""
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme.read_text(encoding="utf-8"), re.M | re.S)[1]
    rows = [line.strip("|").split("|") for line in section.splitlines() if re.match(r"\| `[\w/]+/` \|", line)]
    return {row[0].strip().strip("`"): set(re.findall(r"`(\w+\.py)`", row[1])) for row in rows}


def dotted(directory: str) -> str:
    return directory.strip("/").replace("/", ".")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_it_finds_no_import_circle_in_advisor_or_pathways() -> None:
    found = cycles(import_graph(ROOT, PACKAGES))
    assert not found, "\n".join(f"import circle of {len(c)} modules: {', '.join(c)}" for c in found)


def test_it_finds_planted_circles_whatever_the_import_looks_like(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "import pkg.b\n",
        "pkg/b.py": "def later():\n    import pkg.a\n",  # inside a function still counts
        "pkg/c.py": "from .sub import d\n",  # relative, naming a submodule
        "pkg/sub/__init__.py": "",
        "pkg/sub/d.py": "try:\n    from ..e import thing\nexcept ImportError:\n    pass\n",
        "pkg/e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import thing\n",
        "pkg/f.py": "from pkg import a, c\n",  # reaches both circles without being on one
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.e", "pkg.sub.d"]]

    (tmp_path / "pkg/b.py").write_text("def later():\n    from pkg import f\n")  # b -> f -> a -> b
    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.f"], ["pkg.c", "pkg.e", "pkg.sub.d"]]

    (tmp_path / "pkg/b.py").write_text("import os\n")
    (tmp_path / "pkg/e.py").write_text("import pkg.sub\n")  # only the empty pkg/sub/__init__.py: no circle
    assert cycles(import_graph(tmp_path, ("pkg",))) == []


def test_it_has_a_readme_row_for_every_package_and_a_package_for_every_row() -> None:
    rows = layout(ROOT / "README.md")
    subpackages = {f"advisor/{p.parent.name}/" for p in (ROOT / "advisor").glob("*/__init__.py")}
    tree = {f"{p}/" for p in PACKAGES} | subpackages - {"advisor/migrations/", "advisor/management/"}
    problems = [f"in the tree but not in the README: {d}" for d in sorted(tree - rows.keys())]
    problems += [f"in the README but not in the tree: {d}" for d in sorted(rows.keys() - tree)]
    assert not problems, "README.md's layout table and the packages differ:\n" + "\n".join(problems)


def test_it_names_every_module_of_the_site_where_it_lives() -> None:
    # advisor/ and its packages: a newcomer finds each file in the map, and the map names no file that is gone.
    problems = []
    for directory, named in named_files(ROOT / "README.md").items():
        if not directory.startswith(TOP):
            continue
        present = {p.name for p in (ROOT / directory).glob("*.py")} - {"__init__.py"}
        problems += [f"{directory}{name} is not in the README's map" for name in sorted(present - named)]
        problems += [
            f"the README's map names {directory}{name}, which does not exist" for name in sorted(named - present)
        ]
    assert not problems, "\n".join(problems)


def test_it_imports_only_what_the_readme_allows() -> None:
    rows = layout(ROOT / "README.md")
    found = modules(ROOT, PACKAGES)
    violations = []
    for name, path in found.items():
        # A module belongs to the deepest row whose directory holds its file (a file beside a package is not in it).
        where = path.relative_to(ROOT).as_posix()
        own = max((directory for directory in rows if where.startswith(directory)), key=len, default=None)
        if own is None or rows[own] is None:  # the top advisor/ row: may import every package
            continue
        allowed = (dotted(own), *rows[own])
        # The imports as written (no parent packages): advisor.models from advisor/inbox/ is a violation.
        for target in sorted(imports(name, path, found)):
            if target.split(".")[0] in PACKAGES and not any(within(target, a) for a in allowed):
                violations.append(f"{name} -> {target} (allowed: {', '.join(allowed)})")
    assert not violations, "imports the README's layout does not allow:\n" + "\n".join(violations)


def test_it_imports_django_admin_only_from_admin_modules() -> None:
    found = modules(ROOT, PACKAGES)
    # django.contrib.admin is a module too, so `from django.contrib import admin` names it. The settings only
    # name the app in a string, which is no import.
    known = found.keys() | {"django.contrib.admin"}
    wrong = [
        name
        for name, path in found.items()
        if any(within(target, "django.contrib.admin") for target in imports(name, path, known))
        and not (path.name == "admin.py" or path.name.endswith("_admin.py") or name == "advisor.urls")
    ]
    assert not wrong, f"modules importing django.contrib.admin that are not admin modules: {', '.join(wrong)}"


def test_it_has_a_tests_folder_for_every_package() -> None:
    short = [directory.strip("/").split("/")[-1] for directory in layout(ROOT / "README.md") if directory != TOP]
    missing = [f"tests/{name}/" for name in short if not (ROOT / "tests" / name / "__init__.py").is_file()]
    assert not missing, f"packages without a tests folder (with an __init__.py): {', '.join(missing)}"
