"""Licence lookups against a registry of 10,000 licences: by number and by agency name."""

import random
import statistics
import time

from sqlmodel import Session

from bot.db import get_engine, session_scope
from bot.migrate import upgrade
from bot.registry.licence_import import import_licences
from bot.registry.licences import (
    LicenceRef,
    find_by_ref,
    known_offices,
    parse_licence_numbers,
    search_by_name,
)

OFFICES = [("LHR", "Lahore"), ("KHI", "Karachi"), ("PEW", "Peshawar"), ("RWP", "Rawalpindi"),
           ("MLK", "Malakand"), ("MUL", "Multan"), ("QTA", "Quetta"), ("SKT", "Sialkot"),
           ("DGK", "Dera Ghazi Khan"), ("ISB", "Islamabad")]
WORDS = ["Al", "Noor", "Crescent", "Valley", "Sunrise", "Falcon", "Indus", "Khyber", "Ravi",
         "Chenab", "Star", "Madina", "Shaheen", "Gulf", "Green", "Horizon", "Sky", "Northern",
         "Golden", "Zam", "Pak", "Royal", "United", "Global", "Prime", "Eagle", "Lion", "Moon"]
KINDS = ["Overseas Employment Promoters", "Manpower Services", "Recruiting Agency",
         "Human Resource Consultants", "Overseas Services"]


def synthetic_list(count: int, seed: int = 1) -> tuple[str, list[tuple[int, str, str]]]:
    rng = random.Random(seed)
    lines = ["licence_no,name,proprietor,address,city,phone,status,valid_until"]
    records = []
    for index in range(count):
        office, city = OFFICES[index % len(OFFICES)]
        number = index // len(OFFICES) + 1
        name = f"{' '.join(rng.sample(WORDS, 3))} {rng.choice(KINDS)} {index}"
        status = rng.choice(["valid", "valid", "valid", "suspended", "cancelled", "expired"])
        lines.append(f"{number:04d}/{office},{name},P,A,{city},0300-{index:07d},{status},")
        records.append((number, office, name))
    return "\n".join(lines) + "\n", records


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(database_url: str, count: int = 10_000, lookups: int = 300) -> dict[str, float]:
    upgrade(database_url)
    engine = get_engine(database_url)
    text, records = synthetic_list(count)
    with session_scope(engine) as session:
        import_licences(session, text, file_name="synthetic.csv")
    rng = random.Random(2)
    by_number, by_name = [], []
    with Session(engine) as session:
        known_offices(session)  # the first call loads the cache; measure steady state
        for _ in range(lookups):
            number, office, name = rng.choice(records)
            started = time.perf_counter()
            [ref] = parse_licence_numbers(f"license {number} {office.lower()}",
                                          known_offices(session))
            assert find_by_ref(session, LicenceRef(ref.number, ref.office))
            by_number.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assert search_by_name(session, name.lower()[:-3])
            by_name.append((time.perf_counter() - started) * 1000)
    return {"licences": count,
            "lookup_number_p50_ms": round(statistics.median(by_number), 2),
            "lookup_number_p95_ms": round(percentile(by_number, 0.95), 2),
            "lookup_name_p50_ms": round(statistics.median(by_name), 2),
            "lookup_name_p95_ms": round(percentile(by_name, 0.95), 2)}
