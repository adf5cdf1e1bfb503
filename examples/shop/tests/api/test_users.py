import time

import pytest

pytestmark = pytest.mark.api


@pytest.mark.smoke
def test_login(session_token):
    time.sleep(0.1)
    assert session_token


@pytest.mark.parametrize("name", ["ada", "grace", "linus"])
def test_profile(name):
    time.sleep(0.05)
    assert name.isalpha()


@pytest.mark.skip(reason="feature flag off")
def test_delete_user():
    pass
