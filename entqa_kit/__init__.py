"""entqa-kit: EntQA entity linking (retrieve, then read) for your own knowledge base.

Importing the package does no torch work; heavy modules load on first use.
"""

__version__ = "0.1.0"
