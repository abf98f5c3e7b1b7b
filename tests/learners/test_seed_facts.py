"""Seed facts a learner reads outside a plan, each said once, on the page a learner meets it, credited to the
source article (domain.md S8, S10, S24). The article's only address we hold is its publisher's site."""

import re

import pytest

pytestmark = pytest.mark.django_db

# S8: what coders do and what the codes are for.
WHAT_CODERS_DO = (
    "Once a patient leaves hospital, coders read their record and turn the care into standard codes. "
    "Those codes fund the hospital, feed national statistics and support clinical research."
)
# S10: skills overlap, qualifications do not cross borders by themselves.
QUALIFICATIONS_DO_NOT_TRANSFER = (
    "Coding skills overlap between countries, but qualifications do not transfer automatically."
)
# S24: the ICD-10 family is the common thread; procedures vary more.
DIAGNOSES_SHARE_ICD_10 = (
    "Diagnosis classifications all come from the World Health Organization's ICD-10 family, but procedure "
    "classifications vary more because they are tied to how each country runs and pays for health care."
)
# domain.md gives no address for the article itself: the link is to its publisher's site, and the title says so.
SEED_ENTRY = (
    'Source article: TalentMed, <a href="https://talentmed.edu.au/" rel="noopener">Clinical Coding vs Medical '
    "Coding: What&#x27;s the Difference? (article on TalentMed&#x27;s website)</a>."
)


def _source_cited_after(html: str, sentence: str) -> str:
    """The entry in the page's sources that the [n] link right after `sentence` points at."""
    assert html.count(sentence) == 1, f"said once: {sentence!r}"
    after = html[html.index(sentence) + len(sentence) :]
    cite = re.match(r'\s*<a class="cite" href="#source-(\d+)">', after)
    assert cite, f"no citation right after {sentence!r}"
    entry = re.search(rf'<li id="source-{cite[1]}">(.*?)</li>', html, re.S)
    assert entry, f"the page lists no source {cite[1]}"
    return entry[1].strip()


@pytest.mark.parametrize(
    "url, sentence",
    [("/", WHAT_CODERS_DO), ("/", QUALIFICATIONS_DO_NOT_TRANSFER), ("/compare/", DIAGNOSES_SHARE_ICD_10)],
    ids=["S8 start", "S10 start", "S24 compare"],
)
def test_a_seed_fact_is_said_where_a_learner_meets_it_and_credits_the_source_article(client, url, sentence):
    html = client.get(url).content.decode()
    assert _source_cited_after(html, sentence) == SEED_ENTRY


def test_each_seed_fact_is_said_on_one_page_only(client):
    start = client.get("/").content.decode()
    compare = client.get("/compare/").content.decode()
    assert WHAT_CODERS_DO not in compare and QUALIFICATIONS_DO_NOT_TRANSFER not in compare
    assert DIAGNOSES_SHARE_ICD_10 not in start


def test_the_start_page_with_unfinished_answers_still_credits_its_facts(client):
    client.post("/questions/origin/", {"origin": "AU"})
    html = client.get("/").content.decode()
    assert "Continue where you left off" in html
    assert _source_cited_after(html, QUALIFICATIONS_DO_NOT_TRANSFER) == SEED_ENTRY
