"""The WSGI entry point: what a worker does when it starts, before any visitor."""

import os
import subprocess
import sys

from django.conf import settings

FROZEN = "import gc, innovplaces.wsgi; print(gc.get_freeze_count())"


def frozen_at_start(tmp_path, **env):
    environment = {
        **os.environ,
        # A database with no tables: the index cannot be built, the worker starts anyway.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "innovplaces.settings",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", FROZEN],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.split()[-1])


def test_what_a_worker_loads_at_start_is_kept_out_of_the_garbage_collectors_walks(tmp_path):
    # The modules, URL patterns, catalogues and templates loaded by the warm-up stay for
    # the process's life: full collections need not walk them again and again.
    assert frozen_at_start(tmp_path, WARM_UP="1") > 10_000
    assert frozen_at_start(tmp_path, WARM_UP="0") == 0
