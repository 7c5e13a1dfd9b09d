"""The moderation queue's filters (GET /api/v1/admin/locations), as a django-filter
FilterSet with config.params' strict rule: a parameter that is sent must be valid, so
an empty `?status=` or an unknown status is a 400 naming it, never the default."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from locations.constants import LocationStatus
from moderation import selectors


class StrictFilterForm(forms.Form):
    """Refuses an empty parameter instead of reading it as absent (config.params)."""

    def clean(self):
        cleaned = super().clean()
        for name in self.fields:
            if name in self.data and all(value == "" for value in self.data.getlist(name)):
                self.add_error(name, forms.ValidationError("This parameter may not be empty."))
        return cleaned


class ModerationQueueFilterSet(filters.FilterSet):
    # The schema as before the FilterSet: the enum and its default.
    status = extend_schema_field(
        {"type": "string", "enum": LocationStatus.values, "default": LocationStatus.PENDING}
    )(
        filters.ChoiceFilter(
            choices=LocationStatus.choices,
            # The wording of the API's other choice fields (DRF's), as before the FilterSet.
            error_messages={"invalid_choice": '"%(value)s" is not a valid choice.'},
            help_text="The status of the places listed; pending when absent.",
        )
    )

    # docs/moderation.md "Spam score": the likeliest spam first (or last); ties oldest first.
    ordering = extend_schema_field({"type": "string", "enum": list(selectors.QUEUE_ORDERINGS)})(
        filters.ChoiceFilter(
            choices=[(value, value) for value in selectors.QUEUE_ORDERINGS],
            error_messages={"invalid_choice": '"%(value)s" is not a valid choice.'},
            help_text="spam_score or -spam_score; oldest first when absent.",
        )
    )

    class Meta:
        form = StrictFilterForm
        fields = ["status", "ordering"]

    def filter_queryset(self, queryset):
        # The queue is always one status: the selector loads the places of that status
        # (submitter, ready photos, oldest first), the pending ones unless asked.
        status = self.form.cleaned_data.get("status") or LocationStatus.PENDING
        ordering = self.form.cleaned_data.get("ordering") or None
        return selectors.moderation_queue(status=status, ordering=ordering)
