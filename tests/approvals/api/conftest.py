"""Pipelines and people calling the approvals API with their own personal tokens: alice
(member, requester, author of the versions), carol and dave (named approvers), bob (in
another team)."""

import pytest
from rest_framework.test import APIClient

from registry.services import token_create


@pytest.fixture
def token_client():
    def make(user):
        _, secret = token_create(actor=user, name="pipeline")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def alice(token_client, member):
    return token_client(member)


@pytest.fixture
def carol(token_client, approver):
    return token_client(approver)


@pytest.fixture
def dave(token_client, second_approver):
    return token_client(second_approver)


@pytest.fixture
def bob(token_client, outsider):
    return token_client(outsider)


@pytest.fixture
def requests_url():
    def url(version):
        return f"/api/models/{version.model.name}/versions/{version.number}/transition-requests/"

    return url


@pytest.fixture
def gates_url():
    def url(version, stage):
        return f"/api/models/{version.model.name}/versions/{version.number}/gates/?stage={stage}"

    return url
