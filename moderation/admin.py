"""The moderation console: the Django admin of places, for staff moderators.

A staff moderator (is_staff + the `moderators` group, whose permissions come from
moderation/migrations/0002) sees the pending queue first, a map of each place, its
photos and its moderation history, and decides with the bulk actions or the decision
box of a place's page. Every decision goes through moderation.services, exactly like
PATCH /api/v1/admin/locations/{id}/status: one log row, the submitter's notification
and the live-feed event. Place fields are read-only here: editing a place is its
owner's business (locations.services), not a side door of the console.

The console registers locations' Location model: the admin is the one part of
moderation that works on another app's model directly (Django's admin needs the model
class). Its templates stay under templates/admin/locations/location/ (the admin looks
them up by the model's app label) and its URL names stay admin:locations_location_*.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.gis.admin import GISModelAdmin
from django.contrib.gis.geos import MultiPoint, Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.admin_inlines import ReadOnlyInline
from config.errors import ApplicationError
from config.map_widget import OfflineMapWidget
from locations.admin_import import ImportPages
from locations.categories import category_label, category_labels
from locations.constants import LocationStatus
from locations.models import Location
from locations.selectors import (
    location_pending_revision_dict,
    location_revisions,
    locations_duplicates_by_id,
    pending_revisions_prefetch,
    review_queue_filter,
    revision_dict,
)
from locations.services import location_delete
from media_store.admin import ImageThumbnailInline, thumbnail_tag
from media_store.selectors import images_ready_prefetch
from moderation import services
from moderation.constants import REASON_CODE_CHOICES, REASON_MAX_LENGTH
from moderation.models import ModerationLog

# How many thumbnails a row of the queue shows.
QUEUE_THUMBNAILS = 3
DECISION_CHOICES = [
    ("", "— no decision —"),
    (services.APPROVED, "Approve"),
    (services.REJECTED, "Reject (or take down an approved place)"),
]


ACTION_TEMPLATE = "admin/moderation/action_with_form.html"


def action_form_page(
    model_admin, request, *, queryset, action, title, intro, items, form, label, carried=()
):
    """The intermediate page of a console action that needs more input (a form): it
    lists what was selected and posts back to the changelist with the same action and
    selection plus "apply" (and `carried` hidden fields)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.model._meta,
        "intro": intro,
        "items": items,
        "selected": [obj.pk for obj in queryset],
        "carried": list(carried),
        "form": form,
        "action": action,
        "submit_label": label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, ACTION_TEMPLATE, context)


class ReadOnlyOSMWidget(OfflineMapWidget):
    """The offline map widget that only shows the point when the field is disabled."""

    template_name = "admin/locations/location/point_map_widget.html"


class CategoryFilter(admin.SimpleListFilter):
    """The categories (locations.Category, active or not) by label; not Django's
    distinct-values filter, which would scan every place to list them."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return list(category_labels("en").items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(category=value) if value else queryset


class StatusFilter(admin.SimpleListFilter):
    """Status filter whose default is the pending queue; "All" shows every status."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*LocationStatus.choices, (self.ALL, "All")]

    def _current(self) -> str:
        value = self.value() or LocationStatus.PENDING
        if value != self.ALL and value not in LocationStatus.values:
            raise IncorrectLookupParameters(f"Unknown status {value!r}.")
        return value

    def choices(self, changelist):
        current = self._current()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        current = self._current()
        if current == LocationStatus.PENDING:
            # The queue: pending places and approved ones with an edit to review.
            return queryset.filter(review_queue_filter())
        return queryset if current == self.ALL else queryset.filter(status=current)


class ModerationLogInline(ReadOnlyInline):
    model = ModerationLog
    fk_name = "location"
    fields = (
        "created_at",
        "moderator",
        "action",
        "from_status",
        "to_status",
        "version",
        "reason_code",
        "reason",
    )
    readonly_fields = fields
    verbose_name_plural = "moderation history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("moderator")


class LocationDecisionForm(forms.ModelForm):
    """The place's page: a map of the point (shown, not editable) and a decision box."""

    decision = forms.ChoiceField(choices=DECISION_CHOICES, required=False)
    reason_code = forms.ChoiceField(choices=[("", "—"), *REASON_CODE_CHOICES], required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="Required, with a reason code, to reject or take down a place. "
        "The submitter receives it.",
    )
    # The status the moderator saw: if another moderator decided meanwhile, this
    # decision is refused instead of being applied to a state nobody looked at.
    seen_status = forms.CharField(widget=forms.HiddenInput, required=False)
    # The version the page showed (content and pending revision): a place edited since
    # is refused like a stale PATCH .../status with expected_version.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Location
        fields = ["point"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Disabled: the posted value is ignored and the instance's point kept.
        self.fields["point"].disabled = True
        self.fields["seen_status"].initial = self.instance.status
        self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if not decision:
            return cleaned
        errors = services.decision_validate(
            to_status=decision,
            reason_code=cleaned.get("reason_code", ""),
            reason=cleaned.get("reason", "").strip(),
        )
        for field, field_errors in errors.items():
            self.add_error(field if field in self.fields else "decision", field_errors)
        # An early answer on the page; the service checks again under the row lock.
        seen = cleaned.get("seen_status") or self.instance.status
        seen_version = cleaned.get("seen_version")
        if seen != self.instance.status:
            self.add_error("decision", f"Another moderator made this place {self.instance.status}.")
        elif seen_version is not None and seen_version != self.instance.version:
            self.add_error(
                "decision",
                f"This place changed since you opened it (you saw version {seen_version}, "
                f"it is now version {self.instance.version}). Review it again.",
            )
        elif self.instance.status == services.APPROVED and _has_pending_revision(self.instance):
            pass  # the decision is on the pending revision: approve or reject both allowed
        elif (self.instance.status, decision) not in services.ALLOWED_TRANSITIONS:
            self.add_error(
                "decision", f"A {self.instance.status} place cannot be {decision} again."
            )
        return cleaned


def _has_pending_revision(location: Location) -> bool:
    return location_pending_revision_dict(location, as_moderator=True) is not None


class RejectionForm(forms.Form):
    # No default: a moderator picks the code rather than sending "spam" by accident.
    reason_code = forms.ChoiceField(choices=[("", "— choose —"), *REASON_CODE_CHOICES])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        help_text="Sent to each submitter with the reason code.",
    )


class MergeForm(forms.Form):
    into = forms.UUIDField(
        label="Merge into (place id)",
        help_text="The place these duplicate: it keeps their photos and their links.",
    )


def _duplicates_html(duplicates: list[dict]) -> str:
    if not duplicates:
        return "-"
    return format_html_join(
        mark_safe("<br>"),
        '<a href="{}">{}</a> <span class="quiet">{} m, similarity {}</span>',
        (
            (
                reverse("admin:locations_location_change", args=[d["id"]]),
                d["name"],
                d["distance_m"],
                d["similarity"],
            )
            for d in duplicates
        ),
    )


@admin.register(Location)
class LocationAdmin(GISModelAdmin):
    # Other areas extend this class (e.g. a get_urls() for the bulk import page); keep
    # its hooks calling super().
    form = LocationDecisionForm
    gis_widget = ReadOnlyOSMWidget
    gis_widget_kwargs = {"attrs": {"default_zoom": 16}}
    list_display = (
        "name",
        "category",
        "status",
        "submitter",
        "created_at",
        "thumbnails",
        "version_shown",
        "spam_score",
        "possible_duplicates",
    )
    list_filter = (StatusFilter, CategoryFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("name", "description", "address", "submitter__username")
    # Oldest first: whoever waits longest is decided first.
    ordering = ("created_at", "id")
    list_per_page = 50
    # The "N total" beside a filtered count is a full count(*) of every place on each load.
    show_full_result_count = False
    actions = ["approve_selected", "reject_selected", "merge_selected"]
    readonly_fields = (
        "name",
        "category",
        "description",
        "address",
        "submitter",
        "status",
        "approved_at",
        "created_at",
        "updated_at",
        "external_id",
        "coordinates",
        "version",
        "pending_revision_diff",
        "revision_history",
        "merged_into",
        "spam_score",
        "spam_signals",
        "possible_duplicates",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "category",
                    "description",
                    "address",
                    "point",
                    "coordinates",
                    "submitter",
                    "created_at",
                )
            },
        ),
        (
            "Pending revision (the owner's edit awaiting review)",
            {"fields": ("pending_revision_diff",)},
        ),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "version",
                    "approved_at",
                    "updated_at",
                    "external_id",
                    "merged_into",
                )
            },
        ),
        (
            "Duplicates and spam",
            {"fields": ("possible_duplicates", "spam_score", "spam_signals")},
        ),
        (
            "Decision",
            {"fields": ("decision", "reason_code", "reason", "seen_status", "seen_version")},
        ),
        ("Revisions", {"classes": ("collapse",), "fields": ("revision_history",)}),
    )
    inlines = [ImageThumbnailInline, ModerationLogInline]

    def get_queryset(self, request) -> QuerySet[Location]:
        return (
            super()
            .get_queryset(request)
            .select_related("submitter")
            .prefetch_related(images_ready_prefetch(), pending_revisions_prefetch())
        )

    def has_add_permission(self, request):
        # Places come from the API and the import, which validate and attach photos.
        return False

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # One statement for the page's likely duplicates (the column reads them).
        places = list(changelist.result_list)
        duplicates = locations_duplicates_by_id(location_ids=[p.pk for p in places])
        for place in places:
            place.duplicates_found = duplicates[str(place.pk)]
        return changelist

    @admin.display(description="possible duplicates")
    def possible_duplicates(self, location: Location) -> str:
        duplicates = getattr(location, "duplicates_found", None)
        if duplicates is None:  # the place's own page
            duplicates = locations_duplicates_by_id(location_ids=[location.pk])[str(location.pk)]
        return _duplicates_html(duplicates)

    # Deleting (superusers only) goes through the same service as DELETE /locations/{id}:
    # photos leave storage after commit and a public place leaves open maps.
    def delete_model(self, request, obj):
        location_delete(location=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for location in queryset:
            location_delete(location=location, actor=request.user)

    @admin.display(description="latitude, longitude")
    def coordinates(self, location: Location) -> str:
        # The point as text too: the map may have no basemap (MAP_TILES_URL) to read it on.
        return f"{location.point.y}, {location.point.x}" if location.point else "-"

    @admin.display(description="photos")
    def thumbnails(self, location: Location) -> str:
        images = list(location.images.all())  # prefetched: no query per row
        return format_html_join(
            " ", "{}", ((thumbnail_tag(image, size=64),) for image in images[:QUEUE_THUMBNAILS])
        )

    # --- single decisions (the place's page) ---------------------------------------

    def save_model(self, request, obj, form, change):
        # Every other field is read-only: the only write is the decision, through the
        # same service as the API.
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            services.location_transition(
                location_id=obj.pk,
                to_status=decision,
                moderator=request.user,
                reason_code=form.cleaned_data.get("reason_code", ""),
                reason=form.cleaned_data.get("reason", ""),
                expected_status=form.cleaned_data.get("seen_status") or None,
                expected_version=form.cleaned_data.get("seen_version"),
            )
        except (services.ModerationError, PermissionDenied) as exc:
            # Lost a race after the form's checks: tell the moderator, change nothing.
            request._moderation_refused = str(exc)

    def response_change(self, request, obj):
        refused = getattr(request, "_moderation_refused", None)
        if refused:
            self.message_user(request, f"Decision refused: {refused}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # --- bulk decisions (the queue) ------------------------------------------------

    @admin.action(description="Approve selected places", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, to_status=services.APPROVED)

    @admin.action(description="Reject selected places (asks for a reason)", permissions=["change"])
    def reject_selected(self, request, queryset):
        form = RejectionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._decide(
                request,
                queryset,
                to_status=services.REJECTED,
                reason_code=form.cleaned_data["reason_code"],
                reason=form.cleaned_data["reason"],
            )
            return None  # back to the changelist
        places = list(queryset.order_by("created_at", "id"))
        # Carried to the confirmation page, so the rejection names what the queue showed.
        seen = _versions_seen(request)
        for place in places:
            place.seen_version = seen.get(str(place.pk))
            place.category_label = category_label(place.category)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject places",
            "subtitle": None,
            "opts": self.model._meta,
            "places": places,
            "form": form,
            "action": "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "admin/locations/location/reject_with_reason.html", context
        )

    @admin.action(
        description="Merge selected places into another (asks for it)", permissions=["change"]
    )
    def merge_selected(self, request, queryset):
        form = MergeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            into = form.cleaned_data["into"]
            merged, refused = 0, []
            for place in queryset.order_by("created_at", "id"):
                try:
                    services.location_merge(
                        location_id=place.pk, into_id=into, moderator=request.user
                    )
                    merged += 1
                except (services.ModerationError, PermissionDenied) as exc:
                    refused.append(f"{place.name}: {exc}")
            if merged:
                self.message_user(request, f"Merged {merged} place(s) into {into}.")
            if refused:
                self.message_user(request, "Not merged: " + "; ".join(refused), messages.WARNING)
            return None
        places = list(queryset.order_by("created_at", "id"))
        return action_form_page(
            self,
            request,
            queryset=places,
            action="merge_selected",
            title="Merge places",
            intro=f"Merge these {len(places)} place(s) into the place named below? Each "
            "leaves the map and every public list, its photos move to that place, its page "
            "redirects there, and its submitter is told. Its history and decisions are kept.",
            items=[
                f"{p.name} ({p.get_status_display()}, {category_label(p.category)}, "
                f"submitted {p.created_at:%Y-%m-%d %H:%M})"
                for p in places
            ],
            form=form,
            label="Merge",
        )

    def _decide(self, request, queryset, *, to_status: str, reason_code="", reason="") -> None:
        """One transaction per place: a place another moderator already decided on is
        reported and skipped, and does not undo the others."""
        done, refused = 0, []
        seen = _versions_seen(request)
        for location_id, name in queryset.order_by("created_at", "id").values_list("pk", "name"):
            try:
                services.location_transition(
                    location_id=location_id,
                    to_status=to_status,
                    moderator=request.user,
                    reason_code=reason_code,
                    reason=reason,
                    # The version the row showed; a row edited since is refused and named.
                    expected_version=seen.get(str(location_id)),
                )
            except services.PlaceNotFound:
                refused.append(f"{name} (deleted meanwhile)")
            except services.ModerationError as exc:
                refused.append(f"{name} ({exc})")
            else:
                done += 1
        verb = "Approved" if to_status == services.APPROVED else "Rejected"
        if done:
            self.message_user(request, f"{verb} {done} place(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"Skipped {len(refused)}: " + "; ".join(refused), messages.WARNING
            )

    # --- bulk import page (locations.admin_import) ---------------------------------

    def get_urls(self):
        return ImportPages(self).urls() + self._revision_urls() + super().get_urls()

    # --- Versions and revisions (docs/moderation.md) --------------------------------

    @admin.display(description="version")
    def version_shown(self, location: Location) -> str:
        # Inside the changelist form: the bulk actions post the version each row showed
        # (read by _versions_seen), so a place edited meanwhile is refused, not decided.
        revision = " (edit to review)" if _has_pending_revision(location) else ""
        return format_html(
            '<input type="hidden" name="{}{}" value="{}">{}{}',
            VERSION_INPUT_PREFIX,
            location.pk,
            location.version,
            location.version,
            revision,
        )

    @admin.display(description="changes proposed")
    def pending_revision_diff(self, location: Location) -> str:
        revision = location_pending_revision_dict(location, as_moderator=True)
        if revision is None:
            return "None."
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (field, _shown(change["before"]), _shown(change["after"]))
                for field, change in revision["changes"].items()
            ),
        )
        points = ""
        if "point" in revision["changes"]:
            before = revision["changes"]["point"]["before"]["coordinates"]
            after = revision["changes"]["point"]["after"]["coordinates"]
            # Both positions on one map: the published one and the proposed one.
            widget = ReadOnlyOSMWidget(attrs={"geom_type": "MULTIPOINT", "default_zoom": 15})
            points = widget.render(
                "revision_points",
                MultiPoint(Point(*before), Point(*after), srid=4326),
                attrs={"id": "id_revision_points", "disabled": True},
            )
        return format_html(
            "<p>By {} on {}, version {}. Approving publishes the right-hand column; "
            "rejecting (with a reason) keeps the place as it is.</p>"
            '<table class="revision-diff"><thead><tr><th>field</th><th>published</th>'
            "<th>proposed</th></tr></thead><tbody>{}</tbody></table>{}",
            revision["author"] or "a deleted user",
            revision["created_at"],
            revision["version"],
            rows,
            points,
        )

    @admin.display(description="revisions")
    def revision_history(self, location: Location) -> str:
        revisions = list(location_revisions(location_id=location.pk)[:REVISIONS_SHOWN])
        url = reverse("admin:locations_location_revert", args=[location.pk])
        rows = []
        for revision in revisions:
            shown = revision_dict(revision, as_moderator=True, location=location)
            button = ""
            if revision.status in ("applied", "approved") and revision.version != location.version:
                # Submits the page's form (CSRF token, seen_version) to the revert view.
                button = format_html(
                    '<button type="submit" formaction="{}" name="revision" value="{}">'
                    "Revert to this version</button>",
                    url,
                    revision.pk,
                )
            rows.append(
                format_html(
                    "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    shown["version"],
                    shown["status"],
                    shown["source"],
                    shown["author"] or "—",
                    shown["created_at"],
                    ", ".join(shown["changes"]) or "—",
                )
                + button
            )
        return format_html(
            "<table><thead><tr><th>version</th><th>status</th><th>source</th><th>by</th>"
            "<th>when</th><th>changed</th></tr></thead><tbody>{}</tbody></table>",
            mark_safe("".join(rows)),  # noqa: S308 (each row built by format_html)
        )

    def _revision_urls(self):
        return [
            path(
                "<path:object_id>/revert/",
                self.admin_site.admin_view(self.revert_view),
                name="locations_location_revert",
            )
        ]

    def revert_view(self, request, object_id):
        """POST from a place's page: restore the chosen revision as a new version,
        through the same service as POST /api/v1/admin/locations/{id}/revert."""
        obj = self.get_object(request, object_id)
        if request.method != "POST" or obj is None:
            return HttpResponseRedirect(reverse("admin:locations_location_changelist"))
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        seen = request.POST.get("seen_version", "")
        try:
            log = services.location_revert_to(
                location_id=obj.pk,
                revision_id=request.POST.get("revision", ""),
                moderator=request.user,
                expected_version=int(seen) if seen.isdigit() else None,
            )
        except (ApplicationError, PermissionDenied, ValidationError) as exc:
            self.message_user(request, f"Revert refused: {exc}", messages.ERROR)
        else:
            self.message_user(
                request, f"Reverted: the place is now version {log.version}.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:locations_location_change", args=[obj.pk]))


# The changelist's hidden input carrying a row's version: `_version_<pk>`.
VERSION_INPUT_PREFIX = "_version_"
# How many revisions a place's page lists (newest first); the API pages through all.
REVISIONS_SHOWN = 20


def _versions_seen(request) -> dict[str, int]:
    """{pk: version} the changelist rows showed (their `_version_<pk>` inputs)."""
    seen = {}
    for key, value in request.POST.items():
        if key.startswith(VERSION_INPUT_PREFIX) and value.isdigit():
            seen[key.removeprefix(VERSION_INPUT_PREFIX)] = int(value)
    return seen


def _shown(value) -> str:
    if isinstance(value, dict):  # a point
        return "{}, {}".format(*value["coordinates"])
    return "—" if value in (None, "") else str(value)


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """The audit trail: readable by moderators, written only by moderation.services.
    Nobody adds or edits an entry; only a superuser may delete one (e.g. for erasure)."""

    list_display = (
        "created_at",
        "place",
        "from_status",
        "to_status",
        "reason_code",
        "moderator",
    )
    list_filter = ("to_status", "reason_code", ("created_at", admin.DateFieldListFilter))
    search_fields = ("location__name", "moderator__username", "reason")
    list_select_related = ("location", "moderator")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "location",
        "location_ref",
        "moderator",
        "from_status",
        "to_status",
        "reason_code",
        "reason",
    )
    fields = readonly_fields

    @admin.display(description="place", ordering="location__name")
    def place(self, log: ModerationLog) -> str:
        if log.location is None:
            return f"deleted place {log.location_ref}"
        url = reverse("admin:locations_location_change", args=[log.location_ref])
        return format_html('<a href="{}">{}</a>', url, log.location.name)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


# The queues of photos, flags and suspensions (docs/moderation.md), kept apart.
from moderation import admin_queues  # noqa: E402, F401
