"""Error pages speak the user's language: a bad `?sort=`, a page number, a right the role
lacks say why in Chinese on a Chinese page, while the API keeps the contract's English."""

from __future__ import annotations

import re
from html import unescape

from metabiz.platform.auth import create_token
from metabiz.platform.db import writer
from metabiz.platform.web.error_texts import page_detail


def page(client, path: str, status: int) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return unescape(response.get_data(as_text=True))


def test_list_errors_on_a_chinese_page_are_chinese(client):
    sort = page(client, "/o/opportunity?sort=nope&lang=zh", 400)
    assert "无法处理该请求" in sort and "无法按 'nope' 排序：没有该字段。" in sort
    assert "cannot sort by" not in sort
    paged = page(client, "/o/opportunity?page=x", 400)
    assert "参数 page 必须是整数。" in paged and "must be a whole number" not in paged
    small = page(client, "/o/opportunity?page=0", 400)
    assert "参数 page 必须介于 1 和" in small


def test_the_same_errors_stay_english_on_an_english_page(client):
    sort = page(client, "/o/opportunity?sort=nope&lang=en", 400)
    assert "cannot sort by 'nope': no such field on opportunity" in sort
    assert "无法" not in sort


def test_a_missing_right_is_said_in_chinese(client):
    denied = page(client, "/o/account/new?lang=zh", 403)
    assert "您没有权限执行此操作" in denied and "您的角色无权新建该对象的记录。" in denied
    assert "you may not" not in denied


def test_an_unknown_message_gets_a_chinese_sentence_and_keeps_the_english_aside(client):
    bad = page(client, "/o/opportunity?filter=nope%20%2B&lang=zh", 400)
    assert "筛选公式无法使用：" in bad
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', bad)[1]
    put = client.put("/o/opportunity", headers={"X-CSRF-Token": token})  # Werkzeug's 405
    said = unescape(put.get_data(as_text=True))
    assert put.status_code == 405
    assert "此地址不能以这种方式使用。" in said and "The method is not allowed" not in said
    detail, original = page_detail("a message nobody translated", 409, "zh")
    assert detail == "记录当前的状态不允许此操作。" and original == "a message nobody translated"
    assert page_detail("a message nobody translated", 409, "en") == \
        ("a message nobody translated", "")


def test_the_api_keeps_its_english_messages(app, sales):
    with writer(sales).begin() as conn:
        token = create_token(conn, "alice")
    client = app.test_client()
    response = client.get("/api/v1/records/opportunity?sort=nope",
                          headers={"Authorization": f"Bearer {token}",
                                   "Accept-Language": "zh"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == \
        "cannot sort by 'nope': no such field on opportunity"
