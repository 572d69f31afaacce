import pytest
from peerloop_contracts.skills import default_catalogue, normalise


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("k8s", "kubernetes"),
        ("  Kubernetes ", "kubernetes"),
        ("K8S", "kubernetes"),
        ("Spring Boot", "spring"),
        ("golang", "go"),
        ("Postgres", "postgresql"),
        ("Node.js", "nodejs"),
        ("Event Sourcing", "event-driven-design"),
        ("Our Billing DSL", "our-billing-dsl"),  # in-house skills pass through, normalised
        ("C#", "c#"),
    ],
)
def test_canonical_ids(text: str, canonical: str):
    assert default_catalogue().canonical(text) == canonical


@pytest.mark.parametrize("text", ["", "   ", "!!!"])
def test_empty_names_are_rejected(text: str):
    with pytest.raises(ValueError, match="not a skill name"):
        normalise(text)


def test_catalogue_is_consistent():
    cat = default_catalogue()
    assert len(cat) >= 40
    for skill_id in cat.ids():
        for related in cat.related(skill_id):
            assert cat.known(related), f"{skill_id} names unknown related skill {related}"
    assert cat.display_name("kubernetes") == "Kubernetes"
