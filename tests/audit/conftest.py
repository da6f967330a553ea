import pytest
from django.contrib.auth.models import Group, Permission

from audit.services import EXPORT_PERMISSION


@pytest.fixture
def auditors_group(db):
    """The group made by audit migration 0003 (re-made here: a transactional test's
    flush empties it along with every other table)."""
    group, _ = Group.objects.get_or_create(name="Auditors")
    app_label, codename = EXPORT_PERMISSION.split(".")
    group.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    return group


@pytest.fixture
def auditor(django_user_model, auditors_group, password):
    """Audit and risk staff: in the Auditors group, in no team."""
    user = django_user_model.objects.create_user("erin", "erin@example.com", password)
    user.groups.add(auditors_group)
    return user
