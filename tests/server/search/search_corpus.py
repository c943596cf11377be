"""A generated registry of a few hundred published versions, and what each query should find.

Documents start as ``to_dict()`` of SDK models, then get the hub's fields (owner,
id, shorthand name, publication date, version, file hashes, visibility), as the
hub publishes them. The corpus is seeded, so the tests are repeatable, and
varied: six servable types, domains and authors with accents and CJK, DOIs and
related DOIs, several versions per servable, private versions for users and
groups (some servables keep a public older version under a private newest one),
numbers, booleans and dates.

The *oracle* below says, with plain Python over the documents, which versions a
query must return: the expected answers never come from the engine under test.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_server.search.analysis import fold, parse_date, parse_number, words
from dlhub_server.search.indexer import analyze_document, leaves

Document = dict[str, Any]
Predicate = Callable[[Document], bool]

AUTHORS = [
    "Ward, Logan",
    "Blaiszik, Ben",
    "Foster, Ian",
    "Chard, Kyle",
    "Müller, Jürgen",
    "García, José",
    "王, 伟",
    "Nguyễn, An",
    "Smith, Jane",
    "Okafor, Chidi",
]
DOMAINS = ["chemistry", "materials science", "physics", "biology", "astronomy", "química"]
TYPES = [
    ("Keras Model", "keras.KerasServable"),
    ("Torch Model", "torch.TorchServable"),
    ("TensorFlow Model", "tensorflow.TensorFlowServable"),
    ("Scikit-learn estimator", "sklearn.ScikitLearnServable"),
    ("Python static method", "python.PythonStaticMethodServable"),
    ("Python class method", "python.PythonClassMethodServable"),
]
OWNERS = ["alice", "bob", "carol", "dave", "erin"]
TOPICS = [
    "crystal",
    "polymer",
    "protein",
    "galaxy",
    "solvent",
    "catalyst",
    "battery",
    "enzyme",
    "alloy",
    "spectrum",
    "molecule",
    "lattice",
]
FILLER = ["fast", "robust", "general", "simple", "accurate", "small", "large", "hybrid"]
START = dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc)


def epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _base_document(rng: random.Random, title: str, abstract: str) -> Document:
    model = PythonStaticMethodModel.create_model(module="corpus_models", method="predict")
    model.set_title(title).set_name("placeholder").set_abstract(abstract)
    model.set_methods(f"Trained with the {rng.choice(FILLER)} {rng.choice(TOPICS)} workflow")
    model.set_inputs("ndarray", f"{rng.choice(TOPICS)} descriptors", shape=[None, 4])
    model.set_outputs("float", f"predicted {rng.choice(TOPICS)} energy")
    return model.to_dict()


def _publish(
    document: Document,
    *,
    owner: str,
    name: str,
    version: int,
    published: dt.datetime,
    visible_to: list[str],
    servable_type: tuple[str, str],
) -> Document:
    published_doc = copy.deepcopy(document)
    dlhub = published_doc["dlhub"]
    dlhub.update(
        owner=owner,
        name=name,
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{owner}/{name}/{version}")),
        shorthand_name=f"{owner}/{name}",
        publication_date=epoch_ms(published),
        servable_version=version,
        visible_to=visible_to,
        file_hashes={"model.bin": hashlib.sha256(f"{owner}/{name}/{version}".encode()).hexdigest()},
    )
    published_doc["servable"]["type"], published_doc["servable"]["shim"] = servable_type
    return published_doc


def generate() -> list[Document]:
    """The corpus: ~300 versions of 180 servables, plus a few documents tests name."""
    rng = random.Random(20240601)
    documents: list[Document] = []
    for number in range(180):
        owner = OWNERS[number % len(OWNERS)]
        topic = TOPICS[number % len(TOPICS)]
        name = f"{topic}_model_{number}"
        servable_type = TYPES[number % len(TYPES)]
        title = f"{rng.choice(FILLER).capitalize()} {topic} {rng.choice(FILLER)} predictor"
        abstract = " ".join(rng.choice(TOPICS + FILLER) for _ in range(20))
        base = _base_document(rng, title, abstract)
        base["dlhub"]["domains"] = sorted(set(rng.sample(DOMAINS, rng.randint(1, 2))))
        base["datacite"]["creators"] = [
            {"creatorName": author} for author in rng.sample(AUTHORS, rng.randint(1, 3))
        ]
        if number % 3 == 0:
            base["datacite"]["identifier"] = {
                "identifier": f"10.5555/dlhub.{number}",
                "identifierType": "DOI",
            }
        if number % 4 == 0:
            base["datacite"]["relatedIdentifiers"] = [
                {
                    "relatedIdentifier": f"10.1021/acs.jpc.{number}",
                    "relatedIdentifierType": "DOI",
                    "relationType": "IsDescribedBy",
                }
            ]
        if number % 5 != 0:
            base["servable"]["options"] = {
                "epochs": 10 * (number % 7 + 1),
                "learning_rate": round(0.001 * (number % 9 + 1), 4),
                "gpu": number % 2 == 0,
            }
        if number % 6 == 0:
            base["servable"]["model_type"] = "Deep neural network"
        versions = 1 + (number % 3 == 0) + (number % 5 == 0) + (number % 11 == 0)
        published = START + dt.timedelta(days=number * 7)
        for version in range(1, versions + 1):
            visible_to = ["public"]
            if number % 13 == 0:
                visible_to = [f"user:{OWNERS[(number + 1) % len(OWNERS)]}"]
            elif number % 17 == 0:
                visible_to = ["group:lab"]
            elif number % 10 == 3 and version == versions and versions > 1:
                visible_to = ["group:consortium"]  # the newest is private, older are public
            document = copy.deepcopy(base)
            if version > 1:
                document["datacite"]["titles"][0]["title"] += f" v{version}"
            documents.append(
                _publish(
                    document,
                    owner=owner,
                    name=name,
                    version=version,
                    published=published,
                    visible_to=visible_to,
                    servable_type=servable_type,
                )
            )
            published += dt.timedelta(days=30)
    documents.extend(_named_documents(rng))
    return documents


def _named_documents(rng: random.Random) -> Iterator[Document]:
    """Documents some tests look for by name."""

    def make(name: str, title: str, abstract: str, **dlhub: Any) -> Document:
        document = _base_document(rng, title, abstract)
        document["dlhub"]["domains"] = dlhub.pop("domains", ["materials science"])
        return _publish(
            document,
            owner=dlhub.pop("owner", "ranker"),
            name=name,
            version=1,
            published=dlhub.pop("published", START + dt.timedelta(days=2000)),
            visible_to=dlhub.pop("visible_to", ["public"]),
            servable_type=dlhub.pop("servable_type", TYPES[0]),
        )

    # ranking: the words in a title count more than in an abstract
    yield make("band_gap_title", "Band gap regression", "A model of semiconductors.")
    yield make(
        "band_gap_abstract",
        "Semiconductor screening",
        "Screens band gap values; the band gap is learned from a band gap database.",
    )
    # unicode text
    yield make(
        "unicode_model",
        "Über-Netz für Ärzte: 中文模型 Модель",
        "Prédiction de l'énergie ✓ naïve café",
        domains=["química", "физика"],
    )
    # a value without letters or digits, and characters Lucene treats as operators
    document = make("symbols", "C++ (beta) model: a/b test", "Uses AND, OR and NOT as words.")
    document["servable"]["options"] = {"marker": "+", "flag": True}
    yield document


# --- the oracle ----------------------------------------------------------------------


def values(document: Document, path: str) -> list[Any]:
    """Every leaf value of a document at a dotted path (array positions ignored)."""
    return [value for leaf, value in leaves(document) if leaf == path]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def has(path: str, text: str) -> Predicate:
    """``path:"text"``: a value holds the words of ``text`` in sequence (or equals it)."""
    wanted = words(text)
    number = parse_number(text)

    def check(document: Document) -> bool:
        for value in values(document, path):
            if isinstance(value, bool):
                if wanted == [str(value).lower()]:
                    return True
            elif isinstance(value, (int, float)):
                if number is not None and value == number:
                    return True
            elif (
                (wanted and _contains(words(str(value)), wanted))
                or (not wanted and fold(str(value)) == fold(text))
                or (number is not None and parse_number(str(value)) == number)
            ):
                return True
        return False

    return check


def text_has(text: str) -> Predicate:
    """A bare term or phrase: its words in sequence in one value of the full text."""
    wanted = words(text)

    def check(document: Document) -> bool:
        columns = analyze_document(document).text.values()
        return any(_contains(list(value), wanted) for column in columns for value in column)

    return check


def between(path: str, low: float | None, high: float | None, inclusive: bool = True) -> Predicate:
    """A numeric value (numbers, numeric strings, ISO dates in ms) lies in a range."""

    def number_of(value: Any) -> float | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            number = parse_number(value)
            if number is not None:
                return number
            span = parse_date(value)
            return None if span is None else span.start
        return None

    def check(document: Document) -> bool:
        for value in values(document, path):
            number = number_of(value)
            if number is None:
                continue
            above = low is None or (number >= low if inclusive else number > low)
            below = high is None or (number <= high if inclusive else number < high)
            if above and below:
                return True
        return False

    return check


def exists(path: str) -> Predicate:
    return lambda document: any(
        leaf == path or leaf.startswith(path + ".") for leaf, _ in leaves(document)
    )


def all_of(*predicates: Predicate) -> Predicate:
    return lambda document: all(p(document) for p in predicates)


def any_of(*predicates: Predicate) -> Predicate:
    return lambda document: any(p(document) for p in predicates)


def not_(predicate: Predicate) -> Predicate:
    return lambda document: not predicate(document)


def visible(document: Document, principals: Iterable[str]) -> bool:
    dlhub = document["dlhub"]
    allowed = set(dlhub["visible_to"]) | {f"user:{dlhub['owner']}"}
    return not allowed.isdisjoint(set(principals) | {"public"})


def expected_ids(
    documents: list[Document],
    predicate: Predicate,
    principals: Iterable[str] = ("public",),
    only_latest: bool = True,
) -> set[str]:
    """The ids of the versions a query must return, by the rules of the engine's docstring."""
    principals = set(principals)
    seen = [d for d in documents if visible(d, principals)]
    if only_latest:
        newest: dict[tuple[str, str], Document] = {}
        for document in seen:
            key = (document["dlhub"]["owner"], document["dlhub"]["name"])
            current = newest.get(key)
            if (
                current is None
                or document["dlhub"]["servable_version"] > current["dlhub"]["servable_version"]
            ):
                newest[key] = document
        seen = list(newest.values())
    return {d["dlhub"]["id"] for d in seen if predicate(d)}


def ids(results: Iterable[Document]) -> list[str]:
    return [d["dlhub"]["id"] for d in results]
