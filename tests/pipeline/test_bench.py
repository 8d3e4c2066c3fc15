"""`make bench` names the processor its seconds were measured on (docs/performance.md "Comparing machines")."""

from __future__ import annotations

from pipeline.bench import cpu_model

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 167
model name\t: Intel(R) Xeon(R) Processor

processor\t: 1
cpu family\t: 6
model\t\t: 85
model name\t: another processor
"""


def test_the_processor_is_named_with_its_family_and_model_from_the_first_block(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO)
    assert cpu_model(info) == "Intel(R) Xeon(R) Processor (family 6, model 167)"


def test_a_machine_without_cpuinfo_still_gets_a_name(tmp_path):
    assert cpu_model(tmp_path / "absent")
