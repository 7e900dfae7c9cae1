#!/usr/bin/env python3
"""Runs wasm-pack with the settings in wasm-pack.toml.

    scripts/wasm.py test     # wasm-pack test in the configured headless browser
    scripts/wasm.py build    # release npm package into [build].out-dir

wasm-pack reads only Cargo.toml, so this is what gives wasm-pack.toml its meaning. It always
passes --mode no-install: the toolchain comes from scripts/setup.sh, never from a download.
"""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {"build": {"target", "out-dir", "opt-level"}, "test": {"browser", "headless", "driver"}}


def load_config():
    with open(ROOT / "wasm-pack.toml", "rb") as f:
        config = tomllib.load(f)
    for section, keys in config.items():
        unknown = set(keys) - KNOWN.get(section, set())
        if section not in KNOWN or unknown:
            sys.exit(f"wasm-pack.toml: unknown {'section ' + section if section not in KNOWN else 'keys ' + ', '.join(sorted(unknown))}")
    return config


def run(args, env=None):
    print("+", " ".join(args), flush=True)
    return subprocess.call(args, cwd=ROOT, env=env)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("test", "build"):
        sys.exit(__doc__)
    config = load_config()
    env = dict(os.environ)
    extra = sys.argv[2:]
    if sys.argv[1] == "test":
        test = config.get("test", {})
        browser = test.get("browser", "chrome")
        args = ["wasm-pack", "test", "--mode", "no-install", f"--{browser}"]
        if test.get("headless", True):
            args.append("--headless")
        if "driver" in test:
            env["CHROMEDRIVER" if browser == "chrome" else "GECKODRIVER"] = test["driver"]
        return run(args + extra, env)
    build = config.get("build", {})
    if "opt-level" in build:
        env["CARGO_PROFILE_RELEASE_OPT_LEVEL"] = str(build["opt-level"])
    args = ["wasm-pack", "build", "--release", "--mode", "no-install",
            "--target", build.get("target", "web"), "--out-dir", str(ROOT / build.get("out-dir", "pkg"))]
    return run(args + extra, env)


if __name__ == "__main__":
    sys.exit(main())
