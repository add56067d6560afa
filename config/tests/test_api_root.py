"""The landing pages: `/` and `/api/v1/` (where the browsable API goes after sign-in)."""


def test_home_sends_people_to_the_api_docs(db, client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/api/docs/"


def test_api_root_is_where_sign_in_lands_and_lists_every_collection(client, tenant_ctx, settings):
    assert client.get("/api/v1/", HTTP_ACCEPT="application/json").status_code == 401
    client.login(username="owner@acme.test", password="pw-acme-123")
    body = client.get(settings.LOGIN_REDIRECT_URL, HTTP_ACCEPT="application/json").json()
    assert body["tenant"]["slug"] == "acme"
    assert {"tenant", "token", "webhook", "stream", "recording"} <= set(body["links"])
    assert body["links"]["webhook"] == "http://testserver/api/v1/webhooks"
    for url in body["links"].values():  # every link works for this user
        assert client.get(url, HTTP_ACCEPT="application/json").status_code == 200, url
