"""The console's queues of issue 13's second half, registered from moderation/admin.py:
photos to moderate, flags, and suspensions (with the users' "Suspend" action).

Every decision goes through moderation.services, exactly like the admin API, so the
console and the API have the same effects (logs, notifications, objects leaving
storage, the live feed). Access is the moderator role itself (staff, and
accounts.selectors.user_is_moderator), not model permissions: these pages exist for
moderators and nobody else, so no permission rows need granting.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.admin import UserAdmin
from accounts.models import Suspension, User
from accounts.selectors import user_is_moderator
from config.errors import ApplicationError
from locations.selectors import locations_by_id
from media_store.admin import thumbnail_tag
from media_store.models import ImageModeration
from media_store.selectors import presigned_url
from moderation import services

# moderation.admin imports this module at its end, after defining the widget.
from moderation.admin import ReadOnlyOSMWidget, action_form_page
from moderation.constants import REASON_CODE_CHOICES, REASON_MAX_LENGTH
from moderation.models import Flag, FlagStatus, PendingPhoto


def place_map_widget() -> ReadOnlyOSMWidget:
    # The place page's map (shown, not editable), for pages whose model has no point.
    return ReadOnlyOSMWidget(attrs={"default_zoom": 16, "geom_type": "POINT"})


# Width at which a photo is shown in the queue: large enough to judge.
QUEUE_PHOTO_PX = 360


class ModeratorConsoleMixin:
    """Pages for staff moderators: they view and decide (actions); nobody adds, edits
    or deletes rows here."""

    def _moderator(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_staff) and user_is_moderator(
            request.user
        )

    def has_module_permission(self, request):
        return self._moderator(request)

    def has_view_permission(self, request, obj=None):
        return self._moderator(request)

    def has_change_permission(self, request, obj=None):
        # The decisions are actions, which Django offers only with "change".
        return self._moderator(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _report(model_admin, request, *, verb: str, done: int, refused: list[str]) -> None:
    if done:
        model_admin.message_user(request, f"{verb} {done}.", messages.SUCCESS)
    if refused:
        model_admin.message_user(
            request, f"Skipped {len(refused)}: " + "; ".join(refused), messages.WARNING
        )


class ReasonForm(forms.Form):
    reason_code = forms.ChoiceField(choices=[("", "— choose —"), *REASON_CODE_CHOICES])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        help_text="Sent to the uploader with the reason code.",
    )


# --- Photos to moderate --------------------------------------------------------------


class PhotoStatusFilter(admin.SimpleListFilter):
    """Moderation status; the pending queue by default."""

    title = "moderation status"
    parameter_name = "moderation_status"

    def lookups(self, request, model_admin):
        return ImageModeration.choices

    def _current(self) -> str:
        value = self.value() or ImageModeration.PENDING
        if value not in ImageModeration.values:
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
        return queryset.filter(moderation_status=self._current())


def largest_thumbnail_tag(image, *, px: int = QUEUE_PHOTO_PX) -> SafeString:
    """The photo's largest thumbnail, shown `px` wide at most, linking to the original."""
    if not image.thumbnail_keys:
        return thumbnail_tag(image)
    key = image.thumbnail_keys[max(image.thumbnail_keys, key=int)]
    return format_html(
        '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" '
        'style="max-width:{}px;max-height:{}px" loading="lazy"></a>',
        presigned_url(image.key.name),
        presigned_url(key),
        px,
        px,
    )


def place_link(location) -> SafeString:
    if location is None:
        return format_html("<span>{}</span>", "no place")
    url = reverse("admin:locations_location_change", args=[location.pk])
    return format_html(
        '<a href="{}">{}</a> <span class="quiet">({})</span>',
        url,
        location.name,
        location.get_status_display(),
    )


@admin.register(PendingPhoto)
class PendingPhotoAdmin(ModeratorConsoleMixin, admin.ModelAdmin):
    """The photo queue: photos on places, pending first-in first-out, each large enough
    to judge, its place, and the version the moderator sees (a photo that changes
    meanwhile is refused by name, the others go through)."""

    list_display = ("photo", "place", "uploader", "moderation_status", "seen_version", "created_at")
    list_display_links = None
    list_filter = (PhotoStatusFilter,)
    list_per_page = 25
    show_full_result_count = False
    ordering = ("created_at", "id")
    actions = ["approve_selected", "reject_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(location__isnull=False)
            .select_related("location", "uploader")
        )

    @admin.display(description="photo")
    def photo(self, image) -> SafeString:
        return largest_thumbnail_tag(image)

    @admin.display(description="place")
    def place(self, image) -> SafeString:
        return place_link(image.location)

    @admin.display(description="version")
    def seen_version(self, image) -> SafeString:
        # Posted with the action (the changelist is one form): what the moderator saw.
        return format_html(
            '{}<input type="hidden" name="seen_version_{}" value="{}">',
            image.version,
            image.pk,
            image.version,
        )

    @staticmethod
    def _seen(request) -> list[tuple[str, str]]:
        return [(k, v) for k, v in request.POST.items() if k.startswith("seen_version_")]

    @admin.action(description="Approve selected photos", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, to_status=ImageModeration.APPROVED)

    @admin.action(description="Reject selected photos (asks for a reason)", permissions=["change"])
    def reject_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._decide(request, queryset, to_status=ImageModeration.REJECTED, **form.cleaned_data)
            return None
        return action_form_page(
            self,
            request,
            queryset=queryset,
            action="reject_selected",
            title="Reject photos",
            intro="Reject these photos? Their files are removed and each uploader is told why.",
            items=[f"Photo {image.pk} on {image.location}" for image in queryset],
            form=form,
            label="Reject",
            carried=self._seen(request),
        )

    def _decide(self, request, queryset, *, to_status: str, reason_code="", reason="") -> None:
        done, refused = 0, []
        for image in queryset.order_by("created_at", "id"):
            seen = request.POST.get(f"seen_version_{image.pk}")
            try:
                services.image_transition(
                    image_id=image.pk,
                    to_status=to_status,
                    moderator=request.user,
                    reason_code=reason_code,
                    reason=reason,
                    expected_version=int(seen) if seen and seen.isdigit() else None,
                )
            except (services.ModerationError, PermissionDenied) as exc:
                refused.append(f"photo {image.pk} ({exc})")
            else:
                done += 1
        verb = "Approved photos:" if to_status == ImageModeration.APPROVED else "Rejected photos:"
        _report(self, request, verb=verb, done=done, refused=refused)


# --- Flags -----------------------------------------------------------------------------


class FlagStatusFilter(PhotoStatusFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return FlagStatus.choices

    def _current(self) -> str:
        value = self.value() or FlagStatus.OPEN
        if value not in FlagStatus.values:
            raise IncorrectLookupParameters(f"Unknown status {value!r}.")
        return value

    def queryset(self, request, queryset):
        return queryset.filter(status=self._current())


class FlagActionForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="For moderators; reporters learn the outcome only.",
    )
    take_down_reason_code = forms.ChoiceField(
        choices=[("", "— do not take it down —"), *REASON_CODE_CHOICES], required=False
    )
    take_down_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="With a reason code: the place (or photo) is taken down and its "
        "submitter told this reason.",
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("take_down_reason_code")) != bool(cleaned.get("take_down_reason")):
            raise forms.ValidationError("A take-down needs both a reason code and a reason.")
        return cleaned


@admin.register(Flag)
class FlagAdmin(ModeratorConsoleMixin, admin.ModelAdmin):
    """The flags queue: open flags oldest first; a flag's page shows the place on the
    map and its photos. Dismissing or actioning a flag resolves every open flag on its
    object (moderation.services.flag_resolve)."""

    list_display = ("created_at", "target", "reason", "comment", "reporter", "status")
    list_filter = (FlagStatusFilter, "reason")
    list_select_related = ("location", "image", "reporter")
    ordering = ("created_at", "id")
    list_per_page = 50
    show_full_result_count = False
    actions = ["dismiss_selected", "action_selected"]
    fields = (
        "target",
        "place_map",
        "photos",
        "reason",
        "comment",
        "reporter",
        "created_at",
        "status",
        "resolved_by",
        "resolved_at",
        "note",
    )
    readonly_fields = fields

    @property
    def media(self):
        return super().media + place_map_widget().media

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location", "image", "image__location", "reporter", "resolved_by")
        )

    def _place(self, flag):
        return flag.location if flag.location_id else getattr(flag.image, "location", None)

    @admin.display(description="flagged")
    def target(self, flag) -> SafeString:
        if flag.location_id:
            return format_html("Place: {}", place_link(flag.location))
        return format_html(
            "Photo {} on {}", thumbnail_tag(flag.image, size=96), place_link(flag.image.location)
        )

    @admin.display(description="map")
    def place_map(self, flag) -> SafeString:
        place = self._place(flag)
        if place is None:
            return format_html("<span>{}</span>", "—")
        return place_map_widget().render(
            "flagged_place_point",
            place.point,
            attrs={"disabled": True, "id": "id_flagged_place_point"},
        )

    @admin.display(description="photos")
    def photos(self, flag) -> SafeString:
        place = self._place(flag)
        if place is None:
            return format_html("<span>{}</span>", "—")
        loaded = locations_by_id(location_ids=[place.pk])[place.pk]
        return format_html_join(
            " ", "{}", ((largest_thumbnail_tag(image, px=240),) for image in loaded.images.all())
        )

    @admin.action(description="Dismiss selected flags (nothing wrong)", permissions=["change"])
    def dismiss_selected(self, request, queryset):
        self._resolve(request, queryset, resolution=FlagStatus.DISMISSED)

    @admin.action(
        description="Action selected flags (optionally take down)", permissions=["change"]
    )
    def action_selected(self, request, queryset):
        form = FlagActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            code = form.cleaned_data["take_down_reason_code"]
            take_down = (
                services.TakeDown(reason_code=code, reason=form.cleaned_data["take_down_reason"])
                if code
                else None
            )
            self._resolve(
                request,
                queryset,
                resolution=FlagStatus.ACTIONED,
                note=form.cleaned_data["note"],
                take_down=take_down,
            )
            return None
        return action_form_page(
            self,
            request,
            queryset=queryset,
            action="action_selected",
            title="Action flags",
            intro="Action these flags? Every open flag on the same place or photo is "
            "resolved with them, and each reporter is told.",
            items=[str(flag) for flag in queryset],
            form=form,
            label="Action",
        )

    def _resolve(self, request, queryset, *, resolution: str, note="", take_down=None) -> None:
        done, refused = 0, []
        for flag in queryset.order_by("created_at", "id"):
            try:
                resolved = services.flag_resolve(
                    flag_id=flag.pk,
                    moderator=request.user,
                    resolution=resolution,
                    note=note,
                    take_down=take_down,
                )
            except services.FlagAlreadyResolved:
                continue  # resolved with an earlier flag of the same object
            except (ApplicationError, PermissionDenied) as exc:
                refused.append(f"{flag} ({exc})")
            else:
                done += len(resolved)
        verb = "Dismissed flags:" if resolution == FlagStatus.DISMISSED else "Actioned flags:"
        _report(self, request, verb=verb, done=done, refused=refused)


# --- Suspensions -------------------------------------------------------------------------


class SuspendForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        help_text="Shown to the user on every refused request.",
    )
    until = forms.DateTimeField(
        required=False, help_text="Empty: until a moderator lifts it. UTC, YYYY-MM-DD HH:MM."
    )


@admin.register(Suspension)
class SuspensionAdmin(ModeratorConsoleMixin, admin.ModelAdmin):
    """Suspensions, newest first; lifting is an action. Suspending is the users list's
    action (the same service as POST /admin/users/{username}/suspend)."""

    list_display = ("user", "reason", "until", "created_by", "created_at", "lifted_at", "lifted_by")
    list_select_related = ("user", "created_by", "lifted_by")
    search_fields = ("user__username", "reason")
    ordering = ("-created_at", "-id")
    actions = ["lift_selected"]
    readonly_fields = list_display
    fields = list_display

    @admin.action(description="Lift selected suspensions", permissions=["change"])
    def lift_selected(self, request, queryset):
        done, refused = 0, []
        for suspension in queryset:
            try:
                services.user_unsuspend(username=suspension.user.username, moderator=request.user)
            except (ApplicationError, PermissionDenied) as exc:
                refused.append(f"{suspension.user} ({exc})")
            else:
                done += 1
        _report(self, request, verb="Lifted suspensions:", done=done, refused=refused)


class ModerationUserAdmin(UserAdmin):
    """accounts' user admin plus the "Suspend" action, open to staff moderators (who
    may list users to suspend them, and change nothing else)."""

    actions = ["suspend_selected", "trust_selected", "withdraw_trust_selected"]
    list_display = (*UserAdmin.list_display, "trust_override")
    list_filter = (*UserAdmin.list_filter, "trust_override")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self.has_suspend_permission(request)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self.has_suspend_permission(request)

    def has_suspend_permission(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_staff) and user_is_moderator(
            request.user
        )

    @admin.action(description="Suspend selected users (asks for a reason)", permissions=["suspend"])
    def suspend_selected(self, request, queryset):
        form = SuspendForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, refused = 0, []
            for user in queryset.order_by("username"):
                try:
                    result = services.user_suspend(
                        username=user.username,
                        moderator=request.user,
                        reason=form.cleaned_data["reason"],
                        until=form.cleaned_data["until"],
                    )
                except (ApplicationError, PermissionDenied) as exc:
                    refused.append(f"{user.username} ({exc})")
                else:
                    done += 1
                    self.message_user(
                        request,
                        f"{user.username}: rejected {result.places_rejected} pending place(s), "
                        f"{result.revisions_rejected} pending edit(s) "
                        f"and {result.images_rejected} pending photo(s).",
                        messages.INFO,
                    )
            _report(self, request, verb="Suspended users:", done=done, refused=refused)
            return None
        return action_form_page(
            self,
            request,
            queryset=queryset,
            action="suspend_selected",
            title="Suspend users",
            intro="Suspend these accounts? Their writes are refused and their pending "
            "places and photos are rejected (reason code spam; reversible).",
            items=[user.username for user in queryset],
            form=form,
            label="Suspend",
        )

    # Trust tiers (docs/moderation.md): the same services as POST/DELETE
    # /admin/users/{username}/trust.
    @admin.action(
        description="Trust selected users (approve their places at once)", permissions=["suspend"]
    )
    def trust_selected(self, request, queryset):
        self._trust(request, queryset, grant=True)

    @admin.action(description="Withdraw trust from selected users", permissions=["suspend"])
    def withdraw_trust_selected(self, request, queryset):
        self._trust(request, queryset, grant=False)

    def _trust(self, request, queryset, *, grant: bool) -> None:
        change = services.user_trust_grant if grant else services.user_trust_withdraw
        done, refused = 0, []
        for user in queryset.order_by("username"):
            try:
                change(username=user.username, moderator=request.user)
            except (ApplicationError, PermissionDenied) as exc:
                refused.append(f"{user.username} ({exc})")
            else:
                done += 1
        verb = "Trusted users:" if grant else "Withdrew trust from:"
        _report(self, request, verb=verb, done=done, refused=refused)


admin.site.unregister(User)
admin.site.register(User, ModerationUserAdmin)
