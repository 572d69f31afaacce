"""The service's graph built with the in-memory stores: the use cases and consumers at memory speed."""

from __future__ import annotations

from matching_fakes import META, offered, registered
from peerloop_contracts.matching import HelpRequested
from peerloop_matching.adapters.memory_candidates import InMemoryCandidates
from peerloop_matching.adapters.memory_pairing_blocks import InMemoryPairingBlocks
from peerloop_matching.adapters.memory_programmes import InMemoryProgrammes
from peerloop_matching.adapters.memory_requests import InMemoryHelpRequests
from peerloop_matching.application.help_requests import NewHelpRequest
from peerloop_matching.bootstrap import bootstrap
from peerloop_matching.config import Settings


async def test_the_graph_reads_and_writes_through_the_stores_passed_in() -> None:
    candidates, requests = InMemoryCandidates(), InMemoryHelpRequests()
    service = bootstrap(
        Settings(),
        candidates=candidates,
        requests=requests,
        programmes=InMemoryProgrammes(),
        blocks=InMemoryPairingBlocks(),
    )
    assert (service.candidates, service.request_store) == (candidates, requests)

    await service.projection.on_profile(registered("lea"), META)
    await service.projection.on_profile(registered("tom"), META)
    await service.projection.on_skill_offered(offered("tom", "python"), META)
    await service.sync.refresh()
    asked = await service.help_requests.create(NewHelpRequest("lea", "python", 2, "a test"))
    requested = requests.events(asked.request_id)[0]
    assert isinstance(requested, HelpRequested)
    await service.help_requests.on_help_requested(requested, META)

    matched = await requests.load(asked.request_id)
    assert matched is not None
    assert (matched.state, matched.proposals[-1].helper_id) == ("proposed", "tom")
    assert {"lea", "tom"} <= set(candidates.docs)


def test_the_consumers_are_registered_once_each_in_their_own_group() -> None:
    service = bootstrap(
        Settings(), candidates=InMemoryCandidates(), requests=InMemoryHelpRequests()
    )
    groups = [(c.group_id, c.every_replica) for c in service.runtime.consumers]
    assert groups == [
        ("peerloop-matching.candidates", False),
        ("peerloop-matching.requests", False),
        ("peerloop-matching.programmes", False),
        ("peerloop-matching.skills", True),  # each replica reads every skill definition
    ]
