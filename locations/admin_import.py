"""Bulk import page of the Django admin: /admin/locations/location/import/.

Two steps, like `import_locations --dry-run` then `import_locations`:
1. upload: the file is validated with a dry run and, if readable, kept in object storage
   under a random token (locations/import_uploads.py), and the report shown; the token
   goes into the uploader's session, so only that session can confirm it.
2. confirm: the stored file is imported (bad rows skipped, exactly those already shown),
   then deleted. Cancel deletes it too; abandoned uploads are purged after a day.
No web process keeps a file between the two requests (sessions are in PostgreSQL), so any
replica can confirm an upload another one validated; storage being down is a 503 page.

Only staff with the `locations.add_location` permission (superusers, operators) may
import. Uploads are capped at IMPORT_MAX_UPLOAD_BYTES, checked on Content-Length before
the body is parsed and again while it is received; bigger files go through the command.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from locations import imports
from locations.import_uploads import (
    import_upload_delete,
    import_upload_fetch,
    import_upload_store,
    scratch_file,
)
from locations.models import LocationStatus
from media_store.storage import StorageError, StorageUnavailable

SESSION_KEY = "placemap_imports"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
PERMISSION = "locations.add_location"
STORAGE_DOWN = "File storage is unavailable right now; try again in a moment."


class _CappedUploadHandler(FileUploadHandler):
    """Stops reading a multipart body once a file passes the cap (the Content-Length
    check can be dodged by lying about it)."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request._import_upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (with a header row) or a GeoJSON FeatureCollection.")
    format = forms.ChoiceField(
        choices=[
            (imports.FORMAT_AUTO, "Detect from the file"),
            (imports.FORMAT_CSV, "CSV"),
            (imports.FORMAT_GEOJSON, "GeoJSON"),
        ],
        initial=imports.FORMAT_AUTO,
    )
    status = forms.ChoiceField(
        choices=[
            (LocationStatus.PENDING, "Pending (moderators review them)"),
            (LocationStatus.APPROVED, "Approved (published at once)"),
        ],
        initial=LocationStatus.PENDING,
        help_text="Status of new places; places already imported keep theirs.",
    )


def _pending(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _forget(request, token: str) -> None:
    pending = _pending(request)
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if entry is not None:
        # Forgotten all the same if storage is down: the periodic purge deletes it later.
        with contextlib.suppress(StorageError):
            import_upload_delete(token=token)


def _entry(request, token: str) -> dict | None:
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    return _pending(request).get(token)


class ImportPages:
    """The import page's views and URLs for a ModelAdmin of Location:
    `LocationAdmin.get_urls()` returns `ImportPages(self).urls() + super().get_urls()`."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site
        self.model = model_admin.model

    def urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_upload_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "import/confirm/",
                self.admin_site.admin_view(self.import_confirm_view),
                name="{}_{}_import_confirm".format(*info),
            ),
        ]

    def _import_context(self, request, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import places",
            "subtitle": None,
            "max_upload": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES),
            "max_reported": settings.IMPORT_MAX_REPORTED_ERRORS,
            **extra,
        }

    def _check_import_permission(self, request) -> None:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied

    # csrf_exempt only so that the upload handlers can be set before anything reads the
    # body; the CSRF check runs right after, in csrf_protect(_upload).
    @csrf_exempt
    def import_upload_view(self, request):
        self._check_import_permission(request)
        if request.method == "POST":
            limit = settings.IMPORT_MAX_UPLOAD_BYTES
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            # The multipart envelope adds a little to the file itself.
            if declared > limit + 64 * 1024:
                return self._too_large(request)
            request.upload_handlers = [
                _CappedUploadHandler(request, limit=limit),
                *request.upload_handlers,
            ]
        return csrf_protect(self._upload)(request)

    def _too_large(self, request):
        error = (
            f"The file is larger than {filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}; "
            "import it with `manage.py import_locations` instead."
        )
        return TemplateResponse(
            request,
            "admin/locations/location/import.html",
            self._import_context(request, form=ImportUploadForm(), upload_error=error),
            status=413,
        )

    def _storage_down(self, request, form):
        form.add_error(None, f"{STORAGE_DOWN} Nothing was kept.")
        response = TemplateResponse(
            request,
            "admin/locations/location/import.html",
            self._import_context(request, form=form),
            status=503,
        )
        response["Retry-After"] = "5"
        return response

    def _upload(self, request):
        if request.method != "POST":
            form = ImportUploadForm()
            return TemplateResponse(
                request,
                "admin/locations/location/import.html",
                self._import_context(request, form=form),
            )
        form = ImportUploadForm(request.POST, request.FILES)
        if getattr(request, "_import_upload_too_large", False):
            return self._too_large(request)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/locations/location/import.html",
                self._import_context(request, form=form),
                status=400,
            )
        uploaded = form.cleaned_data["file"]
        token = secrets.token_urlsafe(24)
        fmt = form.cleaned_data["format"]
        status = form.cleaned_data["status"]
        with scratch_file() as scratch:
            head = b""
            with scratch.open("wb") as handle:
                for chunk in uploaded.chunks():
                    if not head:
                        head = chunk[:64]
                    handle.write(chunk)
            if fmt == imports.FORMAT_AUTO:
                fmt = imports.detect_format(Path(uploaded.name), head)
            try:
                report = imports.locations_import(
                    path=scratch, fmt=fmt, status=status, dry_run=True
                )
                import_upload_store(token=token, path=scratch)
            except imports.ImportFileError as exc:
                form.add_error("file", f"{exc} Nothing can be imported from it.")
                return TemplateResponse(
                    request,
                    "admin/locations/location/import.html",
                    self._import_context(request, form=form),
                    status=400,
                )
            except StorageUnavailable:
                return self._storage_down(request, form)
        pending = _pending(request)
        pending[token] = {"name": uploaded.name[:200], "format": fmt, "status": status}
        request.session[SESSION_KEY] = pending
        return TemplateResponse(
            request,
            "admin/locations/location/import_report.html",
            self._import_context(
                request,
                title="Import places: validation report",
                report=report,
                token=token,
                file_name=uploaded.name,
                more_bad_rows=report.bad_row_count - len(report.bad_rows),
            ),
        )

    def import_confirm_view(self, request):
        self._check_import_permission(request)
        changelist = reverse(
            f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"
        )
        if request.method != "POST":
            return redirect(f"{changelist}import/")
        token = request.POST.get("token", "")
        entry = _entry(request, token)
        if entry is None:
            messages.error(request, "This upload is unknown or was already handled.")
            return HttpResponseRedirect(f"{changelist}import/")
        if "cancel" in request.POST:
            _forget(request, token)
            messages.info(request, f"Import of {entry['name']} cancelled; the file was deleted.")
            return HttpResponseRedirect(changelist)
        with scratch_file() as scratch:
            try:
                import_upload_fetch(token=token, path=scratch)
                report = imports.locations_import(
                    path=scratch,
                    fmt=entry["format"],
                    status=entry["status"],
                    on_error=imports.ON_ERROR_SKIP,
                    user_id=request.user.pk,
                )
            except StorageUnavailable:
                # Kept in the session and in storage: the same button works once it is back.
                messages.error(request, f"Nothing was imported yet: {STORAGE_DOWN}")
                return HttpResponseRedirect(f"{changelist}import/")
            except (imports.ImportFileError, FileNotFoundError) as exc:
                _forget(request, token)
                messages.error(request, f"Nothing was imported: {exc}")
                return HttpResponseRedirect(f"{changelist}import/")
        _forget(request, token)
        messages.success(request, f"{entry['name']}: {report.summary()}")
        return HttpResponseRedirect(changelist)
