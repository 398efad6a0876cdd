"""How the site names things the snapshot stores as codes (networks, subscores, sashes)."""

from __future__ import annotations

from urllib.parse import quote

NETWORKS = {
    "bluesky": "Bluesky",
    "facebook": "Facebook",
    "foursquare": "Foursquare",
    "googleplus": "Google+",
    "instagram": "Instagram",
    "khoros": "Khoros",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "wikipedia": "Wikipedia",
    "x": "X",
    "youtube": "YouTube",
}
SUBSCORES = {"reach": "reach", "amplification": "amplification", "network_impact": "network impact"}
SUBSCORE_ORDER = ("reach", "amplification", "network_impact")
# Formula v2's discounts: a score_discounts kind, and the subscore its move takes among the reasons
# (network 'all'), as the site names them.
DISCOUNTS = {
    "ring": "engagement-ring discount",
    "indiscriminate": "indiscriminate-reactor discount",
    "kplus_clique": "+K-clique discount",
}
DISCOUNT_ORDER = ("ring", "indiscriminate", "kplus_clique")
DISCOUNT_REASONS = {
    "ring_discount": DISCOUNTS["ring"],
    "indiscriminate_reactors": DISCOUNTS["indiscriminate"],
    "kplus_clique": DISCOUNTS["kplus_clique"],
}
KPLUS = "accepted +K"  # +K's points: a reason's subscore 'kplus' (network 'all'), a line beside the subscores
SASHES = {"gold": "gold", "blue": "blue", "blue_and_gold": "blue and gold"}


def network_name(code: str) -> str:
    """A network's display name; an unknown one (a file import) keeps its code, capitalised."""
    return NETWORKS.get(code, code[:1].upper() + code[1:])


def subscore_name(code: str) -> str:
    return SUBSCORES.get(code, code.replace("_", " "))


def discount_name(kind: str) -> str:
    """A score_discounts kind's name, e.g. 'engagement-ring discount'."""
    return DISCOUNTS.get(kind, kind.replace("_", " ") + " discount")


def sash_name(code: str | None) -> str | None:
    """None (and the leaderboards' 'none') mean no sash."""
    if code is None or code == "none":
        return None
    return SASHES.get(code, code.replace("_", " "))


def signed_points(value: float | None) -> str:
    """'+1.20' / '-0.35' / '0.00': a move in score points, always with its sign."""
    if value is None:
        return "new"
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def reason_text(points: float, network: str, subscore: str) -> str:
    """'+1.20 points from Bluesky reach', or for a discount's move (network 'all'), which is
    counterfactual: '-4.10 points from the engagement-ring discount'."""
    if network == "all" and subscore in DISCOUNT_REASONS:
        return f"{signed_points(points)} points from the {DISCOUNT_REASONS[subscore]}"
    if network == "all" and subscore == "kplus":
        return f"{signed_points(points)} points from {KPLUS}"
    return f"{signed_points(points)} points from {network_name(network)} {subscore_name(subscore)}"


def person_path(person_id: str) -> str:
    """A profile's URL path: ids may hold colons (kept) but never a raw '/', '?' or '#'."""
    return "/people/" + quote(person_id, safe=":")


def topic_path(slug: str) -> str:
    return "/topics/" + quote(slug, safe="")


def perk_path(campaign_id: str) -> str:
    return "/perks/" + quote(campaign_id, safe=":")
