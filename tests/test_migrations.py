"""A database made by main before the advisor/ re-layout upgrades without losing anything, queued emails included.

From the migration state main had then (every app's latest migration, advisor's as before 0005), one row of every
kind is written with that state's historical models: an enquiry, its history, a note, the advisers' email and a
reply, a reply template, a funnel count, a rate-limit bucket, the email tasks (one queued, two failed) under the
old module path. Migrating to the latest state keeps every row as it was and every group's permissions, and points
the task rows at advisor.enquiries.emails, where a worker finds the task; migrating back restores the old paths.
"""

import uuid
from datetime import UTC, date, datetime
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string

RELAYOUT = ("advisor", "0005_task_paths_after_relayout")
OLD, NEW = "advisor.notifications.", "advisor.enquiries.emails."
TASKS = "django_tasks_database.DBTaskResult"
# The data migrations that make the roles. They are run again (they are idempotent): a transactional test that ran
# before this one has emptied every table, groups included.
ROLE_MIGRATIONS = [
    ("pathways.migrations.0002_groups", "create_groups"),
    ("advisor.migrations.0002_roles", "create_roles"),
    ("advisor.migrations.0003_dashboard_funnel_replies", "grant"),
]


def migrate(targets):
    """Migrate the test database to `targets`; returns the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def leaves():
    """(before, latest): the migration leaves before the re-layout's migration, and now. Ends at the latest."""
    graph = MigrationExecutor(connection).loader.graph
    latest = graph.leaf_nodes()
    before = [node for node in latest if node[0] != "advisor"]
    before += [parent for parent in graph.node_map[RELAYOUT].parents if parent[0] == "advisor"]
    yield before, latest
    migrate(latest)  # teardown, whether the test passed or not: the rest of the suite runs on the latest state


def write_rows(apps):
    """A row of every kind, with the historical models of `apps`, as main's code before the re-layout writes it."""
    for module, function in ROLE_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)
    model = apps.get_model
    now = timezone.now()
    adviser = model("auth", "User").objects.create(username="ada", email="ada@example.org", is_staff=True)
    adviser.groups.add(model("auth", "Group").objects.get(name="Course advisers"))
    enquiry = model("advisor", "Enquiry").objects.create(
        reference="E-ABC234", submission_id=uuid.uuid4(), created_at=now, name="Ana Learner", email="ana@example.org",
        phone="+61412345678", preferred_contact="phone", best_time="Mornings", message="Can I start in May?",
        info_pack="CCS", plan_params={"origin": "AU", "destination": "GB", "years": 3},
        plan_snapshot={"steps": [{"title": "Bridging course", "weeks": 6}]}, reference_version="v42",
        origin_code="AU", destination_code="GB", notice_version="2025-01", contact_consent_at=now,
        marketing_opt_in=True, marketing_consent_at=now, ip_hash="f" * 64, status="contacted",
        assigned_to=adviser, contacted_at=now,
    )  # fmt: skip
    history = {f.attname: getattr(enquiry, f.attname) for f in enquiry._meta.concrete_fields if f.name != "ip_hash"}
    model("advisor", "HistoricalEnquiry").objects.create(
        **history, history_date=now, history_type="+", history_user=adviser
    )
    note = model("advisor", "EnquiryNote").objects.create(enquiry=enquiry, author=adviser, text="Called her back.")
    model("advisor", "ReplyTemplate").objects.create(name="To the UK", destination_code="GB", subject="Hi", body="x")
    model("advisor", "FunnelCount").objects.create(day=date(2025, 3, 3), step="plan", origin="AU", destination="GB")
    model("advisor", "RateLimitBucket").objects.create(key="enquiry:1f2e", window=1_740_000_000, hits=3)

    def task(status, exception="", path=OLD + "send_email", **fields):
        return model(*TASKS.split(".")).objects.create(
            status=status, task_path=path, args_kwargs={"args": [1], "kwargs": {}},
            backend_name="default", run_after=datetime(9999, 1, 1, tzinfo=UTC), exception_class_path=exception,
            traceback=f"Traceback ...\n{exception}: SMTPServerDisconnected\n" if exception else "", **fields,
        )  # fmt: skip

    queued = task("READY")
    task("FAILED", OLD + "DeliveryFailed", started_at=now, finished_at=now, worker_ids=["w1"])
    task("FAILED", OLD + "WorkerLost", started_at=now, finished_at=now, worker_ids=["w2"])
    task("SUCCESSFUL", path="pathways.tasks.elsewhere", return_value="sent")  # not ours: left alone
    emails = model("advisor", "EmailDelivery").objects
    emails.create(enquiry=enquiry, task_id=queued.id, attempts=1, last_error="SMTPServerDisconnected")
    emails.create(enquiry=enquiry, reply=note, task_id=uuid.uuid4(), attempts=1, sent_at=now)


def snapshot(apps):
    """Every advisor row, every task row and user, field by field, and who has which permission."""
    models = [*apps.get_app_config("advisor").get_models(), apps.get_model(TASKS), apps.get_model("auth", "User")]
    rows = {model._meta.label: list(model.objects.order_by("pk").values()) for model in models}
    grants = apps.get_model("auth", "Group").permissions.through.objects
    rows["group permissions"] = set(
        grants.values_list("group__name", "permission__content_type__app_label", "permission__codename")
    )
    members = apps.get_model("auth", "User").groups.through.objects
    rows["group members"] = set(members.values_list("user__username", "group__name"))
    return rows


# Columns that migrations after the re-layout add, with the value the rows written before them get.
ADDED_SINCE = {"advisor.EnquiryNote": {"submission_id": None}}  # 0007: a reply form's id, none for older notes


def with_added_columns(rows):
    return {
        key: [{**row, **ADDED_SINCE[key]} for row in value] if key in ADDED_SINCE else value
        for key, value in rows.items()
    }


def paths(rows):
    return sorted((row["task_path"], row["exception_class_path"]) for row in rows[TASKS])


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_every_row_and_permission_and_moves_the_tasks_to_the_new_module(leaves):
    before, latest = leaves
    old_apps = migrate(before)
    write_rows(old_apps)
    old = snapshot(old_apps)
    assert all(old[model._meta.label] for model in old_apps.get_app_config("advisor").get_models())
    assert {
        ("Course advisers", "advisor", "view_enquiry"),
        ("Privacy officers", "advisor", "correct_enquiry"),
        ("Content editors", "pathways", "change_credential"),
    } <= old["group permissions"]

    new = snapshot(migrate(latest))

    expected = with_added_columns(old)
    assert {key: rows for key, rows in new.items() if key != TASKS} == {k: r for k, r in expected.items() if k != TASKS}
    assert paths(new) == [
        (NEW + "send_email", ""),
        (NEW + "send_email", NEW + "DeliveryFailed"),
        (NEW + "send_email", NEW + "WorkerLost"),
        ("pathways.tasks.elsewhere", ""),
    ]
    moved = [{**row, "task_path": "", "exception_class_path": ""} for row in new[TASKS]]
    assert moved == [{**row, "task_path": "", "exception_class_path": ""} for row in old[TASKS]]


@pytest.mark.django_db(transaction=True)
def test_migrating_back_restores_the_old_paths_and_changes_nothing_else(leaves):
    before, latest = leaves
    old_apps = migrate(before)
    write_rows(old_apps)
    old = snapshot(old_apps)
    migrate(latest)
    assert snapshot(migrate(before)) == old
    assert (OLD + "send_email", OLD + "WorkerLost") in paths(old)


# The migration's new paths must be the ones the code enqueues (Task.module_path) and records for a failure
# (module.qualname): a worker imports them.
def test_the_new_paths_are_those_of_the_relaid_out_code():
    task = import_string(NEW + "send_email")
    assert isinstance(task, Task) and task.module_path == NEW + "send_email"
    for name in ("DeliveryFailed", "WorkerLost"):
        exception = import_string(NEW + name)
        assert issubclass(exception, Exception) and f"{exception.__module__}.{exception.__qualname__}" == NEW + name
