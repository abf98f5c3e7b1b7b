"""A content editor changes a gap, previews which plans it changes, saves it with a reason, finds it in the
row's history and reverts it. In Chromium, against the live server."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import expect

from pathways.models import ClassificationGap

pytestmark = pytest.mark.browser


@pytest.fixture
def editor():
    # Transactional tests empty every table between tests, the groups the migrations made included.
    group, _ = Group.objects.get_or_create(name="Content editors")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="pathways"))
    user = User.objects.create_user("edith", "edith@staff.example", "a-long-Password-1", is_staff=True)
    user.groups.add(group)
    return user


def test_an_editor_previews_saves_and_reverts_a_gap(page, live_server, editor):
    gap = ClassificationGap.objects.get_by_natural_key("achi", "opcs-4")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/pathways/classificationgap/{gap.pk}/change/")
    page.get_by_label("Username").fill("edith")
    page.get_by_label("Password").fill("a-long-Password-1")
    page.get_by_role("button", name="Log in").click()

    page.get_by_label("Level").select_option("major")
    page.get_by_role("button", name="Preview changes to plans").click()
    preview = page.locator("#plan-changes")
    expect(preview.get_by_role("heading", name="Plans this change would change")).to_be_visible()
    for move in ("Australia → United Kingdom", "New Zealand → United Kingdom"):
        expect(preview.get_by_role("heading", name=move).first).to_be_visible()
    expect(preview.get_by_text(re.compile(r"Difficulty: \w+")).first).to_be_visible()
    expect(preview.get_by_role("rowheader", name="Steps").first).to_be_visible()
    expect(preview.get_by_text("OPCS-4: New: learn from scratch").first).to_be_visible()
    expect(preview.get_by_text("OPCS-4: Major").first).to_be_visible()
    expect(page.get_by_label("Level")).to_have_value("major")  # the form as typed
    assert ClassificationGap.objects.get(pk=gap.pk).level == "new"

    page.get_by_label("Reason for this change").fill("OPCS-4 shares much with ACHI")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert ClassificationGap.objects.get(pk=gap.pk).level == "major"

    page.goto(f"{live_server.url}/admin/pathways/classificationgap/{gap.pk}/history/")
    row = page.get_by_role("row").filter(has_text="OPCS-4 shares much with ACHI")
    expect(row).to_contain_text("edith")
    # Revert to the version before the edit: the oldest record that still says "new".
    page.get_by_role("link", name=re.compile(r"achi → opcs-4: new")).last.click()
    page.get_by_label("Reason for this change").fill("Back to the seed's level")
    page.get_by_role("button", name="Revert").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert ClassificationGap.objects.get(pk=gap.pk).level == "new"
