import time

import pytest

pytestmark = pytest.mark.api


@pytest.mark.smoke
def test_create_order(session_token):
    time.sleep(0.1)
    assert session_token.startswith("token")


@pytest.mark.parametrize("quantity", [1, 2, 5, 10])
def test_order_quantity(session_token, quantity):
    time.sleep(0.05)
    assert quantity * 2 >= quantity


@pytest.mark.slow
def test_bulk_order(session_token):
    time.sleep(0.8)
    assert True
