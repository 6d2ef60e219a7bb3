"""An installation without its migrations or translations refuses to start, saying what is missing.

The wheel itself is built, installed in a fresh venv and served by scripts/check-wheel (run by scripts/test);
these tests cover where the app looks for the two folders and what it says when they are not there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import advocacy
from advocacy import DeploymentError, create_app, data_dirs
from tests.conftest import settings_for_tests

CHECKOUT = Path(__file__).resolve().parent.parent


def fake_checkout(root: Path, *, migrations: bool = True, translations: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'advocacy'\n")
    if migrations:
        shutil.copytree(CHECKOUT / "migrations", root / "migrations")
    if translations:
        shutil.copytree(CHECKOUT / "translations", root / "translations")
    return root


def fake_installed_package(site_packages: Path, *, migrations: bool = True, translations: bool = True) -> Path:
    package = site_packages / "advocacy"
    package.mkdir(parents=True)
    if migrations:
        shutil.copytree(CHECKOUT / "migrations", package / "_migrations")
    if translations:
        shutil.copytree(CHECKOUT / "translations", package / "_translations")
    return package


def test_a_checkout_uses_its_own_folders():
    found = data_dirs()
    assert found == {"migrations": CHECKOUT / "migrations", "translations": CHECKOUT / "translations"}


def test_an_installed_package_uses_the_folders_it_carries(tmp_path):
    site = tmp_path / "site-packages"
    package = fake_installed_package(site)
    # a stray top-level migrations/ of some other distribution in site-packages is not ours
    (site / "migrations" / "versions").mkdir(parents=True)
    (site / "migrations" / "env.py").write_text("")
    found = data_dirs(package_dir=package, project_root=site)
    assert found == {"migrations": package / "_migrations", "translations": package / "_translations"}


@pytest.mark.parametrize("missing", ["migrations", "translations"])
def test_an_installed_package_without_a_folder_refuses_to_start(tmp_path, missing):
    site = tmp_path / "site-packages"
    package = fake_installed_package(site, **{missing: False})
    with pytest.raises(DeploymentError, match=f"the {missing} folder is missing") as caught:
        data_dirs(package_dir=package, project_root=site)
    assert str(package / f"_{missing}") in str(caught.value)


def test_uncompiled_translations_are_missing_translations(tmp_path):
    root = fake_checkout(tmp_path / "checkout")
    (root / "translations" / "uk" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(DeploymentError, match=r"translations folder is missing or incomplete.*pybabel compile"):
        data_dirs(package_dir=root / "advocacy", project_root=root)


@pytest.mark.parametrize("missing", ["migrations", "translations"])
def test_create_app_refuses_to_start_without_a_folder(tmp_path, monkeypatch, missing):
    root = fake_checkout(tmp_path / "checkout", **{missing: False})
    monkeypatch.setattr(advocacy, "PROJECT_ROOT", root)
    monkeypatch.setattr(advocacy, "PACKAGE_DIR", root / "advocacy")
    with pytest.raises(DeploymentError, match=f"advocacy cannot start: the {missing} folder is missing"):
        create_app({"TESTING": True}, settings=settings_for_tests(tmp_path))


@pytest.mark.parametrize("missing", ["migrations", "translations"])
def test_the_command_says_what_is_missing_without_a_traceback(tmp_path, missing):
    """What an operator sees from `advocacy db upgrade` on a broken installation."""
    root = fake_checkout(tmp_path / "checkout", **{missing: False})
    script = (
        "import sys, pathlib, advocacy\n"
        f"advocacy.PROJECT_ROOT = pathlib.Path({str(root)!r})\n"
        "advocacy.PACKAGE_DIR = advocacy.PROJECT_ROOT / 'advocacy'\n"
        "from advocacy.cli import main\n"
        "sys.argv = ['advocacy', 'db', 'upgrade']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"ADVOCACY_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert f"advocacy cannot start: the {missing} folder is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "instance" / "advocacy.sqlite3").exists()
