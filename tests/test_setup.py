"""The install must stay CPU-only and the conda and pip pins must agree."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_matches_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env_lines = [ln.strip().lstrip("- ").strip()
                 for ln in (ROOT / "environment.yml").read_text().splitlines()]
    env = _pins(env_lines)
    assert req == env


def test_torch_and_torchvision_pinned_together():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert req["torch"] == "2.13.0" and req["torchvision"] == "0.28.0"
    assert not any(name.startswith(("nvidia", "triton")) for name in req)


def test_ci_calls_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme


def test_book_config_is_shared_with_the_top_level():
    for name in ("_config.yml", "_toc.yml"):
        link = ROOT / "book" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve()
