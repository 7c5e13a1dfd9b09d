import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is trusted only if it cannot smuggle anything into logs or headers.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def request_id_from(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIDMiddleware:
    """Give every request an id (the caller's if sane), and echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
