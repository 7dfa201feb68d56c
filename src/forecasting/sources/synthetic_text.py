"""The synthetic shop's words: product names and descriptions, and customers' reviews.

Both carry signal on purpose, so the text features can be tested on generated data:

* **Product text.** Each category has product types ordered from slow to fast sellers; a
  product gets the type whose rank matches its demand level (with a little noise), so
  products with similar words have similar demand. Two words say more: ``ESSENTIAL`` marks
  the busiest products and ``COLLECTORS`` the intermittent slow movers. Colours, styles,
  materials and pack sizes ("SET OF 6") are noise. About a quarter of the products are
  near-duplicates of an earlier product of the same type (another colour), as real
  catalogues are.
* **Reviews.** A small share of completed order lines gets a review some days after the
  purchase, by the customer who bought it. The rating depends on the product's quality,
  which is the same quality that shows in its demand trend (better products grow); the
  title and body come from phrase banks of the reviewer's mood (the rating give or take a
  star), with a share of phrases taken from a neighbouring mood and neutral filler, so text
  and rating agree without the text being a lookup of the rating.

Everything here draws from its own random streams: the demand of the shop does not change
with the words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PRODUCT_TYPES", "draw_reviews", "product_quality", "product_texts"]

#: Product types per category, slowest to fastest sellers.
PRODUCT_TYPES: dict[str, tuple[str, ...]] = {
    "grocery": ("SPICE GRINDER", "TEA TIN", "CAKE CASES", "COFFEE PODS"),
    "home": ("WALL CLOCK", "PHOTO FRAME", "CANDLE HOLDER", "T-LIGHT"),
    "toys": ("DOLLS HOUSE", "JIGSAW PUZZLE", "PLAYING CARDS", "BALLOONS"),
    "apparel": ("RAIN COAT", "WOOL SCARF", "TOTE BAG", "ANKLE SOCKS"),
    "electronics": ("DESK LAMP", "BLUETOOTH SPEAKER", "PHONE CASE", "AA BATTERIES"),
}
_COLOURS = ("RED", "BLUE", "GREEN", "PINK", "IVORY", "BLACK", "PASTEL", "GOLD")
_STYLES = ("RETROSPOT", "VINTAGE", "SCANDI", "FLORAL", "POLKADOT", "RUSTIC", "MODERN", "")
_MATERIALS = ("cotton", "enamel", "ceramic", "recycled paper", "wood", "glass", "metal", "bamboo")
_PACKS = ("", "", "", "SET OF 2", "SET OF 3", "SET OF 6", "PACK OF 12")
_USES = {
    "grocery": "Perfect for the kitchen and for baking with friends.",
    "home": "Brightens up any living room or hallway.",
    "toys": "Hours of fun for children aged 3 and up.",
    "apparel": "Comfortable to wear every day, all year round.",
    "electronics": "Works with all common phones and laptops.",
}

# Phrase banks per rating 1..5: (titles, body sentences).
_TITLES: dict[int, tuple[str, ...]] = {
    1: ("Terrible", "Do not buy", "Waste of money", "Very disappointed", "Broke at once"),
    2: ("Not great", "Disappointing", "Poor quality", "Expected more", "Meh"),
    3: ("It is okay", "Average", "Does the job", "Fine for the price", "Mixed feelings"),
    4: ("Good buy", "Nice product", "Pretty good", "Happy with it", "Solid"),
    5: ("Excellent", "Love it", "Perfect", "Best purchase this year", "Absolutely brilliant"),
}
_BODIES: dict[int, tuple[str, ...]] = {
    1: (
        "It broke after one day.",
        "Awful quality, I want a refund.",
        "Nothing like the picture, cheap and flimsy.",
        "Arrived damaged and customer service never answered.",
        "Complete rubbish, returned it.",
    ),
    2: (
        "The colour faded quickly.",
        "Smaller than I expected and a bit cheap.",
        "It works but feels poorly made.",
        "Not worth the price in my opinion.",
        "One piece was missing from the box.",
    ),
    3: (
        "It does what it says, nothing special.",
        "Okay for the price, the finish could be better.",
        "Average quality, delivery was slow.",
        "Some good points and some bad ones.",
        "Fine, but I probably would not buy it again.",
    ),
    4: (
        "Good quality and arrived quickly.",
        "Nice design, my family likes it.",
        "Works well, only a small scratch on the side.",
        "Good value for money.",
        "Would recommend, although the packaging was poor.",
    ),
    5: (
        "Absolutely love it, great quality.",
        "Perfect gift, everyone was delighted.",
        "Excellent quality and fast delivery, will buy again.",
        "Beautiful and sturdy, exactly as described.",
        "Fantastic value, highly recommend it to everyone.",
    ),
}
_FILLER = (
    "Bought it last month.",
    "Ordered two of these.",
    "It came in a brown box.",
    "Delivery took about a week.",
    "I use it most days.",
    "",
)


def product_texts(
    category: np.ndarray, level: np.ndarray, planned: np.ndarray, seed: int
) -> tuple[list[str], list[str]]:
    """Names and descriptions whose words follow the products' demand levels.

    Args:
        category: Each product's category (a key of :data:`PRODUCT_TYPES`).
        level: Each product's demand level (any scale; only the ranks are used).
        planned: Whether each product is a planned launch; those are always
            near-duplicates of an earlier product of the same type, so their text
            neighbours exist.
        seed: Seed of the words' own random stream.

    Returns:
        The names (upper case, at most 255 characters) and descriptions (one to three
        sentences), one per product.
    """
    rng = np.random.default_rng(seed)
    n = len(category)
    rank = pd.Series(level).rank(method="first").to_numpy() - 1.0
    quantile = rank / max(n - 1, 1)
    names: list[str] = []
    descriptions: list[str] = []
    first_of_type: dict[str, int] = {}
    parts: list[tuple[str, str, str, str, str]] = []
    for i in range(n):
        types = PRODUCT_TYPES[str(category[i])]
        k = int(np.clip(np.floor(quantile[i] * len(types)), 0, len(types) - 1))
        if rng.random() < 0.15:  # noise: a neighbouring type
            k = int(np.clip(k + rng.choice([-1, 1]), 0, len(types) - 1))
        if planned[i] and types[k] not in first_of_type:
            # A planned launch is a new variant of a type the shop already sells.
            known = [j for j, t in enumerate(types) if t in first_of_type]
            if known:
                k = min(known, key=lambda j: abs(j - k))
        kind = types[k]
        colour = str(rng.choice(_COLOURS))
        style = str(rng.choice(_STYLES))
        pack = str(rng.choice(_PACKS))
        material = str(rng.choice(_MATERIALS))
        earlier = first_of_type.get(kind)
        if earlier is not None and (planned[i] or rng.random() < 0.25):
            # Near-duplicate of an earlier product of the same type: another colour.
            _, style, pack, material, _ = parts[earlier]
            used = {p[4] for p in parts if p[0] == kind}
            colour = str(rng.choice([c for c in _COLOURS if c not in used] or list(_COLOURS)))
        first_of_type.setdefault(kind, i)
        parts.append((kind, style, pack, material, colour))
        marker = ""
        if quantile[i] >= 0.75 and rng.random() < 0.9:
            marker = "ESSENTIAL"
        elif quantile[i] < 0.25 and rng.random() < 0.9:
            marker = "COLLECTORS"
        words = [pack, marker, colour, style, kind]
        names.append(" ".join(w for w in words if w))
        body = f"{kind.capitalize()} made of {material}."
        sentences = [body, _USES[str(category[i])]]
        if pack:
            sentences.append(f"Sold as a {pack.lower()}.")
        descriptions.append(" ".join(sentences))
    return names, descriptions


def product_quality(trend: np.ndarray, seed: int) -> np.ndarray:
    """Each product's quality: its demand trend standardised, plus noise.

    Better products grow (the generator's ``trend``), so quality and demand agree; the
    noise keeps ratings from being a function of the trend alone.

    Args:
        trend: Growth per year of each product's demand.
        seed: Seed of the noise's own random stream.

    Returns:
        One value per product, roughly standard normal.
    """
    rng = np.random.default_rng(seed)
    z = (trend - trend.mean()) / (trend.std() or 1.0)
    return 0.8 * z + 0.6 * rng.standard_normal(len(trend))


def draw_reviews(
    lines: pd.DataFrame,
    quality: pd.Series,
    last_day: pd.Timestamp,
    seed: int,
    share: float = 0.04,
) -> pd.DataFrame:
    """Reviews of a share of completed order lines, written after the purchase.

    Args:
        lines: Completed order lines with ``sku``, ``customer_id`` and ``ordered_at``
            (naive, the source's timezone).
        quality: Product quality indexed by SKU (:func:`product_quality`).
        last_day: Last day with orders; reviews written later are dropped (they are
            in the future of the data).
        seed: Seed of the reviews' own random stream.
        share: Share of lines that get a review.

    Returns:
        The ``product_reviews`` table: ``review_id``, ``sku``, ``customer_id``,
        ``rating`` (1..5), ``title``, ``body``, ``created_at`` (naive, the source's
        timezone, 3-30 days after the order), in ``created_at`` order.
    """
    rng = np.random.default_rng(seed)
    columns = ["review_id", "sku", "customer_id", "rating", "title", "body", "created_at"]
    picked = lines.loc[rng.random(len(lines)) < share].reset_index(drop=True)
    delay = pd.to_timedelta(rng.integers(3 * 86400, 30 * 86400, len(picked)), unit="s")
    created = picked["ordered_at"] + delay
    keep = (created < last_day.normalize() + pd.Timedelta(days=1)).to_numpy()
    picked, created = picked.loc[keep].reset_index(drop=True), created[keep].reset_index(drop=True)
    n = len(picked)
    if n == 0:
        return pd.DataFrame(columns=columns)
    mu = np.clip(3.7 + 0.9 * quality.reindex(picked["sku"]).fillna(0.0).to_numpy(), 1.2, 4.9)
    rating = np.clip(np.rint(mu + 0.9 * rng.standard_normal(n)), 1, 5).astype(np.int64)
    # The words follow the reviewer's mood, which is near the rating but not always on it.
    mood = np.clip(np.rint(rating + 0.6 * rng.standard_normal(n)), 1, 5).astype(np.int64)
    titles, bodies = [], []
    for r in mood:
        titles.append(_phrase(rng, _TITLES, int(r)))
        sentences = [_phrase(rng, _BODIES, int(r)) for _ in range(int(rng.integers(1, 3)))]
        sentences = list(dict.fromkeys(sentences))  # a sentence once
        sentences.insert(int(rng.integers(0, len(sentences) + 1)), str(rng.choice(_FILLER)))
        bodies.append(" ".join(s for s in sentences if s))
    reviews = pd.DataFrame(
        {
            "sku": picked["sku"].to_numpy(),
            "customer_id": picked["customer_id"].to_numpy(),
            "rating": rating,
            "title": titles,
            "body": bodies,
            "created_at": created.dt.floor("s").to_numpy(),
        }
    ).sort_values("created_at", kind="stable", ignore_index=True)
    reviews.insert(0, "review_id", [f"R{i:08d}" for i in range(1, n + 1)])
    return reviews


def _phrase(rng: np.random.Generator, bank: dict[int, tuple[str, ...]], rating: int) -> str:
    """A phrase of ``rating``'s bank, or (one time in four) of a neighbouring rating's."""
    if rng.random() < 0.25:
        rating = int(np.clip(rating + rng.choice([-1, 1]), 1, 5))
    return str(rng.choice(bank[rating]))
