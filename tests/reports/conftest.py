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
