"""Plan page budgets: every plan a learner can reach, read in Chromium at 1280x900 as a person would.

For every ordered pair of countries (inpatient, and outpatient where its plan differs), every new-to-coding
route (the same) and every same-country plan:
- visible words in <main> (text in closed <details> and visually hidden text left out): at most 450;
- no sentence (four words or more) said twice on the page (the answer's "first step", a link to step 1 that
  names it, is the one deliberate exception);
- difficulty, expected time and the first step inside the first screen (900 px).

`profiles()` lists the plan URLs from the reference data; `measure(page, url)` reads one page. audit/run.py
prints the worst page for each budget; tests/browser/test_plan_budgets.py asserts them. Alone, against a
running server: `python audit/plan_budgets.py http://127.0.0.1:8000` (it reads the same database).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

VIEWPORT = {"width": 1280, "height": 900}
MAX_WORDS = 450
FIRST_SCREEN = 900
SENTENCE_MIN_WORDS = 4

# Visible text nodes of <main>, each with its block ancestor, and where the answer's three facts end.
_READ_PAGE = """() => {
  const main = document.querySelector('main');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const blocks = new Map();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest('.visually-hidden, title, desc, script, style')) continue;
    if (!parent.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) continue;
    const block = parent.closest('p, li, h1, h2, h3, dt, dd, td, th, summary, figure, a.btn, span.caption') || parent;
    blocks.set(block, (blocks.get(block) || '') + ' ' + node.textContent);
  }
  // The answer's first step is a link to step 1: it names that step again by design.
  const pointer = main.querySelector('[data-answer="first-step"]');
  const facts = {};
  for (const dd of main.querySelectorAll('[data-answer]')) {
    facts[dd.dataset.answer] = dd.getBoundingClientRect().bottom + window.scrollY;
  }
  return {
    blocks: [...blocks.values()],
    said: [...blocks.entries()].filter(([block]) => block !== pointer).map(([, text]) => text),
    facts,
  };
}"""


def profiles(reference, build) -> list[tuple[str, str]]:
    """(label, plan URL) for every reachable plan. `build(origin, setting, destination)` gives a comparable
    form of a plan, so an outpatient plan is listed only where it differs from the inpatient one."""
    countries = sorted(reference.countries)
    urls = []
    for origin in [*countries, None]:
        for destination in countries:
            if origin != destination and reference.route(origin, destination) is None:
                continue
            settings = ["inpatient"]
            if build(origin, "outpatient", destination) != build(origin, "inpatient", destination):
                settings.append("outpatient")
            for setting in settings:
                label = f"{origin or 'new'}->{destination} {setting}"
                urls.append((label, f"/plan/?origin={origin or 'none'}&setting={setting}&destination={destination}"))
    return urls


def sentences(blocks: list[str]) -> list[str]:
    found = []
    for block in blocks:
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(block.split())):
            if len(sentence.split()) >= SENTENCE_MIN_WORDS:
                found.append(sentence.strip().lower())
    return found


def measure(page, url: str) -> dict:
    page.goto(url)
    data = page.evaluate(_READ_PAGE)
    text = " ".join(data["blocks"])
    said = sentences(data["said"])
    repeated = sorted({s for s in said if said.count(s) > 1})
    facts = data["facts"]
    lowest = max(facts.values()) if len(facts) == 3 else float("inf")
    return {
        "url": url,
        "words": len(text.split()),
        "repeated": repeated,
        "answer_bottom": round(lowest),
        "missing_facts": sorted({"difficulty", "time", "first-step"} - set(facts)),
    }


def check(results: list[dict]) -> list[list]:
    """One row per budget: the worst page, its figure, the target and PASS or FAIL."""
    worst_words = max(results, key=lambda r: r["words"])
    worst_repeat = max(results, key=lambda r: len(r["repeated"]))
    worst_screen = max(results, key=lambda r: r["answer_bottom"])
    return [
        [
            "visible words in main",
            worst_words["label"],
            worst_words["words"],
            f"<= {MAX_WORDS}",
            "PASS" if worst_words["words"] <= MAX_WORDS else "FAIL",
        ],
        [
            "sentences said twice",
            worst_repeat["label"],
            len(worst_repeat["repeated"]),
            "0",
            "PASS" if not worst_repeat["repeated"] else "FAIL: " + worst_repeat["repeated"][0][:60],
        ],
        [
            "difficulty, time, first step end at (px)",
            worst_screen["label"],
            worst_screen["answer_bottom"],
            f"<= {FIRST_SCREEN}",
            "PASS" if worst_screen["answer_bottom"] <= FIRST_SCREEN else "FAIL",
        ],
    ]


HEADER = ["budget", "worst page", "figure", "target", "result"]


def run(base: str, chromium: str, args: list[str]) -> list[list]:
    """Measure every profile against a server at `base`; returns the rows of `check`."""
    from playwright.sync_api import sync_playwright

    from pathways.presenter import plan_json
    from pathways.reference import load_reference
    from pathways.rules import LearnerProfile, build_plan

    reference = load_reference()

    def build(origin, setting, destination):
        plan = build_plan(LearnerProfile(origin, frozenset(), setting, None, destination), reference)
        data = plan_json(plan, reference)
        return [data[k] for k in ("steps", "classifications", "warnings", "notes", "credentials")]

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport=VIEWPORT)
        for label, url in profiles(reference, build):
            results.append({"label": label, **measure(page, base + url)})
        browser.close()
    print(f"   {len(results)} plan pages measured", flush=True)
    return check(results)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    django.setup()
    from bench.common import text_table

    rows = run(sys.argv[1], os.environ.get("CHROME_PATH", "/usr/bin/chromium"), ["--no-sandbox", "--disable-gpu"])
    print(text_table(HEADER, rows))
    sys.exit(1 if any(r[-1] != "PASS" for r in rows) else 0)
