"""Two people in two browsers close the whole loop through the web app."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from peerloop_cli.identity import Tokens
from peerloop_cli.platform import WEB, Deployment
from peerloop_cli.realm import DEMO_PASSWORD
from playwright.async_api import Browser, BrowserContext, Page, expect

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
_axe = Axe()


async def sign_in(context: BrowserContext, base_url: str, person_id: str) -> Page:
    """Through the real Keycloak login page, as a person would."""
    page = await context.new_page()
    await page.goto(f"{base_url}/login")
    await page.fill("#username", person_id)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("#kc-login")
    await page.wait_for_url(f"{base_url}/**")
    return page


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = await _axe.run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


async def check_page(page: Page, shots: Path, name: str) -> None:
    """No serious or critical axe-core finding; a screenshot at desktop and at phone width."""
    problems = await serious_violations(page)
    assert not problems, f"{name}: {problems}"
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


pytestmark = pytest.mark.timeout(240)


async def _register_helper(deployment: Deployment, tokens: Tokens, helper: str, skill: str) -> None:
    await tokens.ensure_person(helper, email=f"{helper}@example.com", name=f"Helper {helper}")
    async with httpx.AsyncClient(timeout=30, auth=tokens.as_person(helper)) as http:
        made = await http.post(
            f"{deployment.url('profiles')}/people",
            json={
                "person_id": helper,
                "display_name": f"Hana {helper[-4:]}",
                "email": f"{helper}@example.com",
                "team": "platform",
                "time_zone": "Europe/Berlin",
                "weekly_capacity": 3,
            },
        )
        assert made.status_code == 201, made.text
        offered = await http.post(
            f"{deployment.url('profiles')}/people/{helper}/skills",
            json={"skill": skill, "level": 4, "description": "glad to help", "weekly_capacity": 2},
        )
        assert offered.status_code in (200, 201), offered.text


async def _create_profile(page: Page, base: str, shots: Path) -> None:
    await expect(page).to_have_url(f"{base}/welcome")
    await page.fill("#email", "not-an-email")
    await page.fill("#team", "data")
    await page.click("button:has-text('Create my profile')")
    # The service's refusal is shown next to the field, and what was typed stays.
    await expect(page.locator("#email-error")).to_be_visible()
    await expect(page.locator("#team")).to_have_value("data")
    await check_page(page, shots, "welcome-with-error")
    learner = page.url  # noqa: F841 - kept for debugging a failed run
    await page.fill("#email", "learner@example.com")
    await page.fill("#time_zone", "Europe/Berlin")
    await page.click("button:has-text('Create my profile')")
    await expect(page).to_have_url(f"{base}/")


async def _ask(page: Page, base: str, skill: str, shots: Path) -> str:
    await page.click("nav >> text=Ask for help")
    await check_page(page, shots, "ask")
    # Bad input first: no task. The message sits by the field; the skill typed stays.
    await page.fill("#skill", skill)
    await page.click("#ask-form button[type=submit]")
    await expect(page.locator("#task-error")).to_be_visible()
    await expect(page.locator("#task")).to_be_focused()
    await expect(page.locator("#skill")).to_have_value(skill)
    await check_page(page, shots, "ask-with-error")
    await page.fill("#task", "Our nightly import keeps timing out; I need a second pair of eyes.")
    await page.select_option("#level", "2")
    # Asked twice at once (a double click that got past the button): one request.
    urls = await page.evaluate(
        """async () => {
            const form = document.getElementById('ask-form');
            const send = () => fetch('/ask', {method: 'POST', body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map(a => a.url);
        }"""
    )
    assert len(set(urls)) == 1 and "/requests/" in urls[0], urls
    await page.goto(urls[0])
    return str(urls[0].rsplit("/", 1)[-1])


@pytest.mark.asyncio(loop_scope="session")
async def test_two_people_close_the_loop(
    web_deployment: Deployment, tokens: Tokens, browser: Browser, shots_dir: Path
) -> None:
    base = web_deployment.url(WEB)
    tag = uuid.uuid4().hex[:6]
    learner, helper, skill = f"wl-{tag}", f"wh-{tag}", f"web-skill-{tag}"
    await tokens.ensure_person(learner, email=f"{learner}@example.com", name=f"Lea {tag}")
    await _register_helper(web_deployment, tokens, helper, skill)

    learner_ctx = await browser.new_context(viewport=DESKTOP)
    helper_ctx = await browser.new_context(viewport=DESKTOP)
    try:
        # The helper waits on Home; the proposal must arrive there without a reload.
        hp = await sign_in(helper_ctx, base, helper)
        await expect(hp).to_have_url(f"{base}/")
        await hp.evaluate("window.__notReloaded = true")

        lp = await sign_in(learner_ctx, base, learner)
        await _create_profile(lp, base, shots_dir)
        await check_page(lp, shots_dir, "home-empty")
        request_id = await _ask(lp, base, skill, shots_dir)
        await expect(lp.locator("#request-state")).to_be_visible()

        proposal_link = hp.locator("#proposals-for-me a")
        await expect(proposal_link).to_be_visible(timeout=45_000)
        assert await hp.evaluate("window.__notReloaded === true"), "the helper's page reloaded"
        # Only the live stream counts up the badge: the proposal came through it.
        await expect(hp.locator("#unread-count")).not_to_have_text("0")
        await check_page(hp, shots_dir, "home-with-proposal")

        # The learner's request page shows who is asked and why, live.
        await expect(lp.locator("#asked-now")).to_be_visible(timeout=15_000)
        await expect(lp.locator(".why .bar").first).to_be_attached()
        await check_page(lp, shots_dir, "request")

        await proposal_link.click()
        await expect(hp.locator("#proposal-task")).to_contain_text("nightly import")
        await expect(hp.locator("figure.why")).to_contain_text("Why we asked you")
        assert await hp.locator(".why .bar").count() >= 5
        await check_page(hp, shots_dir, "proposal")
        # A time typed is the helper's own (Europe/Berlin), and shown back as such.
        await hp.fill("#scheduled_at", "2027-01-05T10:30")
        await hp.click("button:has-text('Accept')")
        await expect(hp).to_have_url(f"{base}/requests/{request_id}/session")
        await expect(hp.locator("main")).to_contain_text("Planned for Tue 05 Jan 2027, 10:30 (CET)")

        # Bad input on the session form: the message shows and the input stays.
        await hp.fill("#duration_minutes", "forty")
        await hp.click("button:has-text('Confirm')")
        await expect(hp.locator("#duration_minutes-error")).to_be_visible()
        await expect(hp.locator("#duration_minutes")).to_have_value("forty")
        await check_page(hp, shots_dir, "session-with-error")
        await hp.fill("#duration_minutes", "40")
        await hp.click("button:has-text('Confirm')")
        await expect(hp.locator("#confirmed")).to_be_visible()

        await lp.goto(f"{base}/requests/{request_id}/session")
        await check_page(lp, shots_dir, "session")
        await lp.fill("#duration_minutes", "40")
        await lp.click("button:has-text('Confirm')")
        # Feedback: without a rating it is refused and the words typed stay.
        await lp.fill("#comment", "Patient and clear, thank you!")
        await lp.click("button:has-text('Send feedback')")
        await expect(lp.locator("#rating-error")).to_be_visible()
        await expect(lp.locator("#comment")).to_have_value("Patient and clear, thank you!")
        await lp.check("input[name=rating][value='5']")
        await lp.click("button:has-text('Send feedback')")
        await expect(lp.locator("#rated")).to_contain_text("5 of 5")
        # The helper, who confirmed first and waited, is shown the feedback form by itself.
        await expect(hp.locator("#h-feedback")).to_be_visible(timeout=20_000)

        # Having learned it, the learner is invited to teach it on, and offers it in one click.
        await lp.goto(f"{base}/")
        offer = lp.locator(".teach-back button")
        for _ in range(60):
            if await offer.count():
                break
            await asyncio.sleep(0.5)
            if _ % 10 == 9:
                await lp.reload()
        await expect(offer).to_be_visible()
        await check_page(lp, shots_dir, "home-teach-back")
        await offer.click()
        await expect(lp).to_have_url(re.compile(rf"{re.escape(base)}/profile"))
        await expect(lp.locator("#offered-skills")).to_contain_text(skill)
        await check_page(lp, shots_dir, "profile")

        # Bad input on the profile: a capacity that is no number; the message shows, the
        # words typed stay.
        await lp.fill("#offer-skill", "Go")
        await lp.fill("#offer-capacity", "lots")
        await lp.fill("#offer-description", "goroutines and channels")
        await lp.click("button:has-text('Offer this skill')")
        await expect(lp.locator("#weekly_capacity-error")).to_be_visible()
        await expect(lp.locator("#offer-description")).to_have_value("goroutines and channels")
        await check_page(lp, shots_dir, "profile-with-error")
        # The rest of the profile: a learning goal, an away period, the daily digest.
        await lp.fill("#goal-skill", "k8s")
        await lp.select_option("#goal-level", "3")
        await lp.click("button:has-text('Add goal')")
        await expect(lp.locator(".flash")).to_contain_text("Learning goal saved")
        await expect(lp.locator("section[aria-labelledby=goals]")).to_contain_text("Kubernetes")
        await lp.fill("#away_start", "2027-01-04")
        await lp.fill("#away_end", "2027-01-08")
        await lp.click("button:has-text('Save availability')")
        await expect(lp.locator(".flash")).to_contain_text("Availability saved")
        await expect(lp.locator("input[name=keep_away]")).to_have_value("2027-01-04/2027-01-08")
        await lp.check("input[name=digest]")
        await lp.click("button:has-text('Save preferences')")
        await expect(lp.locator(".flash")).to_contain_text("preferences saved")
        await expect(lp.locator("input[name=digest]")).to_be_checked()

        await lp.goto(f"{base}/inbox")
        await expect(lp.locator(".inbox li").first).to_be_visible()
        await check_page(lp, shots_dir, "inbox")
        unread = await lp.locator(".inbox li.unread").count()
        assert unread >= 1
        await lp.locator(".inbox li.unread button:has-text('Mark read')").first.click()
        await expect(lp.locator(".inbox li.unread")).to_have_count(unread - 1)
        await lp.goto(f"{base}/people?offers={skill}")
        await expect(lp.locator("table.people")).to_contain_text("Hana")
        await check_page(lp, shots_dir, "people")

        # Signing out ends the provider's session too: the next visit asks for the password.
        await lp.click("button:has-text('Sign out')")
        await expect(lp).to_have_url(f"{base}/signed-out")
        await check_page(lp, shots_dir, "signed-out")
        await lp.goto(f"{base}/")
        await expect(lp.locator("#kc-login")).to_be_visible()
    finally:
        await learner_ctx.close()
        await helper_ctx.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_after_a_decline_the_learner_sees_who_is_asked_next(
    web_deployment: Deployment, tokens: Tokens, browser: Browser, shots_dir: Path
) -> None:
    base = web_deployment.url(WEB)
    tag = uuid.uuid4().hex[:6]
    learner, skill = f"wl-{tag}", f"web-skill-{tag}"
    helpers = [f"wh-{tag}-a", f"wh-{tag}-b"]
    await tokens.ensure_person(learner, email=f"{learner}@example.com", name=f"Lea {tag}")
    for helper in helpers:
        await _register_helper(web_deployment, tokens, helper, skill)
    async with httpx.AsyncClient(timeout=30, auth=tokens.as_person(learner)) as http:
        made = await http.post(
            f"{web_deployment.url('profiles')}/people",
            json={
                "person_id": learner,
                "display_name": f"Lea {tag}",
                "email": f"{learner}@example.com",
                "team": "data",
                "time_zone": "Europe/Berlin",
            },
        )
        assert made.status_code == 201, made.text

    learner_ctx = await browser.new_context(viewport=DESKTOP)
    helper_ctx = await browser.new_context(viewport=DESKTOP)
    try:
        lp = await sign_in(learner_ctx, base, learner)
        # The keyboard comes first: Tab reaches the skip link, then the navigation.
        await lp.goto(f"{base}/ask")
        await lp.keyboard.press("Tab")
        assert await lp.evaluate("document.activeElement.className") == "skip"
        await lp.fill("#task", "Which index makes this report fast?")
        await lp.fill("#skill", skill)
        await lp.click("#ask-form button[type=submit]")
        await expect(lp.locator("#asked-now")).to_be_visible(timeout=30_000)
        first = await lp.locator("#asked-now strong").inner_text()
        first_helper = next(h for h in helpers if first.endswith(h[-4:]))
        other = next(h for h in helpers if h != first_helper)

        hp = await sign_in(helper_ctx, base, first_helper)
        await hp.locator("#proposals-for-me a").click()
        await hp.fill("#decline-reason", "On holiday this week")
        await hp.click("button:has-text('Decline')")
        await expect(hp.locator(".flash")).to_contain_text("We ask the next person")

        # Live on the learner's page: the decline with its reason, and who is asked now.
        await expect(lp.locator("#asked-now strong")).to_have_text(
            f"Hana {other[-4:]}", timeout=30_000
        )
        await expect(lp.locator("#request-live")).to_contain_text("On holiday this week")
        await check_page(lp, shots_dir, "request-after-decline")
    finally:
        await learner_ctx.close()
        await helper_ctx.close()
