"""Rebuild the derived data assets from their public sources (project.yml `build-assets`).

    python scripts/build_derived_assets.py [PROJECT_DIR] [--mirror DIR] [--only NAME ...] [--offline] [--force]

The recipes (spacy_clinkd/derived_assets.py): brown (Brown sentence TSVs from
assets/brown/tagged), e3c (the E3C layer-3 JSONL from the E3C-Corpus archive),
mtsamples_full (the MTSamples CSV from clinspacy's mtsamples.rda), cogstack
(the CogStack .txt notes from mtsamples-txt-small.tgz). A recipe's sources
come from the project, else the mirror, else their project.yml URL or git
folder (not with --offline). Each output is checked against its project.yml
checksum before it is put in place; outputs already in place and verified are
kept unless --force.
"""
import argparse
import sys

from spacy_clinkd.assets import AssetResult, build_derived
from spacy_clinkd.derived_assets import RECIPES
from spacy_clinkd.errors import ClinkdError


def _print(result: AssetResult) -> None:
    mark = "✔" if result.checksum is not None else "⚠"
    print(f"{mark} {result.describe()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("project_dir", nargs="?", default=".", help="the project (holds project.yml)")
    parser.add_argument("--mirror", default=None, help="local copy of the corpora; default vars.data_mirror")
    parser.add_argument(
        "--only", action="append", default=[], choices=[r.name for r in RECIPES], help="a recipe (repeatable)"
    )
    parser.add_argument("--offline", action="store_true", help="never download a source")
    parser.add_argument("--force", action="store_true", help="rebuild outputs already in place")
    args = parser.parse_args(argv)
    try:
        report = build_derived(
            args.project_dir, mirror=args.mirror, names=args.only, download=not args.offline,
            force=args.force, on_result=_print,
        )
    except ClinkdError as err:
        print(f"✘ {err}", file=sys.stderr)
        return 1
    print(f"✔ {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
