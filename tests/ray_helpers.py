"""A linker actor for tests/test_ray_scale_out.py that kills its own process once (a worker crash)."""

from __future__ import annotations

import os

from entqa_kit.distributed.ray_link import LinkActor

CRASH_MARKER = "ENTQA_TEST_CRASH_MARKER"


class CrashOnceActor(LinkActor):
    """The first call in the whole cluster creates the marker file and kills its worker process."""

    def __call__(self, batch):
        marker = os.environ.get(CRASH_MARKER)
        if marker:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os._exit(1)
        return super().__call__(batch)
