"""The reference-data version moves by itself: one bump per transaction that writes reference data.

Every save, delete and many-to-many change of a reference-data row, whatever makes it (the admin, a history
revert, load_reference_data, `obj.save()` in `manage.py shell`, a data migration's historical models), runs
`bump_version()` through the receivers below. The first write of a transaction bumps the version row inside
that transaction, so data and version commit (or roll back) together, and a reader that finds the version
unchanged around its reads has seen no commit. Once the transaction commits, `reference_changed` is sent in
this process. Later writes in the same transaction find that announcement waiting and leave the version alone.
Outside any atomic block (autocommit) each write is its own transaction, committed before its signal: the bump
follows it at once, and a reader caught in between only builds its Reference once more than it needed to.

Reference data is every model of the pathways app but ReferenceVersion and simple-history's history rows (a
history row is written with its row, whose bump covers it). Writes that send no signal do not bump:
`queryset.update()`, `bulk_create()`, raw SQL; call ReferenceVersion.bump() after those.
"""

from django.db import connections
from django.db.models.signals import class_prepared, m2m_changed, post_delete, post_save
from django.dispatch import Signal
from django.utils import timezone

# Sent once the transaction that changed reference data has committed, in the process that changed it: caches
# in that process can drop what they hold at once (other processes see the version row move).
reference_changed = Signal()

# Plain SQL on the table, not the ReferenceVersion model: a data migration's historical models bump it too.
VERSION_TABLE = "pathways_referenceversion"


def is_reference_data(model) -> bool:
    name = model._meta.model_name
    return model._meta.app_label == "pathways" and name != "referenceversion" and not name.startswith("historical")


def bump_version(connection, sender) -> None:
    """Add one to the version row (a missing row counts as version 1), inside the current transaction if any,
    and send reference_changed when it commits: once per transaction, however often this runs in it."""
    table = connection.ops.quote_name(VERSION_TABLE)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        # One statement, so two writers bumping at once both count.
        cursor.execute(
            f"INSERT INTO {table} (id, version, changed_at) VALUES (1, 2, %s) "
            f"ON CONFLICT (id) DO UPDATE SET version = {table}.version + 1, changed_at = excluded.changed_at",
            [now],
        )
    if _announcement_pending(connection):
        return
    announcement = _Announcement(sender, _transaction(connection))
    if announcement.transaction is None:
        announcement()  # autocommit: the write is committed already
    else:
        connection.on_commit(announcement)


class _Announcement:
    """The on_commit callback that sends reference_changed, marked with the transaction it waits for."""

    def __init__(self, sender, transaction):
        self.sender = sender
        self.transaction = transaction

    def __call__(self):
        reference_changed.send(sender=self.sender)


def _transaction(connection):
    """What stands for the current transaction: its outermost atomic block (with its savepoint id); None in
    autocommit.

    A test case's own blocks are looked through, as Django's durable check does: inside a test's rolled-back
    transaction, each admin request or atomic block is the transaction it would be in production.
    """
    blocks, sids = connection.atomic_blocks, connection.savepoint_ids
    offset = len(blocks) - len(sids)  # the outermost block, when it began the transaction, has no savepoint id
    for index, block in enumerate(blocks):
        if not getattr(block, "_from_testcase", False):
            return block, (sids[index - offset] if index >= offset else None)
    return None


def _announcement_pending(connection) -> bool:
    # Django drops the callbacks of a transaction that rolls back, and those registered inside a savepoint
    # rolled back to: then the version row's bump went too, and the next write bumps again.
    transaction = _transaction(connection)
    return transaction is not None and any(
        isinstance(func, _Announcement) and func.transaction == transaction for _, func, _ in connection.run_on_commit
    )


def _written(sender, using, action="post_", **kwargs):
    """post_save, post_delete and m2m_changed (which is also sent before the change: pre_add and so on)."""
    if action.startswith("post_"):
        connection = connections[using]
        if not _announcement_pending(connection):
            bump_version(connection, sender)


def _watch(sender, **kwargs):
    # Per model class rather than for every sender: a post_delete receiver for every sender would stop Django's
    # fast deletes in every app. class_prepared also fires for the historical models a migration builds.
    # (m2m_changed's sender is the many-to-many table, an auto-created model of the app.)
    if is_reference_data(sender):
        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(_written, sender=sender)


# pathways.models imports this module before defining its models, so every one of them is watched.
class_prepared.connect(_watch)
