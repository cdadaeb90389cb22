"""Serving: the HTTP app (``entqa-kit serve``), the GERBIL NIF endpoint and the spaCy component.

Heavy imports (fastapi, uvicorn, rdflib, spacy, torch) happen inside the modules that need them, so
importing this package is cheap.
"""
