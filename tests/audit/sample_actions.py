"""A sample app's declared actions, for tests of the audit log itself: audit records,
chains, shows and exports whatever an app declares (audit.actions), whatever it is."""

from django.db import models

from audit.actions import STAGE_FIELDS, EventShape, register


class SampleAction(models.TextChoices):
    NOTED = "sample.note.recorded", "Note recorded"
    MEASURED = "sample.values.measured", "Values measured"
    TRANSITION_APPLIED = "sample.transition.applied", "Sample transition applied"


# Values that are awkward to hash the same before and after the database.
AWKWARD_KEYS = ("big", "huge", "small", "whole", "price", "when", "nan", "text", "nested")

register(
    SampleAction,
    {
        SampleAction.NOTED: EventShape(changes=("n",), fields=("reason",)),
        SampleAction.MEASURED: EventShape(changes=AWKWARD_KEYS, fields=("reason",)),
        SampleAction.TRANSITION_APPLIED: EventShape(
            fields=STAGE_FIELDS, changes=("requested_by", "approved_by", "gate_results")
        ),
    },
)
