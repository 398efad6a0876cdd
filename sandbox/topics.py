"""Built-in topic vocabulary of the synthetic world.

Each topic: (slug, display_name, parent_slug, keywords). The first keyword doubles as the
topic's hashtag, so generated text carries a machine-recoverable topic signal.
"""

import pandas as pd

TOPICS: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("technology", "Technology", None, ("tech", "gadgets", "innovation")),
    ("ai", "Artificial Intelligence", "technology", ("ai", "machinelearning", "llm")),
    ("python", "Python", "technology", ("python", "pandas", "pytest")),
    ("data-engineering", "Data Engineering", "technology", ("dataengineering", "dbt", "duckdb")),
    ("open-source", "Open Source", "technology", ("opensource", "foss", "github")),
    ("security", "Cyber Security", "technology", ("infosec", "privacy", "encryption")),
    ("science", "Science", None, ("science", "research", "papers")),
    ("space", "Space", "science", ("space", "nasa", "astronomy")),
    ("climate", "Climate", "science", ("climate", "renewables", "netzero")),
    ("biology", "Biology", "science", ("biology", "genomics", "evolution")),
    ("health", "Health", "science", ("health", "medicine", "nutrition")),
    ("culture", "Culture", None, ("culture", "arts", "criticism")),
    ("music", "Music", "culture", ("music", "vinyl", "jazz")),
    ("film", "Film", "culture", ("film", "cinema", "streaming")),
    ("books", "Books", "culture", ("books", "reading", "novels")),
    ("gaming", "Gaming", "culture", ("gaming", "indiegames", "speedrun")),
    ("photography", "Photography", "culture", ("photography", "35mm", "landscape")),
    ("sports", "Sports", None, ("sports", "fixtures", "league")),
    ("football", "Football", "sports", ("football", "premierleague", "worldcup")),
    ("cycling", "Cycling", "sports", ("cycling", "tourdefrance", "gravel")),
    ("running", "Running", "sports", ("running", "marathon", "parkrun")),
    ("lifestyle", "Lifestyle", None, ("lifestyle", "wellbeing", "home")),
    ("food", "Food", "lifestyle", ("food", "recipes", "baking")),
    ("travel", "Travel", "lifestyle", ("travel", "trains", "backpacking")),
    ("fashion", "Fashion", "lifestyle", ("fashion", "thrifting", "streetwear")),
    ("gardening", "Gardening", "lifestyle", ("gardening", "houseplants", "allotment")),
    ("society", "Society", None, ("society", "community", "civics")),
    ("politics", "Politics", "society", ("politics", "elections", "policy")),
    ("economics", "Economics", "society", ("economics", "inflation", "markets")),
    ("education", "Education", "society", ("education", "teaching", "edtech")),
)

TOPIC_SLUGS: tuple[str, ...] = tuple(t[0] for t in TOPICS)
HASHTAGS: tuple[str, ...] = tuple(t[3][0] for t in TOPICS)


def topics_frame() -> pd.DataFrame:
    """The vocabulary as a frame: slug, display_name, parent_slug, keywords (list)."""
    return pd.DataFrame(
        {
            "slug": [t[0] for t in TOPICS],
            "display_name": [t[1] for t in TOPICS],
            "parent_slug": [t[2] for t in TOPICS],
            "keywords": [list(t[3]) for t in TOPICS],
        }
    )
