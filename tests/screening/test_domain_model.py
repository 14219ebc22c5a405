"""The lexical domain model: training on lists of names, the model file, the shipped model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scamwall.errors import InvalidInput, InvalidRecord, NotFound
from scamwall.screening.domain_model import DomainModel, DomainPrediction, split_host
from scamwall.screening.domain_training import (
    evaluate_domain_model,
    load_labelled_names,
    render_domain_card,
    threshold_at_fpr,
    train_domain_model,
)

_WORDS = ["news", "city", "green", "book", "open", "river", "smart", "daily", "metro", "north"]
_ENDS = ["times", "post", "hub", "lab", "works", "press", "guide", "house", "point", "garden"]
_BRANDS = ["paypal", "apple", "amazon", "netflix", "kbank", "icbc"]


def _write_lists(folder: Path) -> Path:
    """Small lists in the layout of the shared data, each list with a shape of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    tlds = ["com", "org", "net"]
    benign = [f"{a}{b}.{tlds[i % 3]}" for i, (a, b) in enumerate(_pairs())]
    scam = [f"cheap-{a}-{b}-outlet.shop" for a, b in _pairs()[:60]]
    phishing = [f"{brand}-login-verify-{i}.xyz" for i in range(12) for brand in _BRANDS]
    phishing += [f"secure.{brand}.com-account-{i}.info" for i in range(4) for brand in _BRANDS]
    gambling = [f"bet{n}.vip" for n in range(100, 150)] + [f"tyc{n}.com" for n in range(40)]
    for name, names in [
        ("benign_top", benign),
        ("scam", scam),
        ("phishing", phishing),
        ("gambling", gambling),
    ]:
        (folder / f"{name}.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return folder


def _pairs() -> list[tuple[str, str]]:
    return [(a, b) for a in _WORDS for b in _ENDS]


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_lists(tmp_path_factory.mktemp("domains"))


@pytest.fixture(scope="module")
def trained(lists: Path) -> DomainModel:
    model, _ = train_domain_model(lists)
    return model


def test_training_is_deterministic(trained: DomainModel, lists: Path, tmp_path: Path) -> None:
    again, _ = train_domain_model(lists)
    trained.save(tmp_path / "one.npz")
    again.save(tmp_path / "two.npz")
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    assert re.fullmatch(r"domain-\d{8}-[0-9a-f]{10}", trained.version)


def test_the_version_follows_the_data(trained: DomainModel, tmp_path: Path) -> None:
    changed = _write_lists(tmp_path / "changed")
    with (changed / "gambling.txt").open("a", encoding="utf-8") as handle:
        handle.write("casino777.vip\n")
    more_data, _ = train_domain_model(changed)
    assert more_data.version != trained.version


def test_save_and_load_give_the_same_model(trained: DomainModel, tmp_path: Path) -> None:
    path = tmp_path / "domain.npz"
    trained.save(path)
    loaded = DomainModel.load(path)
    names = ["bet123.vip", "northpost.org", "pay.bet123.vip", "paypal-login-verify-3.xyz"]
    assert loaded.version == trained.version
    assert loaded.threshold == trained.threshold
    assert loaded.card == trained.card
    assert loaded.predict(names) == trained.predict(names)


def test_a_trained_model_names_the_kind_of_site(trained: DomainModel) -> None:
    names = ["bet777.vip", "amazon-login-verify-40.xyz", "cheap-city-house-outlet.shop"]
    predictions = trained.predict([*names, "greenhub.org", "riverpress.net"])
    assert [p.category for p in predictions] == [
        "gambling",
        "phishing",
        "scam",
        "benign",
        "benign",
    ]
    assert all(isinstance(p, DomainPrediction) and 0 <= p.score <= 1 for p in predictions)
    assert trained.predict([]) == []


def test_the_threshold_was_chosen_on_benign_development_names(
    trained: DomainModel, lists: Path
) -> None:
    benign_dev = [
        i.name for i in load_labelled_names(lists) if i.label == "benign" and i.split == "dev"
    ]
    assert benign_dev
    flagged = (trained.scores(benign_dev) >= trained.threshold).mean()
    assert flagged <= 0.0075
    assert 0 < trained.threshold < 1


def test_evaluation_reports_every_list(trained: DomainModel, lists: Path) -> None:
    report = evaluate_domain_model(trained, lists, split="all")
    assert report["benign"]["n"] == 100
    assert report["scam"]["n"] == 60
    assert report["gambling"]["n"] == 90
    for name in ("scam", "phishing", "gambling"):
        row = report[name]
        assert set(row) >= {
            "n",
            "recall",
            "fpr",
            "recall_at_fpr_1pct",
            "threshold_at_fpr_1pct",
            "category_right",
            "bare",
            "on_benign_domain",
        }
        assert 0 <= row["fpr"] <= 1
        assert row["recall_at_fpr_1pct"] >= 0.9  # lists this distinct are learnt
        assert row["bare"]["recall_at_fpr_1pct"] >= 0.9
    # the phishing list's "secure.<brand>.com-account-<i>.info" hosts have a label in front
    assert report["phishing"]["fronted"]["n"] == 24
    assert report["phishing"]["bare"]["n"] == 72
    with pytest.raises(InvalidRecord):
        evaluate_domain_model(trained, lists, split="validation")


def test_the_card_names_sources_figures_and_rebuild_commands(trained: DomainModel) -> None:
    card = render_domain_card(trained.card)
    assert trained.version in card
    assert "Tranco" in card
    assert "MIT" in card
    assert "| gambling |" in card
    assert "scamwall model train-domains --data ../shared/data/domains --out FILE" in card


def test_names_the_allowlist_protects_are_not_trained_as_bad(tmp_path: Path) -> None:
    folder = _write_lists(tmp_path / "lists")
    with (folder / "phishing.txt").open("a", encoding="utf-8") as handle:
        handle.write("docs.google.com\nkasikornbank.com\n")
    names = {i.name for i in load_labelled_names(folder)}
    assert "docs.google.com" not in names
    assert "kasikornbank.com" not in names


def test_a_label_in_front_changes_nothing(trained: DomainModel) -> None:
    """Only the registered domain is read: the top-sites list names no subdomains, so a model
    that read the labels in front would learn that any of them is bad."""
    bare = ["greenhub.org", "bet777.vip", "riverpress.net"]
    fronted = [
        f"{front}.{name}" for front, name in zip(("careers", "m", "intranet"), bare, strict=True)
    ]
    assert trained.scores(fronted).tolist() == trained.scores(bare).tolist()


def test_bad_hosts_on_a_benign_domain_are_not_learnt_but_counted(tmp_path: Path) -> None:
    folder = _write_lists(tmp_path / "lists")
    platform = [f"shop{i}.greenhub.org" for i in range(200)]
    with (folder / "phishing.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(platform) + "\n")
    model, _ = train_domain_model(folder)
    assert model.predict(["greenhub.org"])[0].category == "benign"
    report = evaluate_domain_model(model, folder, split="all")
    assert report["phishing"]["on_benign_domain"] == 200


def test_missing_or_thin_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        train_domain_model(tmp_path)
    (tmp_path / "benign_top.txt").write_text("example.com\n", encoding="utf-8")
    with pytest.raises(NotFound):
        train_domain_model(tmp_path)
    (tmp_path / "scam.txt").write_text("scam-shop.top\n", encoding="utf-8")
    with pytest.raises(InvalidRecord):
        train_domain_model(tmp_path)


def test_a_missing_or_foreign_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        DomainModel.load(tmp_path / "absent.npz")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, something=np.arange(3))
    with pytest.raises(InvalidInput):
        DomainModel.load(foreign)
    earlier = tmp_path / "earlier.npz"
    np.savez(earlier, shape=np.array([18, 16, 1, 4]), classes=np.array(["benign", "scam"]))
    with pytest.raises(InvalidInput, match=r"earlier layout.*train a new one"):
        DomainModel.load(earlier)


def test_threshold_at_fpr_flags_at_most_that_share() -> None:
    scores = np.linspace(0, 1, 200)
    threshold = threshold_at_fpr(scores, 0.01)
    assert (scores >= threshold).sum() == 2


def test_the_registered_domain_is_split_from_what_is_in_front() -> None:
    assert split_host("pay.scam.co.th") == ("scam.co.th", "pay")
    assert split_host("www.example.com") == ("example.com", "")
    assert split_host("www.mail.example.com") == ("example.com", "mail")
    assert split_host("a.b.example.org") == ("example.org", "a.b")
    # what the owner paid for: a hosting platform's user label is a label in front
    assert split_host("shop.wixsite.com") == ("wixsite.com", "shop")
    # "www.com" is a registered name; an address is all registered domain
    assert split_host("www.com") == ("www.com", "")
    assert split_host("203.0.113.9") == ("203.0.113.9", "")


# the shipped model -------------------------------------------------------------------------


def test_the_shipped_model_is_loaded_once_and_versioned() -> None:
    model = DomainModel.load()
    assert DomainModel.load() is model
    assert re.fullmatch(r"domain-\d{8}-[0-9a-f]{10}", model.version)
    assert 0.5 < model.threshold < 1
    assert model.classes == ("benign", "scam", "phishing", "gambling")


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("paypal.com.secure-login-verify.xyz", "phishing"),
        ("appleid-verify-account.com", "phishing"),
        ("w88thai.net", "gambling"),
        ("188bet-vn.top", "gambling"),
        ("pay.w88thai.net", "gambling"),
        ("cheap-rayban-outlet-sale.shop", "scam"),
        ("google.com", "benign"),
        ("wikipedia.org", "benign"),
        ("mail.google.com", "benign"),
        ("docs.python.org", "benign"),
        ("pay.kasikornbank.com", "benign"),
        ("www.bbc.co.uk", "benign"),
    ],
)
def test_the_shipped_model_on_typical_names(name: str, category: str) -> None:
    (prediction,) = DomainModel.load().predict([name])
    assert prediction.category == category


def test_the_registered_domain_decides_not_the_label_in_front() -> None:
    model = DomainModel.load()
    fronted = ["pay.w88thai.net", "careers.wikipedia.org", "intranet.heart.org"]
    bare = ["w88thai.net", "wikipedia.org", "heart.org"]
    assert model.scores(fronted).tolist() == model.scores(bare).tolist()
    gambling, benign, other = model.scores(fronted)
    assert gambling >= model.threshold > max(benign, other)


def test_the_shipped_model_on_the_test_split_of_the_shared_data(shared_data: Path) -> None:
    """Floors a little under the figures in the model card: a change that loses quality fails."""
    report = evaluate_domain_model(DomainModel.load(), shared_data / "domains")
    assert report["benign"]["fpr"] <= 0.01
    assert report["scam"]["recall_at_fpr_1pct"] >= 0.27
    assert report["phishing"]["recall_at_fpr_1pct"] >= 0.17
    assert report["gambling"]["recall_at_fpr_1pct"] >= 0.70
    assert report["phishing"]["bare"]["recall_at_fpr_1pct"] >= 0.18
    assert report["gambling"]["category_right"] >= 0.97
