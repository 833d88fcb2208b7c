"""Loading the versioned stage and deadline configuration (`RUSKONTRAKT_RULES_FILE`)."""

from __future__ import annotations

from pathlib import Path

import yaml

from domain.rules import DEFAULT_RULES, Deadlines, Rules, StageDefaults


def load_rules(path: Path | None) -> Rules:
    if path is None:
        return DEFAULT_RULES
    data = yaml.safe_load(path.read_text())
    stages = {
        int(trinn): StageDefaults(trinn=int(trinn), **values) for trinn, values in data["stages"].items()
    }
    return Rules(
        version=str(data["version"]),
        stages=stages,
        deadlines=Deadlines(**data.get("deadlines", {})),
        **{
            k: data[k]
            for k in ("step_down_after_negative_tests", "max_plan_months", "min_age", "max_age")
            if k in data
        },
    )
