import time

import pytest


@pytest.fixture(scope="module")
def session_token():
    # Stands in for a login an API suite does once per module.
    time.sleep(0.05)
    return "token-123"
