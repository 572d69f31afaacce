"""Related skills count both ways, whichever side the catalogue lists them on."""

from __future__ import annotations

from peerloop_contracts.skills import Skill, SkillCatalogue, default_catalogue
from peerloop_matching.bootstrap import related_both_ways


def test_a_one_way_relation_is_used_both_ways():
    catalogue = SkillCatalogue(
        [Skill("pandas", "pandas", (), ("python",)), Skill("python", "Python", (), ())]
    )
    related = related_both_ways(catalogue)
    assert related("python") == ("pandas",)
    assert related("pandas") == ("python",)
    assert related("unknown-skill") == ()


def test_the_shipped_catalogue_relates_python_and_django():
    related = related_both_ways(default_catalogue())
    assert "django" in related("python") and "python" in related("django")


def test_an_organisation_skill_defined_later_is_related_both_ways_without_a_rebuild():
    catalogue = SkillCatalogue([Skill("accounting", "Accounting", (), ())])
    related = related_both_ways(catalogue)
    assert related("accounting") == ()
    catalogue.define(Skill("acme-ledger", "Acme Ledger", ("ledger",), ("accounting",)))
    assert related("accounting") == ("acme-ledger",)
    catalogue.undefine("acme-ledger")
    assert related("accounting") == ()
