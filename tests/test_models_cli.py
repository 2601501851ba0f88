"""``newsmon models``: install (file and index), list, remove, through argostranslate for real."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from crawler.config import data_dir
from newsmon.cli import main
from tests.plugins.argos import ArgosPackages, PackageIndexServer


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def use_index(url: str) -> None:
    Path("newsmon.toml").write_text(f'[translate]\npackage_index = "{url}"\n', encoding="utf-8")


def test_install_file_puts_the_package_in_newsmons_folder_only(
    capsys, argos_packages: ArgosPackages, no_network: list
):
    code, out, _ = run(capsys, "models", "install-file", str(argos_packages.ru_en))
    assert code == 0
    assert "translate-ru_en 1.0" in out
    installed = data_dir() / "argos-packages" / "translate-ru_en-1_0"
    assert (installed / "metadata.json").is_file()
    assert (installed / "model" / "model.bin").is_file()
    # argostranslate's default folders under the user's home stay untouched
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "argos-translate").exists()
    assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "argos-translate").exists()

    code, out, _ = run(capsys, "models", "list")
    assert code == 0
    line = next(line for line in out.splitlines() if "translate-ru_en" in line)
    assert "ru→en" in line and "1.0" in line
    assert no_network == []


def test_a_newer_version_replaces_the_installed_one(capsys, argos_packages: ArgosPackages):
    assert run(capsys, "models", "install-file", str(argos_packages.ru_en))[0] == 0
    assert run(capsys, "models", "install-file", str(argos_packages.ru_en_v11))[0] == 0
    _, out, _ = run(capsys, "models", "list")
    lines = [line for line in out.splitlines() if "translate-ru_en" in line]
    assert len(lines) == 1 and "1.1" in lines[0]
    assert sorted(p.name for p in (data_dir() / "argos-packages").iterdir()) == ["translate-ru_en-1_1"]


def test_list_shows_pairs_reachable_through_the_pivot(capsys, argos_packages: ArgosPackages):
    for path in (argos_packages.nb_en, argos_packages.en_ru):
        assert run(capsys, "models", "install-file", str(path))[0] == 0
    _, out, _ = run(capsys, "models", "list")
    pivot = out.split("through a pivot language:")[1]
    assert "nb→ru" in pivot and "translate-nb_en+translate-en_ru" in pivot


def test_remove_uninstalls_and_a_second_remove_is_not_found(capsys, argos_packages: ArgosPackages):
    run(capsys, "models", "install-file", str(argos_packages.nb_en))
    code, out, _ = run(capsys, "models", "remove", "nb", "en")
    assert code == 0 and "removed translate-nb_en 1.0" in out
    assert list((data_dir() / "argos-packages").iterdir()) == []
    code, _, err = run(capsys, "models", "remove", "nb", "en")
    assert code == 1
    assert err.strip().startswith("newsmon: error: no model nb→en is installed")


@pytest.mark.parametrize("content, message", [
    (b"not a zip archive", "is not an Argos package"),
    (None, "expected one top-level folder holding metadata.json"),
])
def test_install_file_rejects_what_is_not_a_package(capsys, tmp_path: Path, content, message):
    bad = tmp_path / "bad.argosmodel"
    if content is None:
        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("pkg/model/model.bin", b"")
    else:
        bad.write_bytes(content)
    code, _, err = run(capsys, "models", "install-file", str(bad))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    folder = data_dir() / "argos-packages"
    assert not folder.exists() or not any(folder.iterdir())


def test_install_without_network_says_so(capsys, no_network: list, refused_url: str):
    use_index(refused_url + "/")
    code, _, err = run(capsys, "models", "install", "ru", "en")
    assert code == 3
    assert "cannot reach the Argos package index" in err
    assert "needs network" in err and "install-file" in err
    assert no_network == []  # only the loopback address was tried


def test_install_and_list_available_from_a_package_index(capsys, package_index: PackageIndexServer):
    use_index(package_index.url)
    code, out, _ = run(capsys, "models", "install", "ru", "en")
    assert code == 0, out
    assert "installed translate-ru_en 1.0" in out
    assert (data_dir() / "argos-packages" / "translate-ru_en-1_0" / "metadata.json").is_file()
    # argostranslate's download went to newsmon's folder and was cleaned up
    downloads = data_dir() / "argos-home" / "cache" / "argos-translate" / "downloads"
    assert downloads.is_dir() and list(downloads.iterdir()) == []

    code, out, _ = run(capsys, "models", "list", "--available")
    assert code == 0
    available = out.split("available from the Argos package index")[1]
    assert "ru→en" in available and "(installed)" in available.split("ru→en")[1].splitlines()[0]
    assert "nb→en" in available and "(installed)" not in available.split("nb→en")[1].splitlines()[0]

    code, _, err = run(capsys, "models", "install", "ru", "xx")
    assert code == 1
    assert "no model ru→xx" in err and "en" in err


def test_a_download_that_cannot_be_saved_is_not_called_a_network_error(
        capsys, package_index: PackageIndexServer):
    use_index(package_index.url)
    downloads = data_dir() / "argos-home" / "cache" / "argos-translate" / "downloads"
    downloads.parent.mkdir(parents=True, exist_ok=True)
    downloads.symlink_to("/proc/self")  # a folder nobody can write to, not even root
    code, _, err = run(capsys, "models", "install", "ru", "en")
    assert code == 2, err  # ModelError, not NoNetwork (3)
    assert err.startswith("newsmon: error: cannot save the download of translate-ru_en")
    assert "network" not in err and err.count("\n") == 1


def test_a_package_whose_links_fail_says_which(capsys, package_index: PackageIndexServer):
    use_index(package_index.url)
    for package in package_index.root.glob("*.argosmodel"):
        package.unlink()  # the index lists it; the link answers 404
    code, _, err = run(capsys, "models", "install", "ru", "en")
    assert code == 3
    assert "cannot download translate-ru_en" in err and package_index.url in err
