import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("modelgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs):
    """Before and after each task on a worker, as before and after each web request:
    close this thread's database connection if it is broken or past CONN_MAX_AGE, so a
    kept connection (CELERY_DB_REUSE_MAX) is never a dead one. Not for a task run
    in-process (no broker): it runs inside the caller's request."""
    if task is None or getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
