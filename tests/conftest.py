"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

from hls_sim.toolchain import find_ap_types, have_toolchain


def _in_ci() -> bool:
    """True when $CI is set to anything but an empty/false-like value (CI=true on CI services)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


@pytest.fixture(scope="session")
def toolchain():
    """g++ and the real ap_types headers; yields the headers' directory.

    Skips (with the reason) where they are missing -- but on CI ($CI set) a missing toolchain
    is a failure, never a silent skip.
    """
    reason = have_toolchain()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"toolchain missing on CI (CI={os.environ.get('CI')!r}): {reason}", pytrace=False)
        pytest.skip(f"toolchain missing: {reason}")
    return find_ap_types()
