"""deploy/Dockerfile builds an image per service (``--build-arg SERVICE=<name>``)
holding the kernel (shared/), every service's contract and that service's own
folder, and nothing of the other services; the service starts from those
files alone.

Docker does not run here, so the test reads the Dockerfile's ARG, WORKDIR and
COPY lines as the builder would (an undeclared variable is empty; a directory
source copies its contents; deploy/Dockerfile.dockerignore leaves files out),
copies exactly those files into a temporary folder and imports the service's
nameko entrypoint module there in a fresh interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from shared.run import SERVICE_CLASSES
from tests.unit.test_deploy_compose import DEPLOY

ROOT = DEPLOY.parent
DOCKERFILE = DEPLOY / "Dockerfile"
IGNORE = DEPLOY / "Dockerfile.dockerignore"
VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction, continuations joined."""
    found, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        found.append((keyword.upper(), rest.strip()))
        pending = ""
    return found


def ignore_patterns() -> list[re.Pattern]:
    patterns = []
    for line in IGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("!"), "exceptions are not read by this test"
        regex = re.escape(line.strip("/"))
        regex = regex.replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        patterns.append(re.compile(regex.replace(r"\*", "[^/]*") + "$"))
    return patterns


def ignored(path: Path, patterns: list[re.Pattern]) -> bool:
    """A file the context leaves out: it, or a folder it is in, matches."""
    parts = path.relative_to(ROOT).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(p.match(prefix) for p in patterns for prefix in prefixes)


def image_files(build_args: dict[str, str]) -> dict[PurePosixPath, Path]:
    """The image's files copied from the context: image path -> repository file."""
    declared: dict[str, str] = {}
    workdir = PurePosixPath("/")
    files: dict[PurePosixPath, Path] = {}
    patterns = ignore_patterns()

    def expand(text: str) -> str:
        return VARIABLE.sub(lambda m: declared.get(m[1] or m[2], ""), text)

    for keyword, rest in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            declared[name] = build_args.get(name, default)
        elif keyword == "WORKDIR":
            workdir = workdir / expand(rest)
        elif keyword == "COPY":
            *sources, dest = expand(rest).split()
            assert not any(s.startswith("--") for s in sources), rest
            target = workdir / dest
            for source in sources:
                matched = sorted(ROOT.glob(source.rstrip("/")))
                assert matched, f"COPY {source}: nothing in the context"
                for path in matched:
                    if path.is_dir():
                        for file in sorted(path.rglob("*")):
                            if file.is_file() and not ignored(file, patterns):
                                files[target / file.relative_to(path).as_posix()] = file
                    elif not ignored(path, patterns):
                        into = dest.endswith("/") or len(matched) > 1 or dest == "."
                        files[target / path.name if into else target] = path
    return files


def app_files(service: str) -> dict[str, Path]:
    """The files under the image's working directory, by path relative to it."""
    found = {}
    for image_path, source in image_files({"SERVICE": service}).items():
        assert image_path.is_relative_to("/app"), image_path
        found[image_path.relative_to("/app").as_posix()] = source
    return found


def repository(folder: str) -> set[str]:
    patterns = ignore_patterns()
    return {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and not ignored(p, patterns)
    }


SERVICES = sorted(SERVICE_CLASSES)


@pytest.mark.parametrize("service", SERVICES)
def test_an_image_holds_the_kernel_the_contracts_and_its_own_service(service):
    files = app_files(service)
    assert {path.split("/")[0] for path in files} == {
        "requirements.txt",
        "shared",
        "services",
    }
    assert {p for p in files if p.startswith("shared/")} == repository("shared")
    contracts = {
        p.relative_to(ROOT).as_posix() for p in ROOT.glob("services/*/contract.py")
    }
    own = repository(f"services/{service}")
    assert {p for p in files if p.startswith("services/")} == (
        {"services/__init__.py"} | contracts | own
    )
    for path, source in files.items():
        assert source == ROOT / path, (path, source)


def test_an_image_without_a_service_named_is_refused():
    """An empty SERVICE would copy every service (``COPY services// ...``);
    the RUN check before that COPY stops the build."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    check = text.index("grep -qxE '[a-z_]+'")
    assert text.index("ARG SERVICE") < check < text.index("COPY services/${SERVICE}/")
    assert "QI_SERVICES=${SERVICE}" in text


PROBE = """
import sys
import shared.run
import services.{service}.service
assert shared.run.load("{service}").__module__ == "services.{service}.service"
here = sys.argv[1]
outside = sorted(
    module.__file__
    for name, module in list(sys.modules.items())
    if name.split(".")[0] in ("services", "shared")
    and getattr(module, "__file__", None)
    and not module.__file__.startswith(here)
)
assert not outside, outside
"""


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_starts_from_its_image_files_alone(service, tmp_path):
    for path, source in app_files(service).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tmp_path / path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(service=service), str(tmp_path.resolve())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
