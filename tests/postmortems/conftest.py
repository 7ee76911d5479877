import pytest

from nexusops.common import roles
from tests.factories import ProfileFactory, UserFactory


@pytest.fixture
def ic(db):
    user = UserFactory(username="iris", first_name="Iris", role=roles.INCIDENT_COMMANDER)
    ProfileFactory(user=user)
    return user


@pytest.fixture
def manager(db):
    return UserFactory(username="mona", first_name="Mona", role=roles.MANAGER)


@pytest.fixture
def other_manager(db):
    return UserFactory(username="max", first_name="Max", role=roles.MANAGER)


@pytest.fixture
def stakeholder(db):
    return UserFactory(username="sam", role=roles.STAKEHOLDER)


@pytest.fixture
def responder(db):
    return UserFactory(username="rory", first_name="Rory", role=roles.RESPONDER)
