"""The layer contract in pyproject.toml holds: newsmon → pipelines → crawler → search, one way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_go_one_way():
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_a_stage_engine_imports_without_scrapy():
    """Engines are usable outside a crawl: importing them pulls in no Scrapy module."""
    code = (
        "import sys\n"
        "import pipelines.normalize.page, pipelines.language.detect, pipelines.translate.engine\n"
        "import pipelines.dedup.engine, search.store\n"
        "assert not [m for m in sys.modules if m == 'scrapy' or m.startswith('scrapy.')], 'scrapy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
