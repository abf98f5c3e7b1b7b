"""REFERENCE for make bench and make soak: which reference data the server loads.

Empty: fixtures/ (the real data). "synthetic": 40 fictional countries and 1,560 routes, written by
`manage.py synthetic_reference` into the run's work folder. Anything else: a fixtures directory.
"""

import subprocess
from pathlib import Path

from bench.common import ROOT, VENV_BIN


def fixtures_for_reference(reference: str, work: Path) -> Path:
    if not reference:
        return ROOT / "fixtures"
    if reference != "synthetic":
        return Path(reference).resolve()
    output = work / "synthetic-fixtures"
    print(f"== writing the synthetic reference to {output}", flush=True)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "synthetic_reference", "--output", str(output)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return output


def first_plan_query(fixtures: Path) -> str:
    """A plan query for this reference: its first country's first credential, to its second country, inpatient."""
    import json

    countries = [row["fields"]["code"] for row in json.loads((fixtures / "countries.json").read_text())]
    credentials = json.loads((fixtures / "credentials.json").read_text())
    origin, destination = sorted(countries)[:2]
    held = next(row["fields"]["code"] for row in credentials if row["fields"]["country"] == [origin])
    return f"origin={origin}&credential={held}&setting=inpatient&years=2&destination={destination}"
