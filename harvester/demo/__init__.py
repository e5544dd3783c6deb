"""``ichlinks demo``: bundled partner repositories and the one-command tour of the system.

Partner institutions from five countries (``data/*.yaml``) are served over real
OAI-PMH on 127.0.0.1, each with its own format and quirks, then harvested, crosswalked,
indexed and searched by the same code as ``ichlinks harvest``.
"""

from .metadata_formats import FORMATS, lang_texts
from .partners import DemoPartner, load_partners
from .walkthrough import DemoReport, SampleSearch, run_demo, running_partners, sample_searches
from .workspace import DemoDirError, prepare_demo_dir

__all__ = [
    "FORMATS",
    "DemoDirError",
    "DemoPartner",
    "DemoReport",
    "SampleSearch",
    "lang_texts",
    "load_partners",
    "prepare_demo_dir",
    "run_demo",
    "running_partners",
    "sample_searches",
]
