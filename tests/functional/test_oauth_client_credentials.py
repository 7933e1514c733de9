"""The client-credentials flow end to end over real HTTP (live server): token, use, scopes, revocation."""

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.management import call_command

from core.models import ApiClient


def _post(url: str, data: dict | str, headers: dict[str, str]) -> tuple[int, dict]:
    body = data if isinstance(data, str) else urllib.parse.urlencode(data)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}", "Content-Type": "application/x-www-form-urlencoded"}


def _graphql(base: str, token: str, query: str) -> dict:
    status, body = _post(
        f"{base}/graphql/",
        json.dumps({"query": query}),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 200
    return body


@pytest.mark.django_db(transaction=True)
def test_client_credentials_flow_over_http(live_server, capsys):
    call_command("api_client_create", "billing-system", "--scopes", "billing:read billing:write")
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)
    base = live_server.url

    status, token = _post(
        f"{base}/o/token/",
        {"grant_type": "client_credentials"},
        _basic(printed["client_id"], printed["client_secret"]),
    )
    assert status == 200
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert set(token["scope"].split()) == {"billing:read", "billing:write"}

    created = _graphql(
        base,
        token["access_token"],
        'mutation { customerCreate(input: {accountNumber: "HTTP-1", name: "Over HTTP"}) '
        "{ ... on Customer { accountNumber } } }",
    )
    assert created == {"data": {"customerCreate": {"accountNumber": "HTTP-1"}}}

    status, _ = _post(
        f"{base}/o/revoke_token/",
        {"token": token["access_token"]},
        _basic(printed["client_id"], printed["client_secret"]),
    )
    assert status == 200
    after = _graphql(base, token["access_token"], '{ customer(accountNumber: "HTTP-1") { name } }')
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db(transaction=True)
def test_a_client_cannot_obtain_scopes_it_was_not_granted(live_server, make_api_client):
    client, secret = make_api_client("billing:read")
    headers = _basic(client.application.client_id, secret)

    status, body = _post(
        f"{live_server.url}/o/token/",
        {"grant_type": "client_credentials", "scope": "billing:read billing:write"},
        headers,
    )
    default_status, default = _post(
        f"{live_server.url}/o/token/", {"grant_type": "client_credentials"}, headers
    )

    assert (status, body.get("error")) == (400, "invalid_scope")
    assert default_status == 200
    assert default["scope"] == "billing:read"


@pytest.mark.django_db(transaction=True)
def test_a_wrong_secret_gets_no_token(live_server, make_api_client):
    client, _secret = make_api_client("billing:read")

    status, body = _post(
        f"{live_server.url}/o/token/",
        {"grant_type": "client_credentials"},
        _basic(client.application.client_id, "wrong"),
    )

    assert (status, body.get("error")) == (401, "invalid_client")


@pytest.mark.django_db
def test_api_client_create_refuses_unknown_scopes_and_names_them():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scopes: billing:admin"):
        call_command("api_client_create", "x", "--scopes", "billing:admin")
    assert not ApiClient.objects.exists()
