"""Every service that names skills follows the organisation's definitions the same way."""

from __future__ import annotations

from peerloop_contracts.envelope import CloudEventMeta
from peerloop_contracts.skills import Skill, SkillCatalogue
from peerloop_contracts.states import OrganisationSkillDefined
from peerloop_runtime.organisation_skills import follow_organisation_skills
from peerloop_runtime.service import ServiceRuntime
from peerloop_runtime.settings import ServiceSettings

META = CloudEventMeta(source="test", type="test", subject="acme-ledger")


async def test_a_definition_read_from_the_topic_names_the_skill_in_this_process() -> None:
    runtime = ServiceRuntime(name="probe", settings=ServiceSettings())
    catalogue = SkillCatalogue([Skill("accounting", "Accounting", (), ())])
    layer = follow_organisation_skills(runtime, catalogue)
    [consumer] = runtime.consumers
    assert consumer.every_replica  # no group: each replica reads every definition
    assert catalogue.display_name("acme-ledger") == "acme-ledger"
    record = OrganisationSkillDefined(
        skill_id="acme-ledger", name="Acme Ledger", aliases=["ledger"], sequence=1
    )
    await consumer.handlers[OrganisationSkillDefined](record, META)
    assert catalogue.display_name("acme-ledger") == "Acme Ledger"
    assert catalogue.canonical("ledger") == "acme-ledger"
    assert layer.catalogue is catalogue
