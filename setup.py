"""A build step only; every piece of metadata is in pyproject.toml.

The Alembic ``migrations/`` and the ``translations/`` catalogs live at the top of the checkout, where
Flask-Migrate and pybabel expect them. A wheel has no "top of the checkout", so building one copies both
folders into the package as ``advocacy/_migrations`` and ``advocacy/_translations``; ``advocacy.data_dirs``
looks there first and in the checkout second. Copying whole trees (rather than listing them as packages
with package-dir mappings) keeps working when a migration or a language is added, and needs no
``__init__.py`` in folders that are not Python packages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# top-level folder -> folder inside the installed package (keep in step with advocacy.DATA_DIRS)
BUNDLED = {"migrations": "_migrations", "translations": "_translations"}


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, which has the folders themselves
        for source, target in BUNDLED.items():
            src = ROOT / source
            if not src.is_dir():
                raise SystemExit(f"cannot build advocacy: {src} is missing")
            dest = Path(self.build_lib) / "advocacy" / target
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        mo_files = list((Path(self.build_lib) / "advocacy" / "_translations").glob("*/LC_MESSAGES/*.mo"))
        if not mo_files:
            raise SystemExit("cannot build advocacy: translations/ holds no compiled .mo catalog")


setup(cmdclass={"build_py": BuildPyWithData})
