"""The text screener as the settings describe it (model file, thresholds, encoder)."""

from __future__ import annotations

from pathlib import Path

from scamwall.screening.encoder import encoder_for
from scamwall.screening.model import default_model, load_model
from scamwall.screening.rules import load_rules
from scamwall.screening.text import TextScreener
from scamwall.settings import Settings

__all__ = ["text_screener"]


def text_screener(
    settings: Settings,
    *,
    model_path: Path | None = None,
    rules_dir: Path | None = None,
    region: str | None = None,
) -> TextScreener:
    """A screener with the given or configured model and rules."""
    path = model_path or (Path(settings.screen_model) if settings.screen_model else None)
    model = load_model(path) if path is not None else default_model()
    encoder = encoder_for(model) if settings.screen_encoder != "off" else None
    return TextScreener(
        model,
        load_rules(rules_dir),
        warn=settings.screen_warn_threshold or model.mix.get("warn", 0.5),
        block=settings.screen_block_threshold,
        region=region or settings.default_region,
        encoder=encoder,
        encoder_budget=settings.screen_encoder_budget,
        encoder_time_share=settings.screen_encoder_time_share,
    )
