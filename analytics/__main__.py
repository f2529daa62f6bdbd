"""`python -m analytics [en|zh]`: print the metric catalog as a Markdown table."""

import sys

from .catalog import catalog_markdown

print(catalog_markdown(sys.argv[1] if len(sys.argv) > 1 else "en"))
