"""project.yml's deps hold the package code each command runs, computed here
from the source, so that editing a module re-runs every step that runs it.

What a script line runs (its roots):
- `python -m spacy_clinkd CMD …` (or `spacy-clinkd CMD`): the spacy_clinkd/cli/
  module whose `@app.command("CMD")` defines CMD, less the bodies of that
  module's other commands (unless CMD calls them). The dispatch shell every
  command passes through is not followed: `__main__.py` and `cli/__init__.py`
  import every command module to register it, then run one.
- `python scripts/X.py`: the script, itself a dep.
- `python -m spacy SUB …`: spaCy's code; ours only through the registry (below).
- any other line (pip, …) runs no package code. A line that names spacy_clinkd
  or scripts/ in a form not listed here fails, so nothing is skipped silently.

Code reached through the registry (setup.py entry points), which no import shows:
- every `*.cfg` the line names (and the `*.cfg` such a config names, as
  distill_ensemble.cfg names distill.cfg): the modules that register the
  `@…` and `factory` names of ours in it.
- a trained pipeline the line names (a `…/model-best`, or `en_{package_name}`:
  assembled, packaged or installed), when the line's code loads one (spaCy's
  `package`, `evaluate`, …; ours: a `spacy.load` / `spacy.util.load_model*` call
  in a module of its closure, a module-level over-approximation): loading builds
  [nlp] and [components], whose names belong to the LOAD_TIME_GROUPS of entry
  points, so the modules of all of those. Readers and misc names (the teacher
  targets) are resolved from [corpora] by training only, where a config the
  line names brings them; test_load_time_groups_cover_the_configs checks that
  no config puts one of them in [nlp] or [components].

From the roots: the transitive closure of spacy_clinkd modules imported,
module-level and function-local imports, relative and absolute.

Required: the file of every module in the closure (so `cli/_app.py` and
`errors.py` for every command of ours). `__init__.py` files are
neither required nor followed: test_package_inits_hold_no_code checks that
they hold a docstring (and the top level's `__version__` re-export) only, so
editing one cannot change what a step computes.

Covered: the file or one of its folders is a dep (after `${vars.…}` substitution).
"""
import ast
import functools
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

import pytest
import srsly
from thinc.api import Config

from tests.util import ROOT, import_targets, imports_in, package_parts_of

PACKAGE_NAME = "spacy_clinkd"
# Entry-point groups whose names a saved pipeline's [nlp] and [components] use.
LOAD_TIME_GROUPS = (
    "spacy_factories", "spacy_architectures", "spacy_tokenizers", "spacy_span_getters", "spacy_scorers",
)
# spaCy subcommands → whether they load the pipeline a line names (all of
# them read the configs it names).
SPACY_COMMANDS = {
    "train": False, "pretrain": False, "assemble": False, "init": False, "debug": False,
    "package": True, "evaluate": True, "apply": True, "benchmark": True, "find-threshold": True,
}
# Calls that load (and so run the components of) a saved pipeline.
LOAD_FUNCTIONS = {
    "load_model", "load_model_from_path", "load_model_from_package",
    "load_model_from_init_py", "load_model_from_config",
}


class UnknownLine(ValueError):
    """A script line whose code this test cannot tell."""


@functools.cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf8"))


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The file of a spacy_clinkd module (a package: its `__init__.py`), or
    None for a name that is not one (an attribute, another distribution)."""
    if name.split(".")[0] != PACKAGE_NAME:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def modules_imported(tree: ast.AST, path: Path, root: Path = ROOT) -> set[Path]:
    """Files of the spacy_clinkd modules imported anywhere under `tree`, a
    part of the file `path`; package `__init__.py` files left out."""
    files = {module_file(name, root) for _, name in imports_in(tree, package_parts_of(path, root))}
    return {f for f in files if f is not None and f.name != "__init__.py"}


def closure(start: Iterable[Path], root: Path = ROOT, *, done: Iterable[Path] = ()) -> set[Path]:
    """`start` and every module file they import, transitively. Files in
    `done` count as reached but are not read again."""
    seen = set(done)
    todo = [p for p in start if p not in seen]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(modules_imported(parse(path), path, root) - seen)
    return seen


def command_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Typer subcommand name → its function, read from `@app.command(…)`:
    the first argument or `name=`, else the function name with dashes."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "command":
                named = [kw.value for kw in deco.keywords if kw.arg == "name"] + deco.args[:1]
                name = named[0].value if named and isinstance(named[0], ast.Constant) else None
                found[name or node.name.replace("_", "-")] = node
    return found


def cli_commands(root: Path = ROOT) -> dict[str, Path]:
    """`python -m spacy_clinkd` subcommand → the spacy_clinkd/cli/ module defining it."""
    return {
        name: path
        for path in sorted((root / PACKAGE_NAME / "cli").glob("*.py"))
        for name in command_functions(parse(path))
    }


def subcommand_code(name: str, root: Path = ROOT) -> set[Path]:
    """The module files `python -m spacy_clinkd NAME` runs: its cli module,
    less the bodies of the module's other commands, and what that imports."""
    path = cli_commands(root).get(name)
    if path is None:
        raise UnknownLine(f"no `@app.command({name!r})` in {PACKAGE_NAME}/cli/")
    tree = parse(path)
    commands = command_functions(tree)
    called = {node.id for node in ast.walk(commands[name]) if isinstance(node, ast.Name)}
    skipped = {
        id(node)
        for other, func in commands.items()
        if other != name and func.name not in called
        for node in ast.walk(func)
    }
    parts = package_parts_of(path, root)
    imported = {
        module_file(target, root)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped
        for target in import_targets(node, parts)
    }
    start = {f for f in imported if f is not None and f.name != "__init__.py"}
    return closure(start, root, done={path}) | {path}


def loads_a_pipeline(files: Iterable[Path]) -> bool:
    """Whether any of `files` calls `spacy.load` or `spacy.util.load_model*`."""
    for path in files:
        for node in ast.walk(parse(path)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "load":
                if isinstance(func.value, ast.Name) and func.value.id == "spacy":
                    return True
            if getattr(func, "attr", getattr(func, "id", None)) in LOAD_FUNCTIONS:
                return True
    return False


def entry_points(root: Path = ROOT) -> dict[str, dict[str, str]]:
    """setup.py's entry points: group → registered name → module."""
    for node in ast.walk(parse(root / "setup.py")):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            groups = ast.literal_eval(node.value)
            return {
                group: {
                    name.strip(): target.split(":")[0].strip()
                    for name, target in (line.split("=", 1) for line in lines)
                }
                for group, lines in groups.items()
            }
    raise AssertionError("setup.py declares no entry_points")


def walk_config(node, section: tuple[str, ...] = ()):
    """(section path, key, value) of every setting of a nested config dict."""
    for key, value in node.items():
        if isinstance(value, dict):
            yield from walk_config(value, (*section, key))
        else:
            yield section, key, value


def registered_names(config_path: Path, root: Path = ROOT) -> set[str]:
    """Our registered names (`@…` values and factories starting with "clinkd")
    in a config and in the configs it names, e.g. `distill_config = "configs/distill.cfg"`."""
    names: set[str] = set()
    todo, seen = [config_path], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for _, key, value in walk_config(Config().from_disk(path, interpolate=False)):
            if isinstance(value, str) and (key.startswith("@") or key == "factory") and value.startswith("clinkd"):
                names.add(value)
            elif isinstance(value, str) and value.endswith(".cfg") and (root / value).is_file():
                todo.append(root / value)
    return names


def registered_code(names: Iterable[str], root: Path = ROOT) -> set[Path]:
    """The module files (closure) that registering `names` imports."""
    modules = {name: module for group in entry_points(root).values() for name, module in group.items()}
    unknown = sorted(set(names) - set(modules))
    if unknown:
        raise UnknownLine(f"registered names not in setup.py's entry points: {unknown}")
    return closure({module_file(modules[name], root) for name in names}, root)


def load_time_code(root: Path = ROOT) -> set[Path]:
    """The module files loading a saved pipeline of ours may import."""
    points = entry_points(root)
    return registered_code({name for group in LOAD_TIME_GROUPS for name in points.get(group, {})}, root)


def expand(text: str, variables: dict) -> str:
    return re.sub(r"\$\{vars\.(\w+)\}", lambda m: str(variables[m.group(1)]), text)


def line_code(line: str, variables: dict, root: Path = ROOT) -> dict[Path, str]:
    """The package (and script) files one script line runs → why."""
    tokens = shlex.split(expand(line, variables))
    if tokens[:2] in (["python", "-m"], ["python3", "-m"]):
        runner, args = tokens[2], tokens[3:]
    elif tokens[0] in ("python", "python3") and tokens[1].endswith(".py"):
        runner, args = tokens[1], tokens[2:]
    else:
        runner, args = tokens[0].replace("spacy-clinkd", PACKAGE_NAME), tokens[1:]
    pipeline_names = ("model-best", f"en_{variables['package_name']}")
    pipelines = [arg for arg in args if any(name in arg for name in pipeline_names)]
    configs = [root / arg for arg in args if arg.endswith(".cfg")]
    code: dict[Path, str] = {}
    if runner == PACKAGE_NAME:
        why = f"`{PACKAGE_NAME} {args[0]}`"
        for path in subcommand_code(args[0], root):
            code[path] = why
        loads = loads_a_pipeline(code)
    elif runner.startswith("scripts/") and runner.endswith(".py"):
        why = f"`{runner}`"
        script = root / runner
        for path in closure(modules_imported(parse(script), script, root), root):
            code[path] = why
        loads = loads_a_pipeline([script, *code])
        code[script] = why
    elif runner == "spacy":
        if args[0] not in SPACY_COMMANDS:
            raise UnknownLine(f"`spacy {args[0]}`: add it to SPACY_COMMANDS")
        why, loads = f"`spacy {args[0]}`", SPACY_COMMANDS[args[0]]
    elif PACKAGE_NAME in line or "scripts/" in line:
        raise UnknownLine(f"cannot tell what this line runs: {line}")
    else:
        return code
    for config in configs:
        if not config.is_file():
            raise UnknownLine(f"{why} names the config {config.relative_to(root)}, which does not exist")
        for path in registered_code(registered_names(config, root), root):
            code.setdefault(path, f"{why} with {config.relative_to(root)}")
    if loads and pipelines:
        for path in load_time_code(root):
            code.setdefault(path, f"{why} loading {pipelines[0]}")
    return code


def missing_deps(command: dict, variables: dict, root: Path = ROOT) -> list[str]:
    """One message per module file `command` runs that its deps do not cover."""
    deps = [expand(dep, variables).rstrip("/") for dep in command.get("deps", [])]
    needed: dict[Path, str] = {}
    for line in command.get("script", []):
        for path, why in line_code(line, variables, root).items():
            needed.setdefault(path, why)
    missing = []
    for path, why in sorted(needed.items()):
        rel = path.relative_to(root).as_posix()
        if not any(rel == dep or rel.startswith(dep + "/") for dep in deps):
            missing.append(f"{command['name']}: deps miss {rel} (run by {why})")
    return missing


PROJECT = srsly.read_yaml(ROOT / "project.yml")
COMMANDS = {command["name"]: command for command in PROJECT["commands"]}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_deps_cover_the_code_each_command_runs(name):
    missing = missing_deps(COMMANDS[name], PROJECT["vars"])
    assert not missing, "\n".join(missing)


def test_a_dropped_dep_is_named():
    # The check on the real project.yml: `distill` without the dep that covers
    # gold_training.py (issue 27 found it missing) fails and says which.
    module = "spacy_clinkd/gold_training.py"
    command = dict(COMMANDS["distill"])
    command["deps"] = [d for d in command["deps"] if not (module == d or module.startswith(d.rstrip("/") + "/"))]
    assert "distill: deps miss spacy_clinkd/gold_training.py (run by `spacy_clinkd distill`)" in missing_deps(
        command, PROJECT["vars"]
    )


def write_package(root: Path, files: dict[str, str]) -> Path:
    for rel, source in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(source, encoding="utf8")
    return root


def rel_set(paths: Iterable[Path], root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in paths}


def test_the_closure_follows_local_relative_and_absolute_imports(tmp_path):
    root = write_package(tmp_path, {
        "spacy_clinkd/__init__.py": "",
        "spacy_clinkd/cli/__init__.py": "from . import run, other\n",
        "spacy_clinkd/cli/run.py": (
            "from ._app import app\n"
            "@app.command('go')\n"
            "def go_cli():\n"
            "    from ..models import encoder\n"
            "    import spacy_clinkd.losses\n"
            "@app.command(name='stop')\n"
            "def stop_cli():\n"
            "    from ..corpora.brat import convert\n"
            "@app.command()\n"
            "def all_steps():\n"
            "    go_cli()\n"
        ),
        "spacy_clinkd/cli/other.py": "",
        "spacy_clinkd/cli/_app.py": "",
        "spacy_clinkd/models/__init__.py": "",
        "spacy_clinkd/models/encoder.py": "def f():\n    from .windows import w\n",
        "spacy_clinkd/models/windows.py": "from spacy_clinkd.errors import E\n",
        "spacy_clinkd/errors.py": "",
        "spacy_clinkd/losses.py": "",
        "spacy_clinkd/corpora/__init__.py": "",
        "spacy_clinkd/corpora/brat.py": "",
    })
    assert cli_commands(root) == {n: root / "spacy_clinkd/cli/run.py" for n in ("go", "stop", "all-steps")}
    go = {
        "spacy_clinkd/cli/run.py", "spacy_clinkd/cli/_app.py", "spacy_clinkd/models/encoder.py",
        "spacy_clinkd/models/windows.py", "spacy_clinkd/errors.py", "spacy_clinkd/losses.py",
    }
    assert rel_set(subcommand_code("go", root), root) == go
    # `stop` does not run go's body, and `all-steps` runs it by calling it
    assert rel_set(subcommand_code("stop", root), root) == {
        "spacy_clinkd/cli/run.py", "spacy_clinkd/cli/_app.py", "spacy_clinkd/corpora/brat.py",
    }
    assert rel_set(subcommand_code("all-steps", root), root) == go


def test_loaded_pipelines_and_configs_bring_registered_code(tmp_path):
    root = write_package(tmp_path, {
        "setup.py": (
            "setup(entry_points={'spacy_factories': ['clinkd_x = spacy_clinkd.pipe:make'],\n"
            "                    'spacy_readers': ['clinkd.reader.v1 = spacy_clinkd.reader:make']})\n"
        ),
        "spacy_clinkd/__init__.py": "",
        "spacy_clinkd/pipe.py": "",
        "spacy_clinkd/reader.py": "",
        "spacy_clinkd/cli/_app.py": "",
        "spacy_clinkd/cli/ev.py": (
            "from ._app import app\n@app.command('ev')\ndef ev():\n    import spacy\n    spacy.load('x')\n"
        ),
        "spacy_clinkd/cli/card.py": "from ._app import app\n@app.command('card')\ndef card():\n    pass\n",
        "configs/a.cfg": "[paths]\nbase = \"configs/b.cfg\"\n\n[corpora]\n\n[corpora.train]\n@readers = \"clinkd.reader.v1\"\n",
        "configs/b.cfg": "[components]\n\n[components.x]\nfactory = \"clinkd_x\"\n",
    })
    variables = {"package_name": "x"}
    ev = rel_set(line_code("python -m spacy_clinkd ev training/t/model-best", variables, root), root)
    assert ev == {"spacy_clinkd/cli/ev.py", "spacy_clinkd/cli/_app.py", "spacy_clinkd/pipe.py"}
    # card names a pipeline but loads none; ev loads one it is not given
    assert "spacy_clinkd/pipe.py" not in rel_set(line_code("python -m spacy_clinkd card en_x", variables, root), root)
    assert "spacy_clinkd/pipe.py" not in rel_set(line_code("python -m spacy_clinkd ev data.txt", variables, root), root)
    assert rel_set(line_code("python -m spacy package en_x out", variables, root), root) == {"spacy_clinkd/pipe.py"}
    assert rel_set(line_code("python -m spacy train configs/a.cfg", variables, root), root) == {
        "spacy_clinkd/pipe.py", "spacy_clinkd/reader.py",
    }
    assert line_code("python -m pip install x.whl", variables, root) == {}
    for line in ("python spacy_clinkd/cli/ev.py", "python -m spacy_clinkd nope", "python -m spacy nope x"):
        with pytest.raises(UnknownLine):
            line_code(line, variables, root)


def test_load_time_groups_cover_the_configs():
    # Loading a pipeline builds [nlp] and [components] only: every name of
    # ours there must be in a LOAD_TIME_GROUPS group, or loading imports code
    # the rule above leaves out.
    points = entry_points()
    load_time = {name for group in LOAD_TIME_GROUPS for name in points[group]}
    outside = [
        f"{path.relative_to(ROOT)} [{'.'.join(section)}] {key} = {value}"
        for path in sorted((ROOT / "configs").rglob("*.cfg"))
        for section, key, value in walk_config(Config().from_disk(path, interpolate=False))
        if section[:1] in (("nlp",), ("components",))
        and (key.startswith("@") or key == "factory")
        and str(value).startswith("clinkd")
        and value not in load_time
    ]
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / PACKAGE_NAME).rglob("__init__.py") if p.parent.name != "cli"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_package_inits_hold_no_code(path):
    # cli/__init__.py is the dispatch shell; every other __init__.py may hold
    # a docstring, `__all__` and the top level's `from .about import __version__`.
    def allowed(node: ast.stmt) -> bool:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return True
        if isinstance(node, ast.Assign):
            return [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        return isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == "about"

    code = [node.lineno for node in ast.parse(path.read_text(encoding="utf8")).body if not allowed(node)]
    assert not code, f"lines {code} run on import: follow __init__ imports in test_project_deps, or move them"
