"""The book builds with zero warnings from the executed notebooks, and renders in a real browser:
math typeset offline, every image loaded, every internal link resolving."""
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "book" / "_build" / "screenshots"


@pytest.fixture(scope="module")
def built_book(request, tmp_path_factory):
    """A copy of book/ with the smoke-executed notebooks, built with -W -n --keep-going; or, with
    ``SJKO_BOOK_HTML=book/_build/html``, an existing build (e.g. the one ``make book`` made)."""
    existing = os.environ.get("SJKO_BOOK_HTML")
    if existing:
        return subprocess.CompletedProcess([], 0, "build succeeded", ""), Path(existing).resolve()
    smoke_notebooks = request.getfixturevalue("smoke_notebooks")
    base = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, base / name)
    shutil.copytree(ROOT / "book", base / "book", symlinks=True,
                    ignore=shutil.ignore_patterns("_build", "results"))
    shutil.copytree(smoke_notebooks["executed"], base / "book" / "results")
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", "book/", "-W", "-n", "--keep-going"], cwd=base,
                          capture_output=True, text=True,
                          env={**os.environ, "SJKO_RESULTS": str(smoke_notebooks["results"])})
    return proc, base / "book" / "_build" / "html"


def test_book_builds_without_warnings(built_book):
    proc, html = built_book
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "warning" not in proc.stdout.lower().split("build succeeded")[-1]
    for page in ("index", "theory/semidual", "results/toy", "results/ou_benchmark", "findings",
                 "results/reproducibility", "api"):
        assert (html / f"{page}.html").is_file(), page


def test_every_internal_link_resolves(built_book):
    from bs4 import BeautifulSoup

    _, html = built_book
    ids: dict[Path, set] = {}
    broken = []
    pages = sorted(html.rglob("*.html"))
    for page in pages:
        soup = BeautifulSoup(page.read_text(errors="replace"), "html.parser")
        ids[page.resolve()] = {t["id"] for t in soup.find_all(id=True)}
    for page in pages:
        soup = BeautifulSoup(page.read_text(errors="replace"), "html.parser")
        for a in soup.find_all("a", href=True):
            url = urlparse(a["href"])
            if url.scheme or a["href"].startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((page.name, a["href"]))
            elif url.fragment and target.suffix == ".html" and url.fragment not in ids.get(target, set()):
                broken.append((page.name, a["href"]))
    assert broken == []


def _driver():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("Chromium/ChromeDriver not installed (Debian packages chromium and "
                    "chromium-driver; scripts/ensure-chromium installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,900"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


PAGES = ["index", "findings", "theory/background", "theory/jko_uot", "theory/semidual",
         "theory/reparametrisation", "theory/divergences", "theory/departures", "results/toy",
         "results/ablation_k_h", "results/ablation_divergence", "results/complexity",
         "results/ou_benchmark", "results/ou_remedies", "results/images",
         "results/images_inception", "results/reproducibility", "api",
         "references"]
ANIMATED = {"results/toy", "results/images"}

CHECKS = """
const main = document.querySelector('main') || document.body;
const box = main.getBoundingClientRect();
const displays = Array.from(document.querySelectorAll('mjx-container[display="true"]'));
const tooWide = displays.filter(m => {
  const r = m.getBoundingClientRect();
  const inner = m.firstElementChild ? m.firstElementChild.getBoundingClientRect() : r;
  return inner.width > r.width + 1 || inner.left < box.left - 1 || inner.right > box.right + 1;
}).map(m => m.textContent.slice(0, 60));
const inputs = Array.from(document.querySelectorAll('.cell_input'));
const openInputs = inputs.filter(i => {
  const d = i.closest('details');
  return !(d && !d.open) && i.offsetParent !== null;
}).length;
const tables = Array.from(main.querySelectorAll('table')).filter(t => {
  const r = t.getBoundingClientRect();
  let clip = t.parentElement;
  while (clip && getComputedStyle(clip).overflowX === 'visible') clip = clip.parentElement;
  const c = clip ? clip.getBoundingClientRect() : box;
  return r.width > 0 && Math.min(c.right, box.right) + 1 < r.right && clip === null;
}).length;
return {math: document.querySelectorAll('mjx-container').length, tooWide: tooWide,
        openInputs: openInputs, inputs: inputs.length,
        stderr: document.querySelectorAll('.output.stderr, .stderr').length,
        text: main.innerText,
        tables: tables,
        frames: Array.from(document.querySelectorAll('img.sjko-animation')).map(
          i => parseInt(i.dataset.frames || '0')),
        images: Array.from(document.images).map(i => [i.src.slice(0, 80), i.naturalWidth])};
"""


@pytest.mark.parametrize("page", PAGES)
def test_page_in_chromium(built_book, page):
    """Every page in headless Chromium at 1280 px: math typeset offline and every display
    equation inside its box; images loaded; on results pages code inputs collapsed, no stderr or
    warning text, tables within the page, and animations with more than one frame."""
    from selenium.webdriver.support.ui import WebDriverWait

    _, html = built_book
    browser = _driver()
    try:
        browser.get((html / f"{page}.html").as_uri())
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(
            "return document.readyState === 'complete' && "
            "(!window.MathJax || !MathJax.startup || !MathJax.startup.promise ? true : "
            "document.querySelectorAll('mjx-container').length > 0 || "
            "!document.querySelector('.math'))"))
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(
            "return Array.from(document.images).every(i => i.complete)"))
        got = browser.execute_script(CHECKS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '_')}.png"))
    finally:
        browser.quit()
    text = got["text"]
    assert "$$" not in text and "\\(" not in text and "\\[" not in text, "raw TeX on the page"
    assert got["tooWide"] == [], f"display equations wider than the column: {got['tooWide']}"
    assert all(width > 0 for _, width in got["images"]), got["images"]
    if page.startswith("theory/") and page != "theory/departures":
        assert got["math"] > 0, "MathJax produced no output"
    if page.startswith("results/"):
        assert got["openInputs"] == 0, f"{got['openInputs']} of {got['inputs']} code inputs open"
        assert got["stderr"] == 0 and "Warning" not in text, "warnings or stderr on the page"
        assert got["tables"] == 0, "a table runs past the page"
        if page != "results/reproducibility":
            assert len(got["images"]) > 0, "a results page without figures"
    if page in ANIMATED:
        assert got["frames"] and all(n > 1 for n in got["frames"]), got["frames"]


def test_plain_build_of_the_committed_book(tmp_path):
    """What a fresh clone gets from `jupyter-book build book/`: the committed executed notebooks
    and result records, no kernel, no training, zero warnings under -W -n --keep-going."""
    if not list((ROOT / "book" / "results").glob("*.ipynb")):
        pytest.skip("no executed notebooks committed under book/results")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book", symlinks=True,
                    ignore=shutil.ignore_patterns("_build"))
    jb = Path(sys.executable).parent / "jupyter-book"
    env = {**os.environ, "SJKO_RESULTS": str(ROOT / "results")}
    proc = subprocess.run([str(jb), "build", "book/", "-W", "-n", "--keep-going"], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html = tmp_path / "book" / "_build" / "html"
    assert (html / "results" / "ou_benchmark.html").is_file()
    assert list((html / "_results").glob("*/*/record.json")), "raw run records not published"
