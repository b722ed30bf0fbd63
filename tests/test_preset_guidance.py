"""Preset guidance (issue 18 point 4): what each preset is for and what it reached in docs/quality.md, in
`ganstudio presets`; the note a plateaued `tutorial` run gets."""
import re
from pathlib import Path

from ganstudio.cli import main
from ganstudio.presets import PRESETS, plateau_advice

DOC = Path(__file__).resolve().parents[1] / "docs" / "quality.md"


def test_presets_lists_purpose_and_measured_expectations(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for p in PRESETS.values():
        assert f"{p.name:<{max(map(len, PRESETS))}}  {p.description}" in out
        if p.expect:
            assert p.expect in out
    measured = [p for p in PRESETS.values() if p.expect]
    assert {"tutorial", "dcgan", "dcgan-b64"} <= {p.name for p in measured}
    assert list(PRESETS)[:3] == ["tutorial", "dcgan-b64", "dcgan"]   # the recommendation right after tutorial
    doc = DOC.read_text()
    for p in measured:   # every score quoted is one the table holds
        fds = re.findall(r"\b(\d+\.\d)\b", p.expect)
        assert fds and all(f"| {fd} |" in doc for fd in fds), (p.name, fds)


def test_a_plateaued_tutorial_run_is_pointed_to_dcgan():
    advice = plateau_advice("tutorial")
    assert advice is not None and advice.preset == "dcgan" and advice.preset in PRESETS
    assert "FD" in advice.note and advice.command("mnist") == "ganstudio train --preset dcgan --dataset mnist"
    assert plateau_advice("dcgan") is None
