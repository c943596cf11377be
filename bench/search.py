"""Benchmark of the hub's search engine on a registry of generated servables.

Fills a SQLite registry with ``--count`` generated versions (default 100,000;
1,000,000 works, slowly), then runs four kinds of query many times each and
prints their latency (p50 / p99) with the number of matches, plus the size of
the database on disk::

    python bench/search.py                      # 100,000 versions in a temporary folder
    python bench/search.py --count 1000000 --db /tmp/registry.db
    python bench/search.py --db /tmp/registry.db --reuse   # query an existing registry

The corpus imitates a busy hub: ~40% of servables have several versions, 10% of
versions are private to a user or a group, titles and abstracts draw words from a
Zipf-distributed scientific vocabulary, 1-3 domains and 1-4 authors each.
Queries are drawn at random (seeded) from the same vocabulary, so they hit
different posting lists instead of one cached answer. The caller is a user with
a group, so visibility is checked as for a logged-in user.

Kinds of query: ``plain`` (two topic words, ranked), ``fielded`` (the manual's
``servable.type:"..." AND dlhub.domains:"..."``), ``range`` (a year of
``dlhub.publication_date`` with ISO dates), ``helper`` (a query written by
DLHubSearchHelper: two domains OR-ed, a type, a date range), and ``broad`` (two of
the 20 most frequent words: the worst case of ranking, reported for information).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, text

from dlhub_sdk.models._registry import SHIMS
from dlhub_sdk.utils.search import DLHubSearchHelper
from dlhub_server.search import create_search_schema, index_version, search

TOPIC_WORDS = [
    "learning",
    "deep",
    "neural",
    "network",
    "graph",
    "convolutional",
    "transformer",
    "model",
    "prediction",
    "property",
    "band",
    "gap",
    "energy",
    "formation",
    "crystal",
    "structure",
    "material",
    "molecule",
    "molecular",
    "polymer",
    "protein",
    "chemistry",
    "physics",
    "biology",
    "dynamics",
    "simulation",
    "density",
    "functional",
    "theory",
    "quantum",
    "catalyst",
    "catalysis",
    "battery",
    "electrolyte",
    "electrode",
    "lithium",
    "sodium",
    "perovskite",
    "oxide",
    "alloy",
    "metal",
    "organic",
    "framework",
    "zeolite",
    "adsorption",
    "diffusion",
    "thermal",
    "conductivity",
    "elastic",
    "modulus",
    "strength",
    "fracture",
    "fatigue",
    "corrosion",
    "microstructure",
    "grain",
    "boundary",
    "phase",
    "diagram",
    "stability",
    "solubility",
    "toxicity",
    "drug",
    "discovery",
    "binding",
    "affinity",
    "docking",
    "sequence",
    "genome",
    "expression",
    "cell",
    "image",
    "segmentation",
    "classification",
    "regression",
    "random",
    "forest",
    "gradient",
    "boosting",
    "kernel",
    "ridge",
    "gaussian",
    "process",
    "bayesian",
    "optimization",
    "active",
    "uncertainty",
    "ensemble",
    "surrogate",
    "inverse",
    "design",
    "generative",
    "autoencoder",
    "variational",
    "adversarial",
    "reinforcement",
    "spectroscopy",
    "spectrum",
    "infrared",
    "raman",
    "xray",
    "diffraction",
    "microscopy",
    "tomography",
    "scattering",
    "neutron",
    "synchrotron",
    "beamline",
    "detector",
    "climate",
    "weather",
    "precipitation",
    "ocean",
    "atmosphere",
    "satellite",
    "remote",
    "sensing",
    "earthquake",
    "seismic",
    "fluid",
    "turbulence",
    "combustion",
    "plasma",
    "fusion",
    "reactor",
    "nuclear",
    "particle",
    "collider",
    "jet",
    "calorimeter",
    "tracking",
    "astronomy",
    "galaxy",
    "cosmology",
    "supernova",
    "exoplanet",
    "telescope",
    "light",
    "curve",
    "redshift",
    "photometric",
    "solar",
    "cell",
    "photovoltaic",
    "semiconductor",
    "dopant",
    "defect",
    "vacancy",
    "interstitial",
    "dislocation",
    "interface",
    "surface",
    "nanoparticle",
    "cluster",
    "amorphous",
    "glass",
    "liquid",
    "viscosity",
    "melting",
    "point",
    "boiling",
    "pressure",
    "temperature",
    "entropy",
    "enthalpy",
    "free",
    "potential",
    "interatomic",
    "force",
    "field",
    "embedding",
    "descriptor",
    "fingerprint",
    "feature",
    "selection",
    "transfer",
    "multitask",
    "benchmark",
    "dataset",
    "database",
    "screening",
    "high",
    "throughput",
    "workflow",
]

DOMAINS = [
    "chemistry",
    "materials science",
    "physics",
    "biology",
    "genomics",
    "climate science",
    "astronomy",
    "high energy physics",
    "neuroscience",
    "medicine",
    "geoscience",
    "engineering",
    "computer science",
    "nuclear physics",
    "catalysis",
    "energy storage",
    "microscopy",
    "crystallography",
    "polymer science",
    "plasma physics",
]

#: (servable.type, servable.shim) of every servable type the SDK knows.
TYPES = [(servable_type, shim) for shim, servable_type in SHIMS.items()]

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "te",
    "vo",
    "xi",
    "za",
    "bri",
    "clo",
    "dra",
    "fen",
    "gol",
    "hul",
    "jin",
    "kor",
    "lum",
    "mor",
]
START_MS = int(dt.datetime(2018, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
SPAN_MS = int(7.5 * 365 * 86400 * 1000)


class Vocabulary:
    """The topic words plus a long tail of made-up words, drawn with Zipf weights."""

    def __init__(self, rng: random.Random, tail: int = 20000) -> None:
        made_up = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(tail)}
        self.words = list(dict.fromkeys(TOPIC_WORDS + sorted(made_up)))
        weights = [1.0 / (rank + 8) for rank in range(len(self.words))]
        total = sum(weights)
        self.cumulative: list[float] = []
        running = 0.0
        for weight in weights:
            running += weight / total
            self.cumulative.append(running)

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def sentence(self, rng: random.Random, low: int, high: int) -> str:
        return " ".join(self.draw(rng, rng.randint(low, high))).capitalize()


def people(rng: random.Random, count: int) -> list[str]:
    family = [
        "Ward",
        "Blaiszik",
        "Foster",
        "Chard",
        "Li",
        "Wang",
        "Müller",
        "García",
        "Nguyen",
        "Kim",
        "Okafor",
        "Smith",
        "Rossi",
        "Novák",
        "Sato",
        "Singh",
        "Cohen",
        "Silva",
        "Ivanova",
        "Dubois",
    ]
    given = ["Logan", "Ben", "Ian", "Kyle", "Wei", "Ana", "José", "Mai", "Ji-woo", "Chidi"]
    names = {
        f"{rng.choice(family)}{rng.choice(['', 'son', 'er', 'ova', 'i'])}, {rng.choice(given)}"
        for _ in range(count * 2)
    }
    return sorted(names)[:count]


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` published versions of servables, oldest first."""
    rng = random.Random(seed)
    vocabulary = Vocabulary(rng)
    authors = people(rng, 5000)
    owners = [f"user{i:05d}" for i in range(max(10, count // 50))]
    groups = [f"lab{i:03d}" for i in range(200)]
    made = 0
    servable = 0
    while made < count:
        servable += 1
        owner = rng.choice(owners)
        name = "_".join(vocabulary.draw(rng, 2)) + f"_{servable}"
        versions = 1 if rng.random() < 0.6 else rng.randint(2, 6)
        type_name, shim = rng.choice(TYPES)
        domains = sorted(set(rng.sample(DOMAINS, rng.randint(1, 3))))
        creators = rng.sample(authors, rng.randint(1, 4))
        title = vocabulary.sentence(rng, 4, 9)
        published = START_MS + rng.randrange(SPAN_MS)
        for version in range(1, versions + 1):
            if made >= count:
                return
            private = rng.random() < 0.1
            visible_to = (
                [rng.choice([f"user:{rng.choice(owners)}", f"group:{rng.choice(groups)}"])]
                if private
                else ["public"]
            )
            yield {
                "datacite": {
                    "identifier": {
                        "identifier": f"10.5555/dlhub.{servable}.{version}",
                        "identifierType": "DOI",
                    },
                    "creators": [{"creatorName": c, "affiliations": []} for c in creators],
                    "titles": [{"title": title + (f" v{version}" if version > 1 else "")}],
                    "publisher": "DLHub",
                    "publicationYear": str(
                        dt.datetime.fromtimestamp(published / 1000, dt.timezone.utc).year
                    ),
                    "resourceType": {"resourceTypeGeneral": "InteractiveResource"},
                    "descriptions": [
                        {
                            "description": vocabulary.sentence(rng, 25, 60),
                            "descriptionType": "Abstract",
                        },
                        {
                            "description": vocabulary.sentence(rng, 5, 20),
                            "descriptionType": "Methods",
                        },
                    ],
                    "relatedIdentifiers": [
                        {
                            "relatedIdentifier": f"10.{rng.randint(1000, 1200)}/j.{rng.randint(1, 99999)}",
                            "relatedIdentifierType": "DOI",
                            "relationType": "IsDescribedBy",
                        }
                    ],
                },
                "dlhub": {
                    "version": "0.10.0",
                    "domains": domains,
                    "visible_to": visible_to,
                    "name": name,
                    "files": {"model": "model.bin"},
                    "type": "servable",
                    "dependencies": {"python": {"numpy": "1.26.4"}},
                    "owner": owner,
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "shorthand_name": f"{owner}/{name}",
                    "publication_date": published,
                    "servable_version": version,
                    "file_hashes": {"model.bin": f"{rng.getrandbits(256):064x}"},
                },
                "servable": {
                    "type": type_name,
                    "shim": shim,
                    "methods": {
                        "run": {
                            "input": {
                                "type": "ndarray",
                                "shape": [None, 3],
                                "description": vocabulary.sentence(rng, 3, 8),
                            },
                            "output": {
                                "type": "float",
                                "description": vocabulary.sentence(rng, 2, 6),
                            },
                            "parameters": {},
                            "method_details": {"method_name": "predict"},
                        }
                    },
                },
            }
            made += 1
            published += rng.randrange(86400_000, 120 * 86400_000)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache
    cursor.close()


def fill(connection_factory: Callable[[], Any], count: int, batch: int = 2000) -> float:
    """Index ``count`` generated versions, in transactions of ``batch``; returns seconds."""
    started = time.perf_counter()
    documents = generate(count)
    done = 0
    while done < count:
        with connection_factory() as connection:
            for document in documents:
                index_version(connection, document)
                done += 1
                if done % batch == 0:
                    break
        rate = done / (time.perf_counter() - started)
        print(
            f"\rindexed {done:,}/{count:,} versions ({rate:,.0f}/s, "
            f"{(count - done) / rate:,.0f} s left)   ",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    return time.perf_counter() - started


def query_makers(seed: int = 11) -> dict[str, Callable[[], tuple[str, bool]]]:
    """The kinds of query measured, each drawing its terms at random (seeded)."""
    rng = random.Random(seed)

    def plain() -> tuple[str, bool]:
        # two of the 240 topic words (the most frequent words of the corpus)
        return " ".join(rng.sample(TOPIC_WORDS, 2)), False

    def fielded() -> tuple[str, bool]:
        type_name = rng.choice(TYPES)[0]
        return f'servable.type:"{type_name}" AND dlhub.domains:"{rng.choice(DOMAINS)}"', True

    def ranged() -> tuple[str, bool]:
        year = rng.randint(2018, 2024)
        return f"dlhub.publication_date:[{year}-01-01 TO {year}-12-31]", True

    def helper() -> tuple[str, bool]:
        query = DLHubSearchHelper()
        query.match_domains(rng.sample(DOMAINS, 2), match_all=False)
        query.match_term("servable.type", rng.choice(TYPES)[0])
        query.match_range("dlhub.publication_date", dt.datetime(rng.randint(2018, 2024), 1, 1), "*")
        return query.current_query(), True

    def broad() -> tuple[str, bool]:
        # two of the 20 most frequent words: tens of thousands of matches to rank
        return " ".join(rng.sample(TOPIC_WORDS[:20], 2)), False

    return {"plain": plain, "fielded": fielded, "range": ranged, "helper": helper, "broad": broad}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_queries(
    connection: Connection, runs: int, page: int
) -> list[tuple[str, float, float, float, str]]:
    rows = []
    principals = {"public", "user:user00042", "group:lab007"}
    for label, make in query_makers().items():
        timings: list[float] = []
        totals: list[int] = []
        example = ""
        for run in range(runs + 20):
            query, advanced = make()
            started = time.perf_counter()
            found = search(
                connection,
                query,
                advanced=advanced,
                principals=principals,
                limit=page,
                only_latest=True,
            )
            elapsed = (time.perf_counter() - started) * 1000
            if run >= 20:  # the first runs warm the page cache
                timings.append(elapsed)
                totals.append(found.total)
                example = example or query
        rows.append(
            (
                label,
                statistics.median(timings),
                percentile(timings, 0.99),
                statistics.median(totals),
                example,
            )
        )
    return rows


def table_sizes(connection: Connection) -> list[tuple[str, float]]:
    """MiB on disk of each part of the index (tables with their indexes)."""
    groups = {
        "full text (FTS5)": "search_text%",
        "documents (zlib JSON)": "search_documents%",
        "text values": "search_strings%",
        "numeric values": "search_numbers%",
    }
    sizes = []
    for label, pattern in groups.items():
        try:
            pages = connection.execute(
                text(
                    "SELECT sum(pgsize) FROM dbstat WHERE name IN "
                    "(SELECT name FROM sqlite_schema WHERE tbl_name LIKE :p OR name LIKE :p)"
                ),
                {"p": pattern},
            ).scalar()
        except Exception:  # SQLite built without the dbstat table
            return []
        sizes.append((label, (pages or 0) / 2**20))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="versions to index")
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="query --db as it is, do not fill")
    parser.add_argument("--runs", type=int, default=300, help="runs of each kind of query")
    parser.add_argument("--page", type=int, default=10, help="results per page")
    args = parser.parse_args(argv)

    folder = None
    if args.db is None:
        folder = tempfile.TemporaryDirectory(prefix="dlhub-bench-")
        args.db = Path(folder.name) / "registry.db"
    engine = create_engine(f"sqlite:///{args.db}")
    event.listen(engine, "connect", _sqlite_pragmas)
    if not args.reuse:
        if args.db.exists():
            sys.exit(f"{args.db} exists: remove it, or pass --reuse to query it")
        with engine.begin() as connection:
            create_search_schema(connection)
        seconds = fill(engine.begin, args.count)
        print(
            f"indexed {args.count:,} versions in {seconds:,.0f} s ({args.count / seconds:,.0f}/s)"
        )
        with engine.begin() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    with engine.connect() as connection:
        indexed = connection.execute(text("SELECT count(*) FROM search_documents")).scalar() or 0
        results = run_queries(connection, args.runs, args.page)
        parts = table_sizes(connection)
    size = sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "*"))
    print(
        f"\n{indexed:,} versions, page size {args.page}, only_latest=True, "
        f"{args.runs} runs per kind, {os.cpu_count()} CPUs"
    )
    print(f"{'query':<8} {'p50 ms':>8} {'p99 ms':>8} {'matches':>9}  example")
    for label, p50, p99, matches, example in results:
        print(f"{label:<8} {p50:>8.2f} {p99:>8.2f} {matches:>9,.0f}  {example}")
    print(f"database on disk: {size / 2**20:,.0f} MiB ({args.db})")
    for part, mib in parts:
        print(f"  {part:<28} {mib:>8,.0f} MiB")
    engine.dispose()
    if folder is not None:
        folder.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
