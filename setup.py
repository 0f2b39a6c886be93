"""Packaging hook (the project is declared in pyproject.toml): a wheel carries what the commands need outside
a source checkout, the shipped configs (``lightship/configs/*.yaml``, selectable by name:
``--config digits``) and the built web app (``lightship/web/dist``, for ``lightship web``).

The web app is built with npm first (``npm ci --prefix web && npm run build --prefix web``); building a
wheel without it stops and says so, unless LIGHTSHIP_WHEEL_WITHOUT_WEB=1 asks for a wheel whose ``lightship
web`` then explains how to get the app. Editable installs need neither copy: they find both in the checkout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WEB_DIST = ROOT / "web" / "dist"


class BuildWithAssets(build_py):
    """``build_py`` that also copies configs/ and web/dist into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib) / "lightship"
        configs = package / "configs"
        configs.mkdir(parents=True, exist_ok=True)
        for config in sorted((ROOT / "configs").glob("*.yaml")):
            shutil.copyfile(config, configs / config.name)
        if (WEB_DIST / "index.html").is_file():
            shutil.copytree(WEB_DIST, package / "web" / "dist", dirs_exist_ok=True)
        elif os.environ.get("LIGHTSHIP_WHEEL_WITHOUT_WEB") != "1":
            raise SystemExit(
                f"{WEB_DIST} is not built, so the wheel would lack the web app of `lightship web`: run "
                "`npm ci --prefix web && npm run build --prefix web` first (Node.js 20+), or set "
                "LIGHTSHIP_WHEEL_WITHOUT_WEB=1 to build a wheel without it"
            )


setup(cmdclass={"build_py": BuildWithAssets})
