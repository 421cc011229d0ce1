"""The defaults and limits of `serve`, in a module that imports nothing, so
that the CLI can show them in `--help` without loading FastAPI or spaCy."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# the longest text taken (characters); a MACCROBAT case report is ~3,000
DEFAULT_MAX_CHARS = 100_000
# the most texts per nlp.pipe call (annotate's default batch size)
DEFAULT_BATCH_SIZE = 32
# the most texts one request may hold
MAX_TEXTS = 256
# the most texts waiting for the pipeline before requests get 503
DEFAULT_MAX_QUEUED = 4096
# the Host names a server bound to a loopback address answers to
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
API_KEY_HEADER = "X-API-Key"
API_KEY_ENV = "SPACY_CLINKD_API_KEY"
