"""The admin presents itself as Placemap's moderation console, not Django's default."""


def test_the_console_is_branded_as_placemap_s_moderation_console(staff_moderator_browser):
    page = staff_moderator_browser.get("/admin/").content.decode()

    assert "Placemap moderation console" in page
    assert "<title>Moderation | Placemap</title>" in page
    assert "Django administration" not in page


def test_the_login_page_is_branded_too(client):
    page = client.get("/admin/login/").content.decode()

    assert "Placemap moderation console" in page
    assert "Django administration" not in page
