"""The landing pages: `/` and `/api/v1/` (where the browsable API goes after sign-in)."""


def test_home_links_every_face_of_streamhook_and_each_link_answers(db, client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for href in ["/portal/", "/dashboard/", "/api/docs/", "/admin/", "/healthz"]:
        assert f'href="{href}"' in html, href
    for href in ["/dashboard/", "/api/docs/", "/admin/"]:
        assert client.get(href).status_code in (200, 302), href  # 302: to sign in


def test_home_hides_the_admin_link_from_tenant_people_who_could_not_use_it(client, tenant_ctx):
    client.force_login(tenant_ctx.owner)
    html = client.get("/").content.decode()
    assert 'href="/admin/"' not in html and 'href="/dashboard/"' in html


def test_api_root_is_where_sign_in_lands_and_lists_every_collection(client, tenant_ctx, settings):
    assert client.get("/api/v1/", HTTP_ACCEPT="application/json").status_code == 401
    client.login(username="owner@acme.test", password="pw-acme-123")
    body = client.get(settings.LOGIN_REDIRECT_URL, HTTP_ACCEPT="application/json").json()
    assert body["tenant"]["slug"] == "acme"
    assert {"tenant", "token", "webhook", "stream", "recording"} <= set(body["links"])
    assert body["links"]["webhook"] == "http://testserver/api/v1/webhooks"
    for url in body["links"].values():  # every link works for this user
        assert client.get(url, HTTP_ACCEPT="application/json").status_code == 200, url
