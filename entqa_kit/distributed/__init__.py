"""Scaling out: Ray for batch work (linking a corpus, encoding a KB) and the torchrun launcher for
training on several processes.

Ray is an optional extra (``pip install 'entqa-kit[distributed]'``); it is imported only inside the
functions that use it, so importing this package is cheap.
"""
