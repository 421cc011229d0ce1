"""How the CLI starts: `--help` loads neither spaCy nor torch (the commands
import the package modules when they run), and the CLI starts where the
Unix-only `resource` module does not exist (Windows). Each case runs in a
fresh interpreter, since this test process has imported everything already."""
import json
import os
import subprocess
import sys

import pytest
import typer

from spacy_clinkd.benchmark.report import benchmark_markdown
from spacy_clinkd.cli import app
from tests.util import ROOT

# spaCy is here too: it imports torch through thinc, and takes seconds itself.
HEAVY = ["spacy", "torch", "transformers"]
# What Windows does: `import resource` raises ImportError.
HIDE_RESOURCE = "import sys; sys.modules['resource'] = None\n"
# `python -m spacy_clinkd ARGS`, after the lines above.
RUN_MAIN = "import runpy; sys.argv = ['spacy_clinkd', *{args!r}]; runpy.run_module('spacy_clinkd', run_name='__main__')"


def run_python(code: str) -> subprocess.CompletedProcess:
    # wide enough that no command name is cut in the help table
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def command_names():
    return list(typer.main.get_command(app).commands)


@pytest.mark.parametrize("args", [["--help"], ["benchmark", "--help"]], ids=["app", "benchmark"])
def test_the_cli_starts_without_resource(command_names, args):
    done = run_python(HIDE_RESOURCE + RUN_MAIN.format(args=args))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if args == ["--help"]:
        missing = [name for name in command_names if f" {name} " not in done.stdout]
        assert not missing, done.stdout
    else:
        assert "--repeats" in done.stdout and "--latency-docs" in done.stdout


def test_peak_rss_without_resource_is_unmeasured():
    code = HIDE_RESOURCE + (
        "import json\n"
        "from spacy_clinkd.benchmark import resources\n"
        "linux = resources.peak_rss_mib()\n"
        "resources._status_mib = lambda field: None  # no /proc/self/status either, as on Windows\n"
        "print(json.dumps([linux, resources.peak_rss_mib()]))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    linux, elsewhere = json.loads(done.stdout)
    assert linux > 0  # VmHWM, which needs no `resource`
    assert elsewhere is None


def test_benchmark_markdown_shows_an_unmeasured_peak_as_unknown():
    result = {
        "model": {"path": "pkg", "parameters": 1_000_000, "disk_bytes": None},
        "load_seconds": 1.0,
        "throughput": {"words_per_second_median": 100.0, "words_per_second_min": 90.0, "words_per_second_max": 110.0},
        "memory_mib": {"rss_after_load": None, "peak_rss": None},
        "data": {"docs": 1, "words": 5},
        "settings": {},
    }
    assert benchmark_markdown([result]).splitlines()[4] == "| `pkg` | 1.0 M | ? | 1.0 | 100 [90, 110] | - | ? | ? |"


def test_importing_the_cli_and_every_help_load_no_heavy_module(command_names):
    code = (
        "import json, sys\n"
        f"heavy = {HEAVY!r}\n"
        "import spacy_clinkd.cli\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
        "from spacy_clinkd.cli import app\n"
        "import typer\n"
        "group = typer.main.get_command(app)\n"
        "for args in [['--help'], *([name, '--help'] for name in group.commands)]:\n"
        "    assert group.main(args, prog_name='spacy_clinkd', standalone_mode=False) == 0, args\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert json.loads(lines[0]) == []  # after `import spacy_clinkd.cli`
    assert json.loads(lines[-1]) == []  # after every --help
    # every command printed its help (the loop above did not stop early)
    assert done.stdout.count("Usage: spacy_clinkd") == len(command_names) + 1
