from django.dispatch import Signal

# Sent by ReferenceVersion.bump() in the process that changed the reference data (the admin, the loader,
# the re-check list): caches in that process can drop what they hold at once.
reference_changed = Signal()
