"""The published site in a real headless Chromium: every page loads without console errors, its
images load, tables sort, and a screenshot is not an empty page."""

import io
import json
import shutil

import pytest

from arenas.leaderboards import ingest_run
from arenas.leaderboards.results import ingest_into_memory
from arenas.leaderboards.site import publish
from tests.leaderboards.scored_arena import play

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    play(root / "runs" / "oracle")
    play(root / "runs" / "random", "random")
    play(root / "runs" / "crash", arena="lb-guess-crash")
    db = ingest_into_memory([root / "runs"])
    ingest_run(db, root / "runs" / "random")  # re-ingesting keeps one entry
    train = root / "train" / "grpo-run"
    train.mkdir(parents=True)
    (train / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "reward_mean": 0.1 * s, "dead_group_share": 0.5, "eval/reward_mean": 0.1 * s,
                    "eval/reward_std": 0.2, "eval/episodes": 8}) + "\n" for s in range(5)))
    pages = publish(db, root / "site", train_runs=[root / "train"])
    return root / "site", pages


def test_site_files(site):
    out, pages = site
    names = {p.name for p in pages}
    assert {"index.html", "entry-1.html", "board-core-v1-lb-guess-test.html", "training.html"} <= names
    index = (out / "index.html").read_text()
    assert "http://" not in index and "https://" not in index  # works from disk, no CDN
    assert index.count("<table") == 2 and "core-v1" in index and "other runs" in index
    entry = next(p for p in pages if "errors" in p.read_text() and "boom" in p.read_text())
    assert "RuntimeError: boom" in entry.read_text()
    assert (out / "plots" / "board-core-v1-lb-guess-test-scores.svg").stat().st_size > 1000


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_site_in_headless_chromium(site):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    out, pages = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        for path in pages:
            page.goto(path.as_uri())
            broken = page.eval_on_selector_all("img", "imgs => imgs.filter(i => !i.complete || !i.naturalWidth)"
                                                      ".map(i => i.src)")
            assert not broken, (path.name, broken)
            assert page.locator("h1").inner_text()
        assert not problems
        page.goto((out / "board-core-v1-lb-guess-test.html").as_uri())
        agents = "table.sortable >> nth=0 >> tbody tr td:nth-child(2)"
        assert page.locator(agents).all_inner_texts() == ["oracle", "random"]
        page.locator("table.sortable >> nth=0 >> th", has_text="score").click()
        assert page.locator(agents).all_inner_texts() == ["random", "oracle"]  # ascending
        page.locator("table.sortable >> nth=0 >> th", has_text="score").click()
        assert page.locator(agents).all_inner_texts() == ["oracle", "random"]
        page.goto((out / "index.html").as_uri())
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
        browser.close()
    histogram = shot.histogram()
    assert sum(histogram[:200]) > 0.01 * sum(histogram)  # text, tables and a plot: not a blank page
