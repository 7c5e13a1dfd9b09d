import pytest


def test_it_echoes_a_sane_incoming_request_id(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="abc-123.DEF_456")
    assert response["X-Request-ID"] == "abc-123.DEF_456"


def test_it_generates_a_request_id_when_none_is_sent(client):
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert len(first) == 32
    assert first != second


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", "new\\nline", "ünïcode"])
def test_it_replaces_an_insane_request_id(client, bad):
    response = client.get("/health", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32
