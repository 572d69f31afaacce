from collections import Counter

from peerloop_cli.demo_data import build_organisation
from peerloop_contracts.skills import default_catalogue


def test_demo_organisation_is_realistic_and_deterministic():
    org = build_organisation()
    assert org == build_organisation()
    assert len(org.people) == 200
    teams = Counter(p.team for p in org.people)
    assert len(teams) == 10 and min(teams.values()) == 20
    assert len({p.time_zone for p in org.people}) >= 6
    assert len({p.person_id for p in org.people}) == 200
    assert len({p.email for p in org.people}) == 200


def test_every_offer_is_a_catalogue_skill_with_valid_level():
    catalogue = default_catalogue()
    for person in build_organisation().people:
        assert person.offers
        for offer in person.offers:
            assert catalogue.known(offer.skill_id)
            assert 1 <= offer.level <= 5


def test_open_requests_come_from_people_who_need_the_skill():
    org = build_organisation()
    assert len(org.requests) >= 3
    for request in org.requests:
        requester = org.person(request.requester_id)
        assert request.skill_id not in {o.skill_id for o in requester.offers}
        helpers = [p for p in org.people if any(o.skill_id == request.skill_id for o in p.offers)]
        assert helpers, f"nobody offers {request.skill_id}"
