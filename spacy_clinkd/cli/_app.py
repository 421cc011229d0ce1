import typer

app = typer.Typer(
    name="spacy_clinkd",
    help="spacy_clinkd command-line tools (one command per project step).",
    no_args_is_help=True,
    add_completion=False,
)
