"""Speed and size of pipelines: one measuring engine (`engine`: several
pipelines side by side, one pipeline being a comparison of one), memory, disk
and parameters (`resources`), encoder FLOPs (`flops`), and the JSON and
markdown the `benchmark` and `benchmark-compare` commands write (`report`).
Import from the modules (`spacy_clinkd.benchmark.engine`, …)."""
