"""The organisation's own skills in a service's catalogue, kept current by every replica.

Profiles publishes each definition on a compacted topic; every replica of a service that
names skills reads all of it, with no consumer group, from its start, so each process's
catalogue (the one `default_catalogue()` returns) holds the whole organisation layer.
"""

from __future__ import annotations

from peerloop_contracts.organisation_skills import OrganisationLayer
from peerloop_contracts.skills import SkillCatalogue, default_catalogue
from peerloop_contracts.states import OrganisationSkillDefined

from peerloop_runtime.service import ServiceRuntime


def follow_organisation_skills(
    runtime: ServiceRuntime, catalogue: SkillCatalogue | None = None
) -> OrganisationLayer:
    """Adds the every-replica consumer; the layer it returns applies what it reads."""
    layer = OrganisationLayer(catalogue if catalogue is not None else default_catalogue())
    runtime.add_consumer(
        {OrganisationSkillDefined: layer.on_record}, group="skills", every_replica=True
    )
    return layer
