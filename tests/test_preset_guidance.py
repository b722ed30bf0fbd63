"""Preset guidance (issue 18 point 4): what each preset is for and what it reached in docs/quality.md's table, in
`ganstudio presets` and the selector; the note a plateaued run of an outrun preset gets. The numbers come from
resources/quality_expectations.json, which benchmarks/quality.py writes from the table's rows."""
import importlib.util
import json
from pathlib import Path

import pytest

import ganstudio.presets as presets
from ganstudio.cli import main
from ganstudio.presets import PRESETS, expectation, plateau_advice

ROOT = Path(__file__).resolve().parents[1]


def _budget(fds: dict[str, dict[int, list[float]]]) -> dict:
    return {p: {str(n): {"images": n, "fd": round(sum(v) / len(v), 1), "fd_seeds": v, "steps": 100}
                for n, v in by.items()} for p, by in fds.items()}


def _table(fds: dict[str, dict[int, list[float]]], long: dict | None = None) -> dict:
    return {"machine": "test", "budgets": {"5 min": _budget(fds), "20 min": _budget(long or {})}}


@pytest.fixture
def table(monkeypatch, tmp_path):
    def use(fds, long=None):
        (tmp_path / presets.EXPECTATIONS).write_text(json.dumps(_table(fds, long)))
        monkeypatch.setattr(presets, "resource_path", lambda name: tmp_path / name)
        presets.quality_table.cache_clear()
    yield use
    presets.quality_table.cache_clear()


def test_guidance_quotes_the_nearest_measured_size_and_the_best_preset_there(table):
    table({"dcgan": {600: [60.0, 64.0], 60000: [30.0, 32.0]}, "dcgan-b64": {600: [40.0, 42.0], 60000: [35.0, 35.0]},
           "tutorial": {60000: [130.0, 134.0]}}, long={"dcgan": {60000: [12.0]}})
    assert expectation("dcgan") == ("In 5 min of training on a 2-core CPU (docs/quality.md; FD, lower is better): "
                                    "FD 62 on 600 images, 31 (12 after 20 min) on 60,000 images.")
    assert expectation("dcgan", 2000).endswith("on 600 images: FD 62; best there: dcgan-b64, FD 41.")
    assert expectation("dcgan", 30000).endswith("on 60,000 images: FD 31 (12 after 20 min).")   # the best there
    assert expectation("lsgan") == "" and PRESETS["lsgan"].guidance(600) == PRESETS["lsgan"].description
    assert PRESETS["dcgan"].guidance(100) == f"{PRESETS['dcgan'].description} {expectation('dcgan', 100)}"
    advice = plateau_advice("tutorial")            # 31 <= 0.67 x 132 on the largest size tutorial was measured on
    assert advice is not None and advice.preset == "dcgan" and "FD 31 where tutorial reached 132" in advice.note
    assert advice.command("mnist") == "ganstudio train --preset dcgan --dataset mnist"
    assert plateau_advice("dcgan-b64") is None     # 31 > 0.67 x 35: not "much further"
    assert plateau_advice("lsgan") is None         # not measured


def test_no_table_means_no_claims(table, monkeypatch):
    table({})
    assert all(p.expect == "" and p.guidance(600) == p.description for p in PRESETS.values())
    assert plateau_advice("tutorial") is None
    monkeypatch.setattr(presets, "resource_path", lambda name: Path("/nonexistent") / name)
    presets.quality_table.cache_clear()
    assert presets.quality_table() == {} and expectation("dcgan") == ""


def test_presets_command_lists_purpose_and_measured_expectations(table, capsys):
    table({"dcgan": {600: [60.0, 64.0]}})
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    width = max(map(len, PRESETS))
    for p in PRESETS.values():
        assert f"{p.name:<{width}}  {p.description}" in out
    assert f"{'':<{width}}  {expectation('dcgan')}" in out and out.count("In 5 min") == 1
    assert list(PRESETS)[:3] == ["tutorial", "dcgan-b64", "dcgan"]   # the recommendation right after tutorial


def test_the_shipped_table_is_the_one_the_benchmark_wrote(tmp_path, monkeypatch):
    """resources/quality_expectations.json is exactly what benchmarks/quality.py derives from the rows behind
    docs/quality.md: nobody edits the guidance's numbers by hand."""
    spec = importlib.util.spec_from_file_location("quality_bench", ROOT / "benchmarks" / "quality.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = [json.loads(line) for line in (ROOT / "docs" / "quality" / "results.jsonl").read_text().splitlines()
            if line.strip()]
    monkeypatch.setattr(bench, "EXPECT", tmp_path / presets.EXPECTATIONS)
    bench.write_expectations(rows)
    shipped = json.loads((ROOT / "resources" / presets.EXPECTATIONS).read_text())
    assert json.loads((tmp_path / presets.EXPECTATIONS).read_text()) == shipped
    doc = (ROOT / "docs" / "quality.md").read_text()
    for by_preset in shipped["budgets"].values():
        for rows_ in by_preset.values():
            for r in rows_.values():
                assert all(f"| {fd:.1f} |" in doc for fd in r["fd_seeds"])   # every seed's FD is a row of the table
