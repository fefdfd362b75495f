import pytest
from werkzeug.routing import Map


@pytest.fixture
def app(app):
    rules = [r.empty() for r in app.url_map.iter_rules() if r.endpoint not in ("pages.my_declaration", "pages.party")]
    app.url_map = Map(rules, strict_slashes=app.url_map.strict_slashes, converters=app.url_map.converters)
    return app

from tests.online.test_online_voter import test_my_declaration_shows_the_status_and_void_when_there_are_two  # noqa
from tests.party.test_party_pages import test_the_index_lists_only_the_agents_own_lists  # noqa
