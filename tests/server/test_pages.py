"""Back-office pages: sign-in with CSRF, throttling, language, safe redirects, error pages."""

from __future__ import annotations

from tests.server.conftest import PASSWORD, csrf_token, login


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_login_page_is_chinese_by_default_with_an_english_switch(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "用户名" in html
    token = csrf_token(client)
    client.post("/lang/en", data={"csrf_token": token, "next": "/login"})
    english = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in english and "Username" in english


def test_the_login_page_has_landmarks_and_labelled_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for landmark in ('role="banner"', "<main", 'role="contentinfo"', 'class="skip-link"'):
        assert landmark in html
    assert '<label for="username">' in html and '<label for="password">' in html


def test_a_user_signs_in_and_sees_their_to_do_list(client, make_user):
    make_user("dispatcher", "zhao.min", display_name="赵敏")
    response = login(client, "zhao.min")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "赵敏" in html and "我的待办" in html and "调度员" in html


def test_a_form_post_without_the_csrf_token_is_refused(client, make_user):
    make_user("dispatcher", "zhao.min")
    response = client.post("/login", data={"username": "zhao.min", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_a_wrong_password_shows_the_form_again_with_a_message(client, make_user):
    make_user("dispatcher", "zhao.min")
    response = login(client, "zhao.min", "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_repeated_failures_lock_the_form_with_429(client, make_user):
    make_user("dispatcher", "zhao.min")
    for _ in range(5):
        login(client, "zhao.min", "wrong password")
    response = login(client, "zhao.min")
    assert response.status_code == 429


def test_signing_in_starts_a_fresh_session(client, make_user):
    make_user("dispatcher", "zhao.min")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "zhao.min")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")


def test_the_next_parameter_cannot_redirect_off_site(client, make_user):
    make_user("dispatcher", "zhao.min")
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            data={
                "username": "zhao.min",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        token = csrf_token(client)


def test_signing_out_needs_a_post_with_csrf_and_ends_the_session(client, make_user):
    make_user("dispatcher", "zhao.min")
    login(client, "zhao.min")
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_a_password_change_ends_existing_sessions(client, make_user, db_session):
    from server.accounts import operations as accounts

    make_user("dispatcher", "zhao.min")
    login(client, "zhao.min")
    accounts.set_password(db_session, "zhao.min", "a brand new password")
    db_session.commit()
    assert client.get("/").status_code == 302


def test_a_disabled_user_cannot_sign_in(client, make_user, db_session):
    from server.accounts import operations as accounts

    make_user("dispatcher", "zhao.min")
    accounts.set_active(db_session, "zhao.min", False)
    db_session.commit()
    assert login(client, "zhao.min").status_code == 401


def test_an_unknown_page_gets_a_chinese_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "此地址下没有找到内容" in response.get_data(as_text=True)


def test_security_headers_are_set(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = client.get_cookie("wangge_session")
    assert cookie is None or cookie.http_only
