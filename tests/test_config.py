from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import DEFAULTS, load_config
from search.errors import ConfigError


def test_defaults_without_a_file():
    config = load_config()
    assert config.source is None
    assert config.store_path.name == "newsmon.sqlite3"
    assert "newsmon-data" in str(config.store_path)  # NEWSMON_DATA_DIR, set by the test plugin
    assert config.values["index"]["url"] == ""


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "newsmon.toml"
    path.write_text('[store]\npath = "/tmp/x.sqlite3"\n[crawl]\nmin_words = 10\n', encoding="utf-8")
    config = load_config(path)
    assert str(config.store_path) == "/tmp/x.sqlite3"
    assert config.values["crawl"]["min_words"] == 10
    monkeypatch.setenv("NEWSMON_DB", "/tmp/y.sqlite3")
    assert str(load_config(path).store_path) == "/tmp/y.sqlite3"


def test_newsmon_toml_in_the_working_directory_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsmon.toml").write_text('[index]\nurl = "http://localhost:9200"\n', encoding="utf-8")
    assert load_config().values["index"]["url"] == "http://localhost:9200"


@pytest.mark.parametrize("text, message", [
    ("[nope]\nx = 1\n", "unknown section [nope]"),
    ("[crawl]\nmin_wrds = 3\n", "unknown setting crawl.min_wrds"),
    ('[crawl]\nmin_words = "many"\n', "crawl.min_words must be a int"),
    ("[crawl\n", "not valid TOML"),
])
def test_bad_config_is_a_one_line_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_example_file_documents_every_default():
    import tomllib

    example = Path(__file__).resolve().parents[1] / "newsmon.example.toml"
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    for section, values in DEFAULTS.items():
        for key, value in values.items():
            assert key in data.get(section, {}), f"{section}.{key} missing from newsmon.example.toml"
            assert data[section][key] == value, f"{section}.{key} differs from the default"


def test_a_component_without_its_switch_or_a_store_is_left_out_with_the_reason():
    from scrapy.exceptions import NotConfigured
    from scrapy.settings import Settings

    from crawler import wiring

    on = Settings({"NEWSMON_DEDUP_ENABLED": True, "NEWSMON_STORE_PATH": "/data/store.sqlite3"})
    assert wiring.store_path(on, "NEWSMON_DEDUP_ENABLED") == "/data/store.sqlite3"
    with pytest.raises(NotConfigured, match="NEWSMON_DEDUP_ENABLED is off"):
        wiring.store_path(Settings({"NEWSMON_STORE_PATH": "/data/store.sqlite3"}),
                          "NEWSMON_DEDUP_ENABLED")
    with pytest.raises(NotConfigured, match="NEWSMON_STORE_PATH is not set"):
        wiring.store_path(Settings({"NEWSMON_DEDUP_ENABLED": True}), "NEWSMON_DEDUP_ENABLED")
