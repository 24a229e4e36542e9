# The loopback servers, until the root conftest registers tests.support.fixtures for all.
from tests.support.fixtures import fake_twilio, smtp_server  # noqa: F401
